// Weight-only GEMM: reference and dispatcher (bf16 X is widened once, then tiles over N).
#include "kernels/gemm_wo.h"
#include "kernels/fp8.h"
#include "kernels/simd_decl.h"

#include <algorithm>
#include <vector>

namespace qb::kernels {
namespace {

void checkArgs(const char* fn, const WoGemmArgs& a)
{
    QB_KCHECK(a.M > 0 && a.N > 0 && a.K > 0, fn, "M, N, K must be > 0");
    QB_KCHECK(a.x && a.w && a.w_scales && a.y, fn, "null pointer");
    QB_KCHECK(a.ldx >= a.K && a.ldw >= a.K && a.ldy >= a.N, fn, "leading dimension too small");
    QB_KCHECK(a.w_gran != Gran::Group || a.group > 0, fn, "group must be > 0");
}

inline void store(const WoGemmArgs& a, int64_t i, float v)
{
    if (a.y_type == DType::F32) static_cast<float*>(a.y)[i] = v;
    else static_cast<uint16_t*>(a.y)[i] = bf16_from_float(v);
}

} // namespace

void gemm_wo_ref(const WoGemmArgs& a)
{
    checkArgs("gemm_wo_ref", a);
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

void gemm_wo(const WoGemmArgs& a)
{
    checkArgs("gemm_wo", a);
    const bool groupOk = a.w_gran != Gran::Group || a.group >= a.K || a.group % 16 == 0;
    if (isa() < Isa::Avx512 || !groupOk) {
#pragma omp parallel for schedule(static) if (a.M > 1)
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
    // X as float32 (bf16 widened once: exact); Y as float32 (bf16 output rounded at the end).
    std::vector<float> xbuf, ybuf;
    const float* x = static_cast<const float*>(a.x);
    int64_t ldx = a.ldx;
    if (a.x_type == DType::BF16) {
        xbuf.resize(size_t(a.M * a.K));
        for (int64_t m = 0; m < a.M; ++m)
            for (int64_t k = 0; k < a.K; ++k)
                xbuf[size_t(m * a.K + k)] = bf16_to_float(static_cast<const uint16_t*>(a.x)[m * a.ldx + k]);
        x = xbuf.data(); ldx = a.K;
    }
    float* y = static_cast<float*>(a.y);
    int64_t ldy = a.ldy;
    if (a.y_type == DType::BF16) { ybuf.resize(size_t(a.M * a.N)); y = ybuf.data(); ldy = a.N; }
    // Tasks: 64 output columns x a block of X rows small enough to stay in L2 (<= 256 KiB), so
    // each decoded W tile is reused across the block's rows without re-streaming X from memory.
    constexpr int64_t NB = 64;
    const int64_t MBk = std::max<int64_t>(4, std::min<int64_t>(64, (int64_t(256) << 10) / (4 * a.K) / 4 * 4));
    const int64_t ntasks = ceil_div(a.N, NB), mtasks = ceil_div(a.M, MBk);
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t mt = 0; mt < mtasks; ++mt)
        for (int64_t t = 0; t < ntasks; ++t) {
            WoGemmArgs b = a;
            b.M = std::min(a.M, mt * MBk + MBk) - mt * MBk;
            avx512::gemm_wo_block(b, x + mt * MBk * ldx, ldx, t * NB, std::min(a.N, t * NB + NB), y + mt * MBk * ldy, ldy);
        }
    if (a.y_type == DType::BF16)
        for (int64_t m = 0; m < a.M; ++m)
            for (int64_t n = 0; n < a.N; ++n)
                static_cast<uint16_t*>(a.y)[m * a.ldy + n] = bf16_from_float(ybuf[size_t(m * a.N + n)]);
}

} // namespace qb::kernels
