#pragma once
// The float epilogue of the AVX2-family W8A8 tiles (gemm_int8_avx2_impl.h, gemm_int8_avx2sign.cpp):
// y = s * sx (+ bias) for MR rows x one 16-column block, the reference's order lane by lane.
// Internal linkage on purpose: each includer is compiled with its own ISA flags, and an inline
// function with external linkage could be merged across them by the linker.
#include <immintrin.h>
#include <cstdint>
#include <cstring>

namespace qb::kernels {
namespace {

template <int MR>
inline void storeTile16(const __m256 (&s)[MR][2], int64_t N, int64_t nb, int64_t m0, const float* x_scales,
                        bool x_per_tensor, const float* bias, float* y, int64_t ldy)
{
    const int64_t n0 = nb * 16;
    const int64_t nn = N - n0 >= 16 ? 16 : N - n0;
    alignas(32) float b[16] = {};
    if (bias) std::memcpy(b, bias + n0, size_t(nn) * 4);
    for (int i = 0; i < MR; ++i) {
        const __m256 sx = _mm256_set1_ps(x_per_tensor ? x_scales[0] : x_scales[m0 + i]);
        alignas(32) float r[16];
        for (int h = 0; h < 2; ++h) {
            __m256 v = _mm256_mul_ps(s[i][h], sx);
            if (bias) v = _mm256_add_ps(v, _mm256_load_ps(b + 8 * h));
            _mm256_store_ps(r + 8 * h, v);
        }
        std::memcpy(y + (m0 + i) * ldy + n0, r, size_t(nn) * 4);
    }
}

} // namespace
} // namespace qb::kernels
