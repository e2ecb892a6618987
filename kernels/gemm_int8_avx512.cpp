// AVX-512 VNNI micro-kernel of the W8A8 GEMM (hot loop). Per 4-k step: one 64-byte packed W
// vector per 16 output columns, one broadcast of 4 biased activation bytes per row, vpdpbusd.
// Group epilogue reproduces the reference's float order lane by lane:
//   s = s + float(acc - corr) * sw ; y = s * sx (+ bias).
#include "kernels/avx512_inl.h"
#include "kernels/gemm_int8.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>
#include <cstring>

namespace qb::kernels::avx512 {
namespace {

template <int MR, int NV>
void tile(const PackedInt8Weight& p, const uint8_t* xp, int64_t xps, int64_t m0, int64_t nb0,
          const float* x_scales, bool x_per_tensor, const float* bias, float* y, int64_t ldy)
{
    const int64_t bstride = p.ngroups * p.kq * 64;
    const int8_t* wb[NV];
    for (int v = 0; v < NV; ++v) wb[v] = p.data.data() + (nb0 + v) * bstride;
    __m512 s[MR][NV];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) s[i][v] = _mm512_setzero_ps();
    for (int64_t g = 0; g < p.ngroups; ++g) {
        __m512i acc[MR][NV];
        for (int i = 0; i < MR; ++i)
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_si512();
        const uint8_t* xg = xp + m0 * xps + g * p.kq * 4;
        const int64_t wg = g * p.kq * 64;
        for (int64_t q = 0; q < p.kq; ++q) {
            __m512i w[NV];
            for (int v = 0; v < NV; ++v) w[v] = _mm512_loadu_si512(wb[v] + wg + q * 64);
            for (int i = 0; i < MR; ++i) {
                int32_t xv;
                std::memcpy(&xv, xg + i * xps + q * 4, 4);
                const __m512i xb = _mm512_set1_epi32(xv);
                for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], xb, w[v]);
            }
        }
        for (int v = 0; v < NV; ++v) {
            const size_t si = size_t(((nb0 + v) * p.ngroups + g) * 16);
            const __m512i corr = _mm512_loadu_si512(p.corr.data() + si);
            const __m512 sw = _mm512_loadu_ps(p.scales.data() + si);
            for (int i = 0; i < MR; ++i)
                s[i][v] = _mm512_add_ps(s[i][v], _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][v], corr)), sw));
        }
    }
    for (int v = 0; v < NV; ++v) {
        const int64_t n0 = (nb0 + v) * 16;
        const int64_t nn = p.N - n0 >= 16 ? 16 : p.N - n0;
        const __mmask16 mask = nn == 16 ? __mmask16(0xffff) : __mmask16((1u << nn) - 1u);
        const __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias + n0) : _mm512_setzero_ps();
        for (int i = 0; i < MR; ++i) {
            const float sx = x_per_tensor ? x_scales[0] : x_scales[m0 + i];
            __m512 r = _mm512_mul_ps(s[i][v], _mm512_set1_ps(sx));
            if (bias) r = _mm512_add_ps(r, b);
            _mm512_mask_storeu_ps(y + (m0 + i) * ldy + n0, mask, r);
        }
    }
}

template <int NV>
void rows(const PackedInt8Weight& p, const uint8_t* xp, int64_t xps, int64_t m0, int64_t m1, int64_t nb,
          const float* xs, bool xpt, const float* bias, float* y, int64_t ldy)
{
    int64_t m = m0;
    for (; m + 4 <= m1; m += 4) tile<4, NV>(p, xp, xps, m, nb, xs, xpt, bias, y, ldy);
    switch (m1 - m) {
    case 3: tile<3, NV>(p, xp, xps, m, nb, xs, xpt, bias, y, ldy); break;
    case 2: tile<2, NV>(p, xp, xps, m, nb, xs, xpt, bias, y, ldy); break;
    case 1: tile<1, NV>(p, xp, xps, m, nb, xs, xpt, bias, y, ldy); break;
    default: break;
    }
}

} // namespace

void gemm_int8_block(const PackedInt8Weight& p, const uint8_t* xp, int64_t xps, int64_t m0, int64_t m1,
                     int64_t nb0, int64_t nb1, const float* x_scales, bool x_per_tensor,
                     const float* bias, float* y, int64_t ldy)
{
    int64_t nb = nb0;
    for (; nb + 2 <= nb1; nb += 2) rows<2>(p, xp, xps, m0, m1, nb, x_scales, x_per_tensor, bias, y, ldy);
    if (nb < nb1) rows<1>(p, xp, xps, m0, m1, nb, x_scales, x_per_tensor, bias, y, ldy);
}

void int8_epilogue_rows(const int32_t* acc, int64_t ldacc, int64_t m0, int64_t m1, int64_t N, const float* sx,
                        bool sx_tensor, const float* sw, bool sw_tensor, const float* bias, void* y, bool ybf16,
                        int64_t ldy)
{
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t m = m0; m < m1; ++m) {
        const __m512 vx = _mm512_set1_ps(sx_tensor ? sx[0] : sx[m]);
        const int32_t* a = acc + m * ldacc;
        for (int64_t n = 0; n < N; n += 16) {
            const __mmask16 mk = tailMask(N - n);
            const __m512 w = sw_tensor ? _mm512_set1_ps(sw[0]) : _mm512_maskz_loadu_ps(mk, sw + n);
            __m512 v = _mm512_add_ps(zero, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(mk, a + n)), w));
            v = _mm512_mul_ps(v, vx);
            if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, bias + n));
            if (ybf16) _mm256_mask_storeu_epi16(static_cast<uint16_t*>(y) + m * ldy + n, mk, toBf16(v));
            else _mm512_mask_storeu_ps(static_cast<float*>(y) + m * ldy + n, mk, v);
        }
    }
}

} // namespace qb::kernels::avx512
