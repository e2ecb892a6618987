// Dense GEMM: reference and dispatcher (register tiles for few rows, panel GEMM otherwise).
#include "kernels/gemm_dense.h"
#include "kernels/gemm_wo.h"
#include "kernels/simd_decl.h"

#include <algorithm>

namespace qb::kernels {
namespace {


} // namespace

void gemm_dense_check(const char* fn, const DenseGemmArgs& a)
{
    QB_KCHECK(a.M > 0 && a.N > 0 && a.K > 0, fn, "M, N, K must be > 0");
    QB_KCHECK(a.x && a.w && a.y, fn, "null pointer");
    QB_KCHECK(a.ldx >= a.K && a.ldw >= a.K && a.ldy >= a.N, fn, "leading dimension too small");
}

void gemm_dense_ref(const DenseGemmArgs& a)
{
    gemm_dense_check("gemm_dense_ref", a);
    for (int64_t m = 0; m < a.M; ++m)
        for (int64_t n = 0; n < a.N; ++n) {
            float s = 0.0f;
            for (int64_t k = 0; k < a.K; ++k) s = s + load_float(a.x, a.x_type, m * a.ldx + k) * load_float(a.w, a.w_type, n * a.ldw + k);
            if (a.bias) s = s + a.bias[n];
            if (a.y_type == DType::F32) static_cast<float*>(a.y)[m * a.ldy + n] = s;
            else static_cast<uint16_t*>(a.y)[m * a.ldy + n] = bf16_from_float(s);
        }
}

// Measured on a 2-core Zen 3 (bench gemm, bf16 W, 4864 x 896 and 896 x 4864): the tiles read W once
// per 4 rows, the panel GEMM decodes W once per call; the panel wins from M = 5 on.
int64_t gemm_dense_gemv_rows() { return 4; }

void gemm_dense(const DenseGemmArgs& a)
{
    gemm_dense_check("gemm_dense", a);
    const int threads = a.threads > 0 ? a.threads : num_threads();
    if (isa() == Isa::Scalar) {
#pragma omp parallel for schedule(static) num_threads(threads) if (a.M * a.N > 64)
        for (int64_t n0 = 0; n0 < a.N; n0 += 16) {
            DenseGemmArgs r = a;
            r.N = std::min<int64_t>(16, a.N - n0);
            const size_t ws = a.w_type == DType::F32 ? 4 : 2, ys = a.y_type == DType::F32 ? 4 : 2;
            r.w = static_cast<const char*>(a.w) + size_t(n0 * a.ldw) * ws;
            r.y = static_cast<char*>(a.y) + size_t(n0) * ys;
            if (a.bias) r.bias = a.bias + n0;
            gemm_dense_ref(r);
        }
        return;
    }
    if (a.M <= gemm_dense_gemv_rows()) {
        constexpr int64_t NB = 64;
        const int64_t ntasks = ceil_div(a.N, NB);
        const Isa level = isa();
        const bool dot = level >= Isa::Avx512Bf16;
        const int nt = gemv_threads(a.N * a.K * (a.w_type == DType::F32 ? 4 : 2), threads);
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int64_t t = 0; t < ntasks; ++t) {
            const int64_t n0 = t * NB, n1 = std::min(a.N, t * NB + NB);
            if (level >= Isa::Avx512) avx512::gemm_dense_gemv(a, n0, n1, dot);
            else avx2::gemm_dense_block(a, 0, a.M, n0, n1);
        }
        return;
    }
    if (isa() >= Isa::Avx512 && a.w_type == DType::F32) {
        // fp32 W on AVX-512: 6 x 64 zmm tiles on transposed 128-column panels (the weight-only
        // GEMM's engine, panels packed instead of decoded); row blocks as there.
        const int64_t NC = avx512::gemm_wo_panel_cols(), ntasks = ceil_div(a.N, NC);
        const int64_t MC = ceil_div(a.M, gemm_wo_row_tasks(a.M, ntasks, threads)), mtasks = ceil_div(a.M, MC);
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
        for (int64_t t = 0; t < ntasks; ++t)
            for (int64_t mt = 0; mt < mtasks; ++mt)
                avx512::gemm_dense_f32_task(a, mt * MC, std::min(a.M, mt * MC + MC), t * NC);
        return;
    }
    const avx2::PanelWeights w{a.w, a.w_type == DType::BF16 ? avx2::PanelW::BF16 : avx2::PanelW::F32, a.ldw, nullptr, Gran::Row, 0};
    avx2::panel_gemm(a.M, a.N, a.K, a.x, a.x_type == DType::BF16, a.ldx, w, a.bias, a.y, a.y_type == DType::BF16, a.ldy, threads);
}

} // namespace qb::kernels
