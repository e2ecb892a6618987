// Weight-only GEMM: reference and dispatcher (GEMV / panel GEMM / AVX2 tiles, see gemm_wo.h).
#include "kernels/gemm_wo.h"
#include "kernels/fp8.h"
#include "kernels/simd_decl.h"

#include <algorithm>

namespace qb::kernels {
namespace {

inline void store(const WoGemmArgs& a, int64_t i, float v)
{
    if (a.y_type == DType::F32) static_cast<float*>(a.y)[i] = v;
    else static_cast<uint16_t*>(a.y)[i] = bf16_from_float(v);
}

} // namespace

void gemm_wo_check(const char* fn, const WoGemmArgs& a)
{
    QB_KCHECK(a.M > 0 && a.N > 0 && a.K > 0, fn, "M, N, K must be > 0");
    QB_KCHECK(a.x && a.w && a.w_scales && a.y, fn, "null pointer");
    QB_KCHECK(a.ldx >= a.K && a.ldw >= a.K && a.ldy >= a.N, fn, "leading dimension too small");
    QB_KCHECK(a.w_gran != Gran::Group || a.group > 0, fn, "group must be > 0");
}

void gemm_wo_ref(const WoGemmArgs& a)
{
    gemm_wo_check("gemm_wo_ref", a);
    const int64_t G = a.w_gran == Gran::Group && a.group < a.K ? a.group : a.K, ng = ceil_div(a.K, G);
    const float* t8 = fp8e4m3_table();
    for (int64_t m = 0; m < a.M; ++m)
        for (int64_t n = 0; n < a.N; ++n) {
            float s = 0.0f;
            for (int64_t g = 0; g < ng; ++g) {
                float p = 0.0f;
                for (int64_t k = g * G, k1 = std::min(a.K, k + G); k < k1; ++k) {
                    const float xv = a.x_type == DType::F32 ? static_cast<const float*>(a.x)[m * a.ldx + k]
                                                            : bf16_to_float(static_cast<const uint16_t*>(a.x)[m * a.ldx + k]);
                    const uint8_t c = static_cast<const uint8_t*>(a.w)[n * a.ldw + k];
                    const float wv = a.w_type == QType::INT8 ? float(int8_t(c)) : t8[c];
                    p = p + xv * wv;
                }
                const float sw = a.w_gran == Gran::Tensor ? a.w_scales[0] : a.w_scales[n * ng + g];
                s = s + p * sw;
            }
            if (a.bias) s = s + a.bias[n];
            store(a, m * a.ldy + n, s);
        }
}

// AVX2 (no AVX-512): up to this many rows the register-decode tiles, beyond it the panel GEMM.
// Measured on a 2-core Zen 3 (bench gemm, 8192 x 4096 and 4864 x 896, INT8 / FP8, fp32 / bf16 X).
int64_t gemm_wo_gemv_rows() { return 4; }

// Each task of the AVX-512 GEMM decodes its panel of codes once and reuses it for its rows of X,
// so fewer, taller tasks decode less (one decode costs about as much as ~13 rows of bf16 FMAs),
// but the tasks must still split evenly over the threads: pick the number of row blocks that
// minimises (tasks per thread, rounded up) x (rows per task + 13), with at most 512 rows per task
// (its fp32 accumulators, 512 x 128, stay in L2). bench gemm, M = 512, X bf16, EPYC 2 threads,
// against libtorch bf16: 4864 x 896 0.85 -> 0.91-0.97x with 1 block instead of 4 (38 panels);
// 896 x 4864 (7 panels) must keep 2+ blocks: 1 block gave 0.84x against 0.97x with 4.
int64_t gemm_wo_row_tasks(int64_t M, int64_t panels, int threads)
{
    constexpr int64_t kMaxRows = 512, kDecodeRows = 13;
    const int64_t t = std::max(1, threads);
    int64_t best = ceil_div(M, kMaxRows), bestCost = -1;
    for (int64_t m = best; m <= std::max<int64_t>(best, ceil_div(M, 16)); ++m) {
        const int64_t cost = ceil_div(panels * m, t) * (ceil_div(M, m) + kDecodeRows);
        if (bestCost < 0 || cost < bestCost) { best = m; bestCost = cost; }
    }
    return best;
}

void gemm_wo(const WoGemmArgs& a)
{
    gemm_wo_check("gemm_wo", a);
    const Isa level = isa();
    const int threads = num_threads();
    if (level == Isa::Scalar) {
#pragma omp parallel for schedule(static) num_threads(threads) if (a.M > 1)
        for (int64_t m = 0; m < a.M; ++m) {
            WoGemmArgs r = a;
            r.M = 1;
            r.x = a.x_type == DType::F32 ? static_cast<const void*>(static_cast<const float*>(a.x) + m * a.ldx)
                                         : static_cast<const void*>(static_cast<const uint16_t*>(a.x) + m * a.ldx);
            r.y = a.y_type == DType::F32 ? static_cast<void*>(static_cast<float*>(a.y) + m * a.ldy)
                                         : static_cast<void*>(static_cast<uint16_t*>(a.y) + m * a.ldy);
            gemm_wo_ref(r);
        }
        return;
    }
    // The kernels read X (fp32 or bf16) and write Y (fp32 or bf16) in place: no per-call copies.
    if (level < Isa::Avx512) {
        if (a.M <= gemm_wo_gemv_rows()) {
            // AVX2, few rows: register-decode tiles, tasks of 64 columns.
            constexpr int64_t NB = 64;
            const int64_t ntasks = ceil_div(a.N, NB);
#pragma omp parallel for schedule(static) num_threads(gemv_threads(a.N * a.K, threads))
            for (int64_t t = 0; t < ntasks; ++t) avx2::gemm_wo_block(a, 0, a.M, t * NB, std::min(a.N, t * NB + NB));
            return;
        }
        // AVX2, more rows: the panel GEMM (codes decoded once per call into L2-sized panels).
        const avx2::PanelWeights w{a.w, a.w_type == QType::INT8 ? avx2::PanelW::I8 : avx2::PanelW::E4M3, a.ldw,
                                   a.w_scales, a.w_gran, a.group};
        avx2::panel_gemm(a.M, a.N, a.K, a.x, a.x_type == DType::BF16, a.ldx, w, a.bias, a.y, a.y_type == DType::BF16,
                         a.ldy, threads);
        return;
    }
    if (a.M <= 4) {
        // GEMV: memory bound. Contiguous column ranges (multiples of 8) split evenly over threads.
        constexpr int64_t NB = 64;
        const int64_t ntasks = ceil_div(a.N, NB);
#pragma omp parallel for schedule(static) num_threads(gemv_threads(a.N * a.K, threads))
        for (int64_t t = 0; t < ntasks; ++t) avx512::gemv_wo_cols(a, t * NB, std::min(a.N, t * NB + NB));
        return;
    }
    if (wo_uses_onednn(a)) {
        gemm_wo_onednn(a);
        return;
    }
    // GEMM: tasks of a block of MC rows x one decoded panel of columns.
    const bool bf16dot = level >= Isa::Avx512Bf16 && a.x_type == DType::BF16;
    const int64_t NC = avx512::gemm_wo_panel_cols();
    const int64_t ntasks = ceil_div(a.N, NC);
    const int64_t MC = ceil_div(a.M, gemm_wo_row_tasks(a.M, ntasks, threads)), mtasks = ceil_div(a.M, MC);
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
    for (int64_t t = 0; t < ntasks; ++t)
        for (int64_t mt = 0; mt < mtasks; ++mt)
            avx512::gemm_wo_task(a, mt * MC, std::min(a.M, mt * MC + MC), t * NC, bf16dot);
}

} // namespace qb::kernels
