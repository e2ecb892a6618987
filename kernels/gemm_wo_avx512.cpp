// AVX-512 weight-only kernel (hot loop). 16 codes -> 16 floats in registers:
//   INT8: vpmovsxbd + vcvtdq2ps.
//   FP8 E4M3: the byte becomes an fp16 pattern (sign to bit 15, exponent+mantissa to bits 7..13:
//   srai(c << 8, 1) & 0xBFFF), vcvtph2ps decodes it exactly (fp16 subnormals included, DAZ does
//   not apply), and the missing 2^(15-7) = 256 is folded into the group scale. NaN codes (never
//   produced by the saturating quantizer) decode as finite here.
// Tiles: MR rows of X x NR rows of W; decoded W is reused across the MR rows.
#include "kernels/gemm_wo.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>

namespace qb::kernels::avx512 {
namespace {

template <bool FP8>
inline __m512 decode16(const uint8_t* p, __mmask16 m)
{
    const __m128i c = _mm_maskz_loadu_epi8(m, p);
    if (!FP8) return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(c));
    __m256i h = _mm256_cvtepu8_epi16(c);
    h = _mm256_and_si256(_mm256_srai_epi16(_mm256_slli_epi16(h, 8), 1), _mm256_set1_epi16(int16_t(0xBFFF)));
    return _mm512_cvtph_ps(h);
}

template <bool FP8, int MR, int NR>
void tile(const WoGemmArgs& a, const float* x, int64_t ldx, int64_t m0, int64_t n0, float* y, int64_t ldy)
{
    const int64_t G = a.w_gran == Gran::Group && a.group < a.K ? a.group : a.K, ng = (a.K + G - 1) / G;
    const float fold = FP8 ? 256.0f : 1.0f;   // fp16 pattern decodes to value / 2^8
    const uint8_t* w = static_cast<const uint8_t*>(a.w);
    __m512 tot[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) tot[i][j] = _mm512_setzero_ps();
    for (int64_t g = 0; g < ng; ++g) {
        __m512 acc[MR][NR];
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
        const int64_t k1 = g * G + G < a.K ? g * G + G : a.K;
        for (int64_t k = g * G; k < k1; k += 16) {
            const __mmask16 mk = k1 - k >= 16 ? __mmask16(0xffff) : __mmask16((1u << (k1 - k)) - 1u);
            __m512 wv[NR];
            for (int j = 0; j < NR; ++j) wv[j] = decode16<FP8>(w + (n0 + j) * a.ldw + k, mk);
            for (int i = 0; i < MR; ++i) {
                const __m512 xv = _mm512_maskz_loadu_ps(mk, x + (m0 + i) * ldx + k);
                for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
            }
        }
        for (int j = 0; j < NR; ++j) {
            const float sw = (a.w_gran == Gran::Tensor ? a.w_scales[0] : a.w_scales[(n0 + j) * ng + g]) * fold;
            const __m512 vs = _mm512_set1_ps(sw);
            for (int i = 0; i < MR; ++i) tot[i][j] = _mm512_fmadd_ps(acc[i][j], vs, tot[i][j]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) {
            float v = _mm512_reduce_add_ps(tot[i][j]);
            if (a.bias) v += a.bias[n0 + j];
            y[(m0 + i) * ldy + n0 + j] = v;
        }
}

template <bool FP8, int NR>
void overM(const WoGemmArgs& a, const float* x, int64_t ldx, int64_t n0, float* y, int64_t ldy)
{
    int64_t m = 0;
    for (; m + 4 <= a.M; m += 4) tile<FP8, 4, NR>(a, x, ldx, m, n0, y, ldy);
    for (; m < a.M; ++m) tile<FP8, 1, NR>(a, x, ldx, m, n0, y, ldy);
}

template <bool FP8>
void block(const WoGemmArgs& a, const float* x, int64_t ldx, int64_t n0, int64_t n1, float* y, int64_t ldy)
{
    int64_t n = n0;
    if (a.M < 4) {                       // GEMV-like: 4 weight streams, 1 x row
        for (; n + 4 <= n1; n += 4) overM<FP8, 4>(a, x, ldx, n, y, ldy);
    } else {
        for (; n + 2 <= n1; n += 2) overM<FP8, 2>(a, x, ldx, n, y, ldy);
    }
    for (; n < n1; ++n) overM<FP8, 1>(a, x, ldx, n, y, ldy);
}

} // namespace

void gemm_wo_block(const WoGemmArgs& a, const float* x, int64_t ldx, int64_t n0, int64_t n1, float* y, int64_t ldy)
{
    if (a.w_type == QType::FP8_E4M3) block<true>(a, x, ldx, n0, n1, y, ldy);
    else block<false>(a, x, ldx, n0, n1, y, ldy);
}

} // namespace qb::kernels::avx512
