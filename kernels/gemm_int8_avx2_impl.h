// AVX2 micro-kernel of the W8A8 GEMM, included by gemm_int8_avx2.cpp (QB_I8_VNNI = 0: vpmaddwd on
// int16-widened codes) and gemm_int8_avxvnni.cpp (QB_I8_VNNI = 1: 256-bit vpdpbusd). Same packed
// W layout as the AVX-512 kernel: a 64-byte vector holds 16 output columns x 4 k, read here as two
// 32-byte halves (VNNI) or four 16-byte quarters widened to int16 (4 columns x 4 k each).
//   VNNI:  acc(col) += sum_4 (x + 128) * w                                    (exact, wrapping)
//   madd:  acc(col, k-pair) += (x + 128) * w for 2 k; pairs summed at the group end (vphaddd).
// Every int32 sum equals the AVX-512 one, and the float epilogue is the reference order lane by
// lane: s = s + float(acc - corr) * sw; y = s * sx (+ bias). So the results are bit-identical.
#include "kernels/gemm_int8.h"
#include "kernels/gemm_int8_avx2_store.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>
#include <cstring>

namespace qb::kernels::QB_I8_NS {
namespace {

// Sum of the (column, k-pair) int32 lanes of the madd accumulators of 8 columns (a: 0..3, b: 4..7).
[[maybe_unused]] inline __m256i pairSum(__m256i a, __m256i b)
{
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(a, b), 0xD8);   // [c0 c1 c4 c5 | c2 c3 c6 c7] -> c0..c7
}

template <int MR>
void tile(const PackedInt8Weight& p, const void* xpv, int64_t xps, int64_t m0, int64_t nb,
          const float* x_scales, bool x_per_tensor, const float* bias, float* y, int64_t ldy)
{
    const int8_t* wb = p.data.data() + nb * p.ngroups * p.kq * 64;
    __m256 s[MR][2];
    for (int i = 0; i < MR; ++i) s[i][0] = s[i][1] = _mm256_setzero_ps();
    for (int64_t g = 0; g < p.ngroups; ++g) {
        const int8_t* wg = wb + g * p.kq * 64;
        __m256i acc32[MR][2];
#if QB_I8_VNNI
        const uint8_t* xg = static_cast<const uint8_t*>(xpv) + m0 * xps + g * p.kq * 4;
        for (int i = 0; i < MR; ++i) acc32[i][0] = acc32[i][1] = _mm256_setzero_si256();
        for (int64_t q = 0; q < p.kq; ++q) {
            const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg + q * 64));
            const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg + q * 64 + 32));
            for (int i = 0; i < MR; ++i) {
                int32_t xv;
                std::memcpy(&xv, xg + i * xps + q * 4, 4);
                const __m256i xb = _mm256_set1_epi32(xv);
                acc32[i][0] = _mm256_dpbusd_avx_epi32(acc32[i][0], xb, w0);
                acc32[i][1] = _mm256_dpbusd_avx_epi32(acc32[i][1], xb, w1);
            }
        }
#else
        // X here is int16 (x + 128), same layout as the u8 buffer of the VNNI kernels.
        const int16_t* xg = static_cast<const int16_t*>(xpv) + m0 * xps + g * p.kq * 4;
        __m256i acc[MR][4];
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_setzero_si256();
        for (int64_t q = 0; q < p.kq; ++q) {
            __m256i w[4];
            for (int j = 0; j < 4; ++j)
                w[j] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wg + q * 64 + j * 16)));
            for (int i = 0; i < MR; ++i) {
                int64_t xv;
                std::memcpy(&xv, xg + i * xps + q * 4, 8);
                const __m256i xb = _mm256_set1_epi64x(xv);
                for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(xb, w[j]));
            }
        }
        for (int i = 0; i < MR; ++i) {
            acc32[i][0] = pairSum(acc[i][0], acc[i][1]);
            acc32[i][1] = pairSum(acc[i][2], acc[i][3]);
        }
#endif
        const size_t si = size_t((nb * p.ngroups + g) * 16);
        for (int h = 0; h < 2; ++h) {
            const __m256i corr = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.corr.data() + si + 8 * h));
            const __m256 sw = _mm256_loadu_ps(p.scales.data() + si + 8 * h);
            for (int i = 0; i < MR; ++i)
                s[i][h] = _mm256_add_ps(s[i][h], _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc32[i][h], corr)), sw));
        }
    }
    storeTile16<MR>(s, p.N, nb, m0, x_scales, x_per_tensor, bias, y, ldy);
}

} // namespace

void gemm_int8_block(const PackedInt8Weight& p, const void* xp, int64_t xps, int64_t m0, int64_t m1,
                     int64_t nb0, int64_t nb1, const float* x_scales, bool x_per_tensor,
                     const float* bias, float* y, int64_t ldy)
{
    constexpr int MR = QB_I8_VNNI ? 4 : 2;
    for (int64_t nb = nb0; nb < nb1; ++nb) {
        int64_t m = m0;
        for (; m + MR <= m1; m += MR) tile<MR>(p, xp, xps, m, nb, x_scales, x_per_tensor, bias, y, ldy);
        for (; m < m1; ++m) tile<1>(p, xp, xps, m, nb, x_scales, x_per_tensor, bias, y, ldy);
    }
}

} // namespace qb::kernels::QB_I8_NS
