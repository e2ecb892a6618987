// AVX-512 SwiGLU gate (see act.h): exp_f32_ref's operations on 16 lanes, same order, so the
// results are bit-identical to silu_mul_bf16_ref (vroundscaleps = nearbyint, vscalefps = ldexp with
// one rounding, vdivps = IEEE division).
#include "kernels/act.h"
#include "kernels/avx512_inl.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>

namespace qb::kernels::avx512 {
namespace {

inline __m512 exp16(__m512 x)
{
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);   // second operand returned for a NaN x
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), x);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-0.693145751953125f), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(-1.428606765330187045e-6f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(e, n);
}

inline __m512 widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

} // namespace

void silu_mul_bf16(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        const __m512 gv = widen(_mm256_maskz_loadu_epi16(m, g + i));
        const __m512 uv = widen(_mm256_maskz_loadu_epi16(m, u + i));
        const __m512 e = exp16(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(gv), _mm512_set1_epi32(int32_t(0x80000000u)))));   // -g
        const __m512 s = widen(toBf16(_mm512_div_ps(gv, _mm512_add_ps(one, e))));
        _mm256_mask_storeu_epi16(y + i, m, toBf16(_mm512_mul_ps(s, uv)));
    }
}

} // namespace qb::kernels::avx512
