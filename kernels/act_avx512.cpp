// AVX-512 SwiGLU gate (see act.h): exp_f32_ref's operations on 16 lanes, same order, so the
// results are bit-identical to silu_mul_bf16_ref (vroundscaleps = nearbyint, vscalefps = ldexp with
// one rounding, vdivps = IEEE division).
#include "kernels/act.h"
#include "kernels/avx512_inl.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>

namespace qb::kernels::avx512 {

void silu_mul_bf16(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        const __m512 gv = widen_bf16(_mm256_maskz_loadu_epi16(m, g + i));
        const __m512 uv = widen_bf16(_mm256_maskz_loadu_epi16(m, u + i));
        const __m512 e = exp16(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(gv), _mm512_set1_epi32(int32_t(0x80000000u)))));   // -g
        const __m512 s = widen_bf16(toBf16(_mm512_div_ps(gv, _mm512_add_ps(one, e))));
        _mm256_mask_storeu_epi16(y + i, m, toBf16(_mm512_mul_ps(s, uv)));
    }
}

void rms_norm_rows(const void* x, bool bf16, int64_t rows, int64_t n, int64_t ldx, const void* w, float eps, void* y, int64_t ldy)
{
    for (int64_t r = 0; r < rows; ++r) {
        const void* xr = bf16 ? static_cast<const void*>(static_cast<const uint16_t*>(x) + r * ldx)
                              : static_cast<const void*>(static_cast<const float*>(x) + r * ldx);
        __m512 acc = _mm512_setzero_ps();
        for (int64_t k = 0; k < n; k += 16) {
            const __m512 v = load_f32x16(xr, bf16, k, tailMask(n - k));
            acc = _mm512_fmadd_ps(v, v, acc);
        }
        const float ss = sum_lanes(acc);              // as rms_norm_ref
        const __m512 inv = _mm512_set1_ps(1.0f / __builtin_sqrtf(ss / float(n) + eps));
        for (int64_t k = 0; k < n; k += 16) {
            const __mmask16 m = tailMask(n - k);
            __m512 v = _mm512_mul_ps(load_f32x16(xr, bf16, k, m), inv);
            if (bf16) {
                v = _mm512_mul_ps(load_f32x16(w, bf16, k, m), widen_bf16(toBf16(v)));
                _mm256_mask_storeu_epi16(static_cast<uint16_t*>(y) + r * ldy + k, m, toBf16(v));
            } else {
                _mm512_mask_storeu_ps(static_cast<float*>(y) + r * ldy + k, m, _mm512_mul_ps(load_f32x16(w, bf16, k, m), v));
            }
        }
    }
}

void rope_rows(const void* x, bool bf16, int64_t tokens, int64_t heads, int64_t D, const void* cos, const void* sin, void* y)
{
    const int64_t h = D / 2;
    auto rnd = [bf16](__m512 v) { return bf16 ? widen_bf16(toBf16(v)) : v; };
    auto store = [bf16](void* p, int64_t i, __mmask16 m, __m512 v) {
        if (bf16) _mm256_mask_storeu_epi16(static_cast<uint16_t*>(p) + i, m, toBf16(v));
        else _mm512_mask_storeu_ps(static_cast<float*>(p) + i, m, v);
    };
    const __m512i sign = _mm512_set1_epi32(int32_t(0x80000000u));
    for (int64_t tok = 0; tok < tokens; ++tok)
        for (int64_t hd = 0; hd < heads; ++hd) {
            const int64_t r = (tok * heads + hd) * D, c = tok * D;
            for (int64_t i = 0; i < h; i += 16) {   // the two halves of the row at once: both read before either is written
                const __mmask16 m = tailMask(h - i);
                const __m512 x1 = load_f32x16(x, bf16, r + i, m), x2 = load_f32x16(x, bf16, r + h + i, m);
                const __m512 nx2 = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x2), sign));
                const __m512 y1 = rnd(_mm512_add_ps(rnd(_mm512_mul_ps(x1, load_f32x16(cos, bf16, c + i, m))), rnd(_mm512_mul_ps(nx2, load_f32x16(sin, bf16, c + i, m)))));
                const __m512 y2 = rnd(_mm512_add_ps(rnd(_mm512_mul_ps(x2, load_f32x16(cos, bf16, c + h + i, m))), rnd(_mm512_mul_ps(x1, load_f32x16(sin, bf16, c + h + i, m)))));
                store(y, r + i, m, y1);
                store(y, r + h + i, m, y2);
            }
        }
}

} // namespace qb::kernels::avx512
