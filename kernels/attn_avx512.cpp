// AVX-512 decode attention (see attn.h): the reference's operations and orders, 16 lanes at a time.
#include "kernels/attn.h"
#include "kernels/avx512_inl.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>

namespace qb::kernels::avx512 {
namespace {

ScratchBuffer& scores()
{
    thread_local ScratchBuffer s;
    return s;
}

// Scores for keys [0, n) with the scaled query in NV registers (D = 16 NV), four keys at a time.
template <int NV>
float scoresFixed(const float* qs, const void* k, bool bf, int64_t kv, int64_t n, float* s)
{
    constexpr int64_t D = 16 * NV;
    __m512 qv[NV];
    for (int c = 0; c < NV; ++c) qv[c] = _mm512_loadu_ps(qs + 16 * c);
    float mx = 0.0f;
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        __m512 acc[4];
        for (int u = 0; u < 4; ++u) {
            acc[u] = _mm512_setzero_ps();
            for (int c = 0; c < NV; ++c) acc[u] = _mm512_fmadd_ps(qv[c], load_f32x16(k, bf, kv + (j + u) * D + 16 * c, 0xffff), acc[u]);
        }
        for (int u = 0; u < 4; ++u) {
            s[j + u] = sum_lanes(acc[u]);
            mx = j + u == 0 || s[j + u] > mx ? s[j + u] : mx;
        }
    }
    for (; j < n; ++j) {
        __m512 acc = _mm512_setzero_ps();
        for (int c = 0; c < NV; ++c) acc = _mm512_fmadd_ps(qv[c], load_f32x16(k, bf, kv + j * D + 16 * c, 0xffff), acc);
        s[j] = sum_lanes(acc);
        mx = j == 0 || s[j] > mx ? s[j] : mx;
    }
    return mx;
}

// y = sum_j p_j v_j with the accumulators in NV registers.
template <int NV>
void pvFixed(const float* s, float total, const void* v, bool bf, int64_t kv, int64_t n, float* acc)
{
    constexpr int64_t D = 16 * NV;
    __m512 o[NV];
    for (int c = 0; c < NV; ++c) o[c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; ++j) {
        const __m512 p = _mm512_set1_ps(s[j] / total);
        for (int c = 0; c < NV; ++c) o[c] = _mm512_fmadd_ps(p, load_f32x16(v, bf, kv + j * D + 16 * c, 0xffff), o[c]);
    }
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(acc + 16 * c, o[c]);
}

} // namespace

void attn_decode_task(const DecodeAttnArgs& a, int64_t task)
{
    const bool bf = a.t == DType::BF16;
    const int64_t D = a.D, rep = a.H / a.kvH, h = task % a.H, t = (task / a.H) % a.T, b = task / (a.H * a.T);
    const int64_t g = h / rep, n = a.past + t + 1, kv = b * a.kv_sb + g * a.kv_sg, qo = ((b * a.T + t) * a.H + h) * D;
    const int64_t nv = (D + 15) / 16;
    float* s = scores().floats(size_t(n + 16 + 16 * nv * 2));
    float* qs = s + n + 16;           // scaled q, then the output accumulators
    for (int64_t c = 0; c < nv; ++c) {
        const __mmask16 m = tailMask(D - 16 * c);
        _mm512_storeu_ps(qs + 16 * c, _mm512_maskz_mov_ps(m, _mm512_mul_ps(load_f32x16(a.q, bf, qo + 16 * c, m), _mm512_set1_ps(a.scale))));
    }
    float mx = 0.0f;
    if (D == 64) mx = scoresFixed<4>(qs, a.k, bf, kv, n, s);
    else if (D == 128) mx = scoresFixed<8>(qs, a.k, bf, kv, n, s);
    else
        for (int64_t j = 0; j < n; ++j) {
            __m512 acc = _mm512_setzero_ps();
            for (int64_t c = 0; c < nv; ++c) {
                const __mmask16 m = tailMask(D - 16 * c);
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, qs + 16 * c), load_f32x16(a.k, bf, kv + j * D + 16 * c, m), acc);
            }
            s[j] = sum_lanes(acc);
            mx = j == 0 || s[j] > mx ? s[j] : mx;
        }
    __m512 sum = _mm512_setzero_ps();
    const __m512 vm = _mm512_set1_ps(mx);
    for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 m = tailMask(n - j);
        const __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), vm)));
        _mm512_mask_storeu_ps(s + j, m, e);
        sum = _mm512_add_ps(sum, e);
    }
    const float total = sum_lanes(sum);
    float* acc = qs + 16 * nv;
    if (D == 64) pvFixed<4>(s, total, a.v, bf, kv, n, acc);
    else if (D == 128) pvFixed<8>(s, total, a.v, bf, kv, n, acc);
    else {
        for (int64_t c = 0; c < nv; ++c) _mm512_storeu_ps(acc + 16 * c, _mm512_setzero_ps());
        for (int64_t j = 0; j < n; ++j) {
            const __m512 p = _mm512_set1_ps(s[j] / total);
            for (int64_t c = 0; c < nv; ++c) {
                const __mmask16 m = tailMask(D - 16 * c);
                _mm512_storeu_ps(acc + 16 * c, _mm512_fmadd_ps(p, load_f32x16(a.v, bf, kv + j * D + 16 * c, m), _mm512_loadu_ps(acc + 16 * c)));
            }
        }
    }
    for (int64_t c = 0; c < nv; ++c) {
        const __mmask16 m = tailMask(D - 16 * c);
        const __m512 o = _mm512_loadu_ps(acc + 16 * c);
        if (bf) _mm256_mask_storeu_epi16(static_cast<uint16_t*>(a.y) + qo + 16 * c, m, toBf16(o));
        else _mm512_mask_storeu_ps(static_cast<float*>(a.y) + qo + 16 * c, m, o);
    }
}

} // namespace qb::kernels::avx512
