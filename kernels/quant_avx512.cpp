// AVX-512 per-token INT8 activation quantizer. Same float ops as the reference (max |x|,
// amax / divisor, x / scale, RNE via the MXCSR default, clamp), so codes and scales are identical.
#include "kernels/avx512_inl.h"
#include "kernels/quant.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>

namespace qb::kernels::avx512 {

float quantize_row_int8(const void* x, bool bf16, int64_t cols, float divisor, int8_t* codes)
{
    __m512 vmax = _mm512_setzero_ps();
    for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 m = cols - c >= 16 ? __mmask16(0xffff) : __mmask16((1u << (cols - c)) - 1u);
        vmax = _mm512_max_ps(vmax, _mm512_abs_ps(load_f32x16(x, bf16, c, m)));
    }
    const float scale = int8_scale(_mm512_reduce_max_ps(vmax), divisor);
    const __m512 vs = _mm512_set1_ps(scale);
    const __m512i lo = _mm512_set1_epi32(int8_qmin(divisor)), hi = _mm512_set1_epi32(127);
    for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 m = cols - c >= 16 ? __mmask16(0xffff) : __mmask16((1u << (cols - c)) - 1u);
        __m512i q = _mm512_cvtps_epi32(_mm512_div_ps(load_f32x16(x, bf16, c, m), vs));
        q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
        _mm_mask_storeu_epi8(codes + c, m, _mm512_cvtepi32_epi8(q));
    }
    return scale;
}

} // namespace qb::kernels::avx512
