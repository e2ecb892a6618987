#pragma once
// Inline AVX-512 helpers shared by the *_avx512.cpp files (include only there: they are compiled
// with AVX-512 flags and these functions live in the qb::kernels::avx512 namespace, see common.h).
#include <immintrin.h>

namespace qb::kernels::avx512 {

// float -> bf16, round to nearest even, NaN kept (quiet): bf16_from_float lane by lane.
inline __m256i toBf16(__m512 v)
{
    const __m512i u = _mm512_castps_si512(v);
    const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)),
                                                         _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1))), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    const __m512i q = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(r, nan, q));
}

inline __mmask16 tailMask(int64_t left) { return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1u); }

} // namespace qb::kernels::avx512
