// AVX-512 weight-only kernels (hot loops). Two shapes:
//
// GEMV (M <= 4): the codes are decoded in registers, 16 k at a time, and reused across the M
// rows of X; NR weight rows stream side by side, the main K loop is unrolled by 64 k without
// masks (masks only in the tail of a group), lanes run over k and are reduced once at the end.
// Software prefetch into L2 of the same k of the next tile's weight rows (NR rows ahead: every
// line once, including row starts, which a fixed distance ahead within a row misses). With the
// weights streamed from DRAM (the inference case) it measured 39-43 GB/s against 32-34 without
// prefetch and 39-40 with 1 KiB ahead in the row (M=1, 8192x4096 INT8, 2 threads); with the
// weights resident in L3 (a benchmark repeating one matrix) it costs ~10%.
//   INT8: vpmovsxbd + vcvtdq2ps.
//   FP8 E4M3: the byte becomes an fp16 pattern (sign to bit 15, exponent+mantissa to bits 7..13:
//   (sign_extend(c) << 7) & 0xBFFF), vcvtph2ps decodes it exactly (fp16 subnormals included, DAZ does
//   not apply), and the missing 2^(15-7) = 256 is folded into the group scale. NaN codes (never
//   produced by the saturating quantizer) decode as finite here.
//
// GEMM (M > 4): per task (a block of up to 512 rows of X x NC = 128 output columns) and per K chunk (up to
// KC = 256 k's of one scale group) the codes are transposed (16x16 byte / 8x8 16-bit transposes)
// and decoded once into a panel that stays in L2 and is reused by every row of X:
//   fp32 panel P[k][n] (X fp32, or X bf16 without AVX512_BF16): 6 x 64 register tile of
//   vfmadd231ps with X broadcast;
//   bf16 panel P[k/2][n][2] (X bf16 on AVX512_BF16 CPUs; INT8 and E4M3 codes are exact in bf16):
//   6 x 64 tile of vdpbf16ps with an X pair broadcast.
// Lanes run over n, so a chunk's column scales are one vector: C += acc * scale per chunk (C in a
// small per-thread buffer), then y = C (+ bias).
#include "kernels/avx512_inl.h"
#include "kernels/gemm_dense.h"
#include "kernels/gemm_wo.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace qb::kernels::avx512 {
namespace {

// ---------------------------------------------------------------------------------------------
// Shared helpers.

inline float scaleOf(const WoGemmArgs& a, int64_t n, int64_t g, int64_t ng)
{
    return a.w_gran == Gran::Tensor ? a.w_scales[0] : a.w_scales[n * ng + g];
}

// 16 codes -> 16 floats (FP8: value / 256, see the file comment).
template <bool FP8>
inline __m512 decode16(__m128i c)
{
    if (!FP8) return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(c));
    // sign-extended byte << 7: sign in bit 15 (and a copy in bit 14, cleared), e+m in bits 13..7.
    const __m256i h = _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(c), 7), _mm256_set1_epi16(int16_t(0xBFFF)));
    return _mm512_cvtph_ps(h);
}

// 16 X values at x[k..k+16) as floats (bf16: widened exactly).
template <bool XB>
inline __m512 loadX(const void* x, int64_t k)
{
    if (!XB) return _mm512_loadu_ps(static_cast<const float*>(x) + k);
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(x) + k));
    return widen_bf16(h);
}
template <bool XB>
inline __m512 loadXMasked(const void* x, int64_t k, __mmask16 m)
{
    if (!XB) return _mm512_maskz_loadu_ps(m, static_cast<const float*>(x) + k);
    const __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(x) + k);
    return widen_bf16(h);
}


// 16 outputs of row m starting at column n (mask for the N tail), + bias, fp32 or bf16.
inline void storeY(const WoGemmArgs& a, int64_t m, int64_t n, __m512 v, __mmask16 mk)
{
    if (a.bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, a.bias + n));
    if (a.y_type == DType::F32) _mm512_mask_storeu_ps(static_cast<float*>(a.y) + m * a.ldy + n, mk, v);
    else _mm256_mask_storeu_epi16(static_cast<uint16_t*>(a.y) + m * a.ldy + n, mk, toBf16(v));
}


// ---------------------------------------------------------------------------------------------
// GEMV: MR (<= 4) rows of X x NR weight rows, K loop over groups, lanes over k.

template <bool FP8, bool XB, int MR, int NR>
void gemvTile(const WoGemmArgs& a, int64_t m0, int64_t n0)
{
    const int64_t G = a.w_gran == Gran::Group && a.group < a.K ? a.group : a.K, ng = (a.K + G - 1) / G;
    const float fold = FP8 ? 256.0f : 1.0f;   // fp16 pattern decodes to value / 2^8
    const uint8_t* w[NR];
    for (int j = 0; j < NR; ++j) w[j] = static_cast<const uint8_t*>(a.w) + (n0 + j) * a.ldw;
    const void* x[MR];
    for (int i = 0; i < MR; ++i)
        x[i] = XB ? static_cast<const void*>(static_cast<const uint16_t*>(a.x) + (m0 + i) * a.ldx)
                  : static_cast<const void*>(static_cast<const float*>(a.x) + (m0 + i) * a.ldx);
    __m512 tot[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) tot[i][j] = _mm512_setzero_ps();
    for (int64_t g = 0; g < ng; ++g) {
        __m512 acc[MR][NR];
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
        const int64_t k1 = g * G + G < a.K ? g * G + G : a.K;
        int64_t k = g * G;
        for (; k + 64 <= k1; k += 64) {
            for (int j = 0; j < NR; ++j) _mm_prefetch(reinterpret_cast<const char*>(w[j] + NR * a.ldw + k), _MM_HINT_T1);
            for (int u = 0; u < 4; ++u) {
                __m512 wv[NR];
                for (int j = 0; j < NR; ++j)
                    wv[j] = decode16<FP8>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[j] + k + 16 * u)));
                for (int i = 0; i < MR; ++i) {
                    const __m512 xv = loadX<XB>(x[i], k + 16 * u);
                    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
                }
            }
        }
        for (; k < k1; k += 16) {
            const __mmask16 mk = tailMask(k1 - k);
            __m512 wv[NR];
            for (int j = 0; j < NR; ++j) wv[j] = decode16<FP8>(_mm_maskz_loadu_epi8(mk, w[j] + k));
            for (int i = 0; i < MR; ++i) {
                const __m512 xv = loadXMasked<XB>(x[i], k, mk);
                for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
            }
        }
        if (ng == 1) {                        // per row / per tensor: scale once at the end
            for (int i = 0; i < MR; ++i)
                for (int j = 0; j < NR; ++j) tot[i][j] = acc[i][j];
        } else {
            for (int j = 0; j < NR; ++j) {
                const __m512 vs = _mm512_set1_ps(scaleOf(a, n0 + j, g, ng) * fold);
                for (int i = 0; i < MR; ++i) tot[i][j] = _mm512_fmadd_ps(acc[i][j], vs, tot[i][j]);
            }
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) {
            float v = _mm512_reduce_add_ps(tot[i][j]);
            if (ng == 1) v *= scaleOf(a, n0 + j, 0, 1) * fold;
            if (a.bias) v += a.bias[n0 + j];
            const int64_t o = (m0 + i) * a.ldy + n0 + j;
            if (a.y_type == DType::F32) static_cast<float*>(a.y)[o] = v;
            else static_cast<uint16_t*>(a.y)[o] = bf16_from_float(v);
        }
}

// NR weight rows side by side, fewer when M grows (acc + tot = 2 * MR * NR registers).
template <bool FP8, bool XB, int MR>
void gemvCols(const WoGemmArgs& a, int64_t n0, int64_t n1)
{
    constexpr int NR = MR == 1 ? 8 : MR == 2 ? 4 : 2;
    int64_t n = n0;
    for (; n + NR <= n1; n += NR) gemvTile<FP8, XB, MR, NR>(a, 0, n);
    for (; n < n1; ++n) gemvTile<FP8, XB, MR, 1>(a, 0, n);
}

template <bool FP8, bool XB>
void gemvCols(const WoGemmArgs& a, int64_t n0, int64_t n1)
{
    switch (a.M) {
    case 1: gemvCols<FP8, XB, 1>(a, n0, n1); break;
    case 2: gemvCols<FP8, XB, 2>(a, n0, n1); break;
    case 3: gemvCols<FP8, XB, 3>(a, n0, n1); break;
    default: gemvCols<FP8, XB, 4>(a, n0, n1); break;
    }
}

// ---------------------------------------------------------------------------------------------
// GEMM: panel decode (16x16 byte transposes) + register-blocked micro-kernels.

constexpr int64_t NC = 128;   // output columns per task (panel width)
constexpr int MR = 6;         // rows of X per micro tile; the tile is MR x 64 columns

// In: r[i] = 16 codes of weight row i (k = 0..15). Out: r[j] = the 16 rows' codes at k = j.
inline void transpose16x16(__m128i r[16])
{
    __m128i t[16], s[16];
    for (int p = 0; p < 8; ++p) {
        t[p] = _mm_unpacklo_epi8(r[2 * p], r[2 * p + 1]);       // 16-bit units (row 2p, 2p+1) at k 0..7
        t[p + 8] = _mm_unpackhi_epi8(r[2 * p], r[2 * p + 1]);   // k 8..15
    }
    for (int h = 0; h < 2; ++h)
        for (int q = 0; q < 4; ++q) {                           // 32-bit units: rows 4q..4q+3
            s[q + 8 * h] = _mm_unpacklo_epi16(t[8 * h + 2 * q], t[8 * h + 2 * q + 1]);      // k 8h + 0..3
            s[q + 8 * h + 4] = _mm_unpackhi_epi16(t[8 * h + 2 * q], t[8 * h + 2 * q + 1]);  // k 8h + 4..7
        }
    for (int b = 0; b < 4; ++b) {                               // s[4b + q]: rows 4q.., k 4b..4b+3
        const __m128i lo01 = _mm_unpacklo_epi32(s[4 * b], s[4 * b + 1]);     // rows 0..7, k 4b, 4b+1
        const __m128i hi01 = _mm_unpackhi_epi32(s[4 * b], s[4 * b + 1]);     // rows 0..7, k 4b+2, 4b+3
        const __m128i lo23 = _mm_unpacklo_epi32(s[4 * b + 2], s[4 * b + 3]); // rows 8..15
        const __m128i hi23 = _mm_unpackhi_epi32(s[4 * b + 2], s[4 * b + 3]);
        r[4 * b] = _mm_unpacklo_epi64(lo01, lo23);
        r[4 * b + 1] = _mm_unpackhi_epi64(lo01, lo23);
        r[4 * b + 2] = _mm_unpacklo_epi64(hi01, hi23);
        r[4 * b + 3] = _mm_unpackhi_epi64(hi01, hi23);
    }
}

// Transposed codes of 16 weight rows [n, n+nn) x 16 k [k, k+kk) (zeros outside).
inline void loadCodes16(const WoGemmArgs& a, int64_t n, int64_t nn, int64_t k, int64_t kk, __m128i r[16])
{
    const uint8_t* w = static_cast<const uint8_t*>(a.w);
    if (nn == 16 && kk == 16) {
        for (int i = 0; i < 16; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + (n + i) * a.ldw + k));
    } else {
        const __mmask16 mk = tailMask(kk);
        for (int i = 0; i < 16; ++i) r[i] = i < nn ? _mm_maskz_loadu_epi8(mk, w + (n + i) * a.ldw + k) : _mm_setzero_si128();
    }
    transpose16x16(r);
}

struct Scratch {
    ScratchBuffer c;       // (MC, NC) accumulators
    ScratchBuffer panel;   // fp32 (KC, NC) or bf16 (KC/2, NC, 2) as uint16
    ScratchBuffer sv;      // (NC) chunk scales
};
Scratch& scratch()
{
    thread_local Scratch s;
    return s;
}

// fp32 panel for columns [n0, n0 + NC) and k in [k0, k0 + len): P[kk * NC + j].
template <bool FP8>
void decodePanelF32(const WoGemmArgs& a, int64_t n0, int64_t k0, int64_t len, float* P)
{
    const int64_t pf = std::min(len, a.K - k0 - len);   // k's of the next chunk to prefetch
    for (int64_t jb = 0; jb < NC; jb += 16) {
        const int64_t nn = std::min<int64_t>(16, std::max<int64_t>(0, a.N - n0 - jb));
        for (int64_t kb = 0; kb < len; kb += 16) {
            const int64_t kk = std::min<int64_t>(16, len - kb);
            __m128i r[16];
            if (nn > 0) loadCodes16(a, n0 + jb, nn, k0 + kb, kk, r);
            else for (auto& v : r) v = _mm_setzero_si128();
            if (pf > 0 && kb % 64 == 0 && kb < pf)
                for (int i = 0; i < nn; ++i)
                    _mm_prefetch(static_cast<const char*>(a.w) + (n0 + jb + i) * a.ldw + k0 + len + kb, _MM_HINT_T1);
            for (int64_t t = 0; t < kk; ++t) _mm512_store_ps(P + (kb + t) * NC + jb, decode16<FP8>(r[t]));
        }
    }
}

// In: r[i] = 16 floats of row i. Out: r[j] = element j of the 16 rows.
inline void transpose16x16f(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);       // per 128-bit lane: (a0 b0 a1 b1)
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);   // (a2 b2 a3 b3)
    }
    for (int i = 0; i < 4; ++i)
        for (int h = 0; h < 2; ++h) {                                // 4 rows 4i..4i+3, element 2h / 2h+1 per lane
            const __m512 a = t[4 * i + h], b = t[4 * i + 2 + h];
            r[4 * i + 2 * h] = _mm512_shuffle_ps(a, b, 0x44);      // (a0 b0 c0 d0) per lane
            r[4 * i + 2 * h + 1] = _mm512_shuffle_ps(a, b, 0xEE);  // (a1 b1 c1 d1)
        }
    // r[4i + e] now holds rows 4i..4i+3 at elements e, e+4, e+8, e+12 (one per 128-bit lane).
    for (int e = 0; e < 4; ++e) {
        const __m512 r0 = r[e], r1 = r[4 + e], r2 = r[8 + e], r3 = r[12 + e];
        const __m512 u0 = _mm512_shuffle_f32x4(r0, r1, 0x44), u1 = _mm512_shuffle_f32x4(r0, r1, 0xEE);   // lanes (0 1 | 0 1), (2 3 | 2 3)
        const __m512 u2 = _mm512_shuffle_f32x4(r2, r3, 0x44), u3 = _mm512_shuffle_f32x4(r2, r3, 0xEE);
        t[e] = _mm512_shuffle_f32x4(u0, u2, 0x88);        // lane 0 of r0 r1 r2 r3: element e
        t[e + 4] = _mm512_shuffle_f32x4(u0, u2, 0xDD);    // lane 1: element e + 4
        t[e + 8] = _mm512_shuffle_f32x4(u1, u3, 0x88);    // element e + 8
        t[e + 12] = _mm512_shuffle_f32x4(u1, u3, 0xDD);   // element e + 12
    }
    for (int j = 0; j < 16; ++j) r[j] = t[j];
}

// fp32 panel of plain fp32 weights (dense GEMM): P[kk * NC + j] = W[n0 + j][k0 + kk], zeros past N.
void packPanelF32(const float* w, int64_t ldw, int64_t N, int64_t K, int64_t n0, int64_t k0, int64_t len, float* P)
{
    const int64_t pf = std::min(len, K - k0 - len);
    for (int64_t jb = 0; jb < NC; jb += 16) {
        const int64_t nn = std::min<int64_t>(16, std::max<int64_t>(0, N - n0 - jb));
        for (int64_t kb = 0; kb < len; kb += 16) {
            const int64_t kk = std::min<int64_t>(16, len - kb);
            const __mmask16 mk = tailMask(kk);
            __m512 r[16];
            for (int i = 0; i < 16; ++i) r[i] = i < nn ? _mm512_maskz_loadu_ps(mk, w + (n0 + jb + i) * ldw + k0 + kb) : _mm512_setzero_ps();
            if (kb < pf)                              // the next chunk of these rows, into L2
                for (int i = 0; i < nn; ++i) _mm_prefetch(reinterpret_cast<const char*>(w + (n0 + jb + i) * ldw + k0 + len + kb), _MM_HINT_T1);
            transpose16x16f(r);
            for (int64_t t = 0; t < kk; ++t) _mm512_store_ps(P + (kb + t) * NC + jb, r[t]);
        }
    }
}

// In: r[i] = 8 16-bit units of row i. Out: r[p] = unit p of rows 0..7 (r[p + 8]: rows 8..15).
inline void transpose8x8x2(__m128i r[16])
{
    for (int h = 0; h < 2; ++h) {
        __m128i* q = r + 8 * h;
        __m128i t[8], u[8];
        for (int i = 0; i < 4; ++i) {
            t[i] = _mm_unpacklo_epi16(q[2 * i], q[2 * i + 1]);       // rows 2i, 2i+1: units 0..3
            t[i + 4] = _mm_unpackhi_epi16(q[2 * i], q[2 * i + 1]);   // units 4..7
        }
        for (int b = 0; b < 2; ++b)
            for (int i = 0; i < 2; ++i) {                             // rows 4i..4i+3
                u[4 * b + i] = _mm_unpacklo_epi32(t[4 * b + 2 * i], t[4 * b + 2 * i + 1]);      // units 4b, 4b+1
                u[4 * b + i + 2] = _mm_unpackhi_epi32(t[4 * b + 2 * i], t[4 * b + 2 * i + 1]);  // units 4b+2, 4b+3
            }
        for (int b = 0; b < 4; ++b) {                                 // u[2b]: rows 0..3, u[2b+1]: rows 4..7
            q[2 * b] = _mm_unpacklo_epi64(u[2 * b], u[2 * b + 1]);
            q[2 * b + 1] = _mm_unpackhi_epi64(u[2 * b], u[2 * b + 1]);
        }
    }
}

// bf16 pair panel of PW columns: P16[(kk/2) * 2 * PW + 2 * j + (kk & 1)]; an odd len is padded with a
// zero k. (PW = NC: our micro-kernel's panel; PW = 64: a 64-column block of oneDNN's BA16a64b2a.)
// A k pair of a weight row is one 16-bit unit, so 16 rows x 16 k need only an 8x8 transpose of
// 16-bit units per 8 rows, and each transposed unit vector is already in pair order.
template <bool FP8, int64_t PW = NC>
__attribute__((target("avx512bf16")))
void decodePanelBf16(const WoGemmArgs& a, int64_t n0, int64_t k0, int64_t len, uint16_t* P16)
{
    const uint8_t* w = static_cast<const uint8_t*>(a.w);
    const int64_t pf = std::min(len, a.K - k0 - len);   // k's of the next chunk to prefetch
    for (int64_t jb = 0; jb < PW; jb += 16) {
        const int64_t nn = std::min<int64_t>(16, std::max<int64_t>(0, a.N - n0 - jb));
        for (int64_t kb = 0; kb < len; kb += 16) {
            const int64_t kk = std::min<int64_t>(16, len - kb);
            __m128i r[16];
            if (nn == 16 && kk == 16) {
                for (int i = 0; i < 16; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + (n0 + jb + i) * a.ldw + k0 + kb));
            } else {
                const __mmask16 mk = tailMask(kk);
                for (int i = 0; i < 16; ++i)
                    r[i] = i < nn ? _mm_maskz_loadu_epi8(mk, w + (n0 + jb + i) * a.ldw + k0 + kb) : _mm_setzero_si128();
            }
            if (pf > 0 && kb % 64 == 0 && kb < pf)          // next chunk of these rows, into L2
                for (int i = 0; i < nn; ++i)
                    _mm_prefetch(reinterpret_cast<const char*>(w + (n0 + jb + i) * a.ldw + k0 + len + kb), _MM_HINT_T1);
            transpose8x8x2(r);
            for (int64_t t = 0; 2 * t < kk; ++t) {
                // rows 0..7 and 8..15 at k pair t: 16 columns -> 32 bf16 = 64 bytes.
                const __m512bh b = _mm512_cvtne2ps_pbh(decode16<FP8>(r[t + 8]), decode16<FP8>(r[t]));   // exact
                _mm512_store_si512(P16 + (kb / 2 + t) * 2 * PW + 2 * jb, reinterpret_cast<const __m512i&>(b));
            }
        }
    }
}

// One X value broadcast (bf16 widened exactly).
template <bool XB>
inline __m512 bcastX(const void* x, int64_t k)
{
    if (!XB) return _mm512_set1_ps(static_cast<const float*>(x)[k]);
    return _mm512_castsi512_ps(_mm512_set1_epi32(int32_t(uint32_t(static_cast<const uint16_t*>(x)[k]) << 16)));
}

// C[i][0..64) (row stride NC) += (sum_k x[i][k] * P[k][0..64)) * sv[0..64), for R rows.
template <bool XB, int R>
void microF32(const void* const* xr, int64_t len, const float* P, const float* sv, float* C)
{
    __m512 acc[R][4];
    for (int i = 0; i < R; ++i)
        for (int v = 0; v < 4; ++v) acc[i][v] = _mm512_setzero_ps();
    for (int64_t k = 0; k < len; ++k) {
        const float* p = P + k * NC;
        const __m512 w0 = _mm512_load_ps(p), w1 = _mm512_load_ps(p + 16), w2 = _mm512_load_ps(p + 32), w3 = _mm512_load_ps(p + 48);
        for (int i = 0; i < R; ++i) {
            const __m512 xb = bcastX<XB>(xr[i], k);
            acc[i][0] = _mm512_fmadd_ps(xb, w0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(xb, w1, acc[i][1]);
            acc[i][2] = _mm512_fmadd_ps(xb, w2, acc[i][2]);
            acc[i][3] = _mm512_fmadd_ps(xb, w3, acc[i][3]);
        }
    }
    for (int v = 0; v < 4; ++v) {
        const __m512 s = _mm512_loadu_ps(sv + 16 * v);
        for (int i = 0; i < R; ++i) {
            float* c = C + i * NC + 16 * v;
            _mm512_storeu_ps(c, _mm512_fmadd_ps(acc[i][v], s, _mm512_loadu_ps(c)));
        }
    }
}

// One k pair of the bf16 micro tile: 4 panel vectors (64 columns x 2 k), R X-pair broadcasts.
template <int R>
__attribute__((target("avx512bf16"), always_inline))
inline void bf16Step(__m512 (&acc)[R][4], const uint16_t* p, const uint32_t* xv)
{
    const __m512bh w0 = reinterpret_cast<__m512bh>(_mm512_load_si512(p)), w1 = reinterpret_cast<__m512bh>(_mm512_load_si512(p + 32));
    const __m512bh w2 = reinterpret_cast<__m512bh>(_mm512_load_si512(p + 64)), w3 = reinterpret_cast<__m512bh>(_mm512_load_si512(p + 96));
    for (int i = 0; i < R; ++i) {
        const __m512bh xb = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int32_t(xv[i])));
        acc[i][0] = _mm512_dpbf16_ps(acc[i][0], xb, w0);
        acc[i][1] = _mm512_dpbf16_ps(acc[i][1], xb, w1);
        acc[i][2] = _mm512_dpbf16_ps(acc[i][2], xb, w2);
        acc[i][3] = _mm512_dpbf16_ps(acc[i][3], xb, w3);
    }
}

// The same as microF32 on the bf16 pair panel with vdpbf16ps; x is bf16. An odd len pairs the
// last k with 0.
template <int R>
__attribute__((target("avx512bf16")))
void microBf16(const void* const* xr, int64_t len, const uint16_t* P16, const float* sv, float* C)
{
    __m512 acc[R][4];
    for (int i = 0; i < R; ++i)
        for (int v = 0; v < 4; ++v) acc[i][v] = _mm512_setzero_ps();
    const int64_t pairs = len / 2;
    for (int64_t q = 0; q < pairs; ++q) {
        uint32_t xv[R];
        for (int i = 0; i < R; ++i) std::memcpy(&xv[i], static_cast<const uint16_t*>(xr[i]) + 2 * q, 4);
        bf16Step<R>(acc, P16 + q * 2 * NC, xv);
    }
    if (len & 1) {
        uint32_t xv[R];
        for (int i = 0; i < R; ++i) xv[i] = static_cast<const uint16_t*>(xr[i])[len - 1];
        bf16Step<R>(acc, P16 + pairs * 2 * NC, xv);
    }
    for (int v = 0; v < 4; ++v) {
        const __m512 s = _mm512_loadu_ps(sv + 16 * v);
        for (int i = 0; i < R; ++i) {
            float* c = C + i * NC + 16 * v;
            _mm512_storeu_ps(c, _mm512_fmadd_ps(acc[i][v], s, _mm512_loadu_ps(c)));
        }
    }
}

template <bool XB, bool BF, int R>
inline void micro(const void* const* xr, int64_t len, const float* P, const float* sv, float* C)
{
    if constexpr (BF) microBf16<R>(xr, len, reinterpret_cast<const uint16_t*>(P), sv, C);
    else microF32<XB, R>(xr, len, P, sv, C);
}

// Every tile of up to MR rows of X in [m0, m1) against the panel P of columns [n0, n0 + NC) and
// k in [k0, k0 + len), accumulated into C (row stride NC); half-panels past N are skipped.
template <bool XB, bool BF>
void panelRows(const void* x, int64_t ldx, int64_t N, int64_t m0, int64_t m1, int64_t n0, int64_t k0, int64_t len,
               const float* P, const float* sv, float* C)
{
    for (int64_t m = m0; m < m1; m += MR) {
        const int r = int(std::min<int64_t>(MR, m1 - m));
        const void* xr[MR];
        for (int i = 0; i < r; ++i)
            xr[i] = XB ? static_cast<const void*>(static_cast<const uint16_t*>(x) + (m + i) * ldx + k0)
                       : static_cast<const void*>(static_cast<const float*>(x) + (m + i) * ldx + k0);
        for (int64_t h = 0; h < NC && n0 + h < N; h += 64) {
            const float* Ph = P + h;   // bf16 pair panel: 2 bf16 per column = one float slot too
            float* Ch = C + (m - m0) * NC + h;
            switch (r) {
            case 6: micro<XB, BF, 6>(xr, len, Ph, sv + h, Ch); break;
            case 5: micro<XB, BF, 5>(xr, len, Ph, sv + h, Ch); break;
            case 4: micro<XB, BF, 4>(xr, len, Ph, sv + h, Ch); break;
            case 3: micro<XB, BF, 3>(xr, len, Ph, sv + h, Ch); break;
            case 2: micro<XB, BF, 2>(xr, len, Ph, sv + h, Ch); break;
            default: micro<XB, BF, 1>(xr, len, Ph, sv + h, Ch); break;
            }
        }
    }
}

template <bool FP8, bool XB, bool BF>
void gemmTask(const WoGemmArgs& a, int64_t m0, int64_t m1, int64_t n0)
{
    const int64_t G = a.w_gran == Gran::Group && a.group < a.K ? a.group : a.K, ng = (a.K + G - 1) / G;
    // Chunks: at most KC k's of one scale group (any length works: the panel loops are per k).
    // KC = 256: a 128 KiB fp32 panel (64 KiB bf16) per thread, whatever the group size.
    constexpr int64_t KC = 256;
    const float fold = FP8 ? 256.0f : 1.0f;
    Scratch& s = scratch();
    const int64_t rows = m1 - m0;
    float* C = s.c.floats(size_t(rows * NC));
    std::fill(C, C + rows * NC, 0.0f);
    float* P = s.panel.floats(size_t((KC + 1) * NC));   // 64-byte aligned panel rows
    float* sv = s.sv.floats(size_t(NC));
    for (int64_t g = 0; g < ng; ++g) {
        for (int64_t j = 0; j < NC; ++j)
            sv[j] = n0 + j < a.N ? scaleOf(a, n0 + j, g, ng) * fold : 0.0f;
        const int64_t gk1 = std::min(a.K, g * G + G);
        for (int64_t k0 = g * G; k0 < gk1; k0 += KC) {
            const int64_t len = std::min(KC, gk1 - k0);
            if constexpr (BF) decodePanelBf16<FP8>(a, n0, k0, len, reinterpret_cast<uint16_t*>(P));
            else decodePanelF32<FP8>(a, n0, k0, len, P);
            panelRows<XB, BF>(a.x, a.ldx, a.N, m0, m1, n0, k0, len, P, sv, C);
        }
    }
    for (int64_t m = m0; m < m1; ++m)
        for (int64_t j = 0; j < NC && n0 + j < a.N; j += 16)
            storeY(a, m, n0 + j, _mm512_loadu_ps(C + (m - m0) * NC + j), tailMask(a.N - n0 - j));
}

// Dense fp32 W: the same blocking with the packed (not decoded) panel and unit scales, one chunk
// of up to KC k's at a time over all of K.
template <bool XB>
void denseTask(const DenseGemmArgs& a, int64_t m0, int64_t m1, int64_t n0)
{
    constexpr int64_t KC = 256;
    Scratch& s = scratch();
    const int64_t rows = m1 - m0;
    float* C = s.c.floats(size_t(rows * NC));
    std::fill(C, C + rows * NC, 0.0f);
    float* P = s.panel.floats(size_t((KC + 1) * NC));
    float* sv = s.sv.floats(size_t(NC));
    std::fill(sv, sv + NC, 1.0f);
    const float* w = static_cast<const float*>(a.w);
    for (int64_t k0 = 0; k0 < a.K; k0 += KC) {
        const int64_t len = std::min(KC, a.K - k0);
        packPanelF32(w, a.ldw, a.N, a.K, n0, k0, len, P);
        panelRows<XB, false>(a.x, a.ldx, a.N, m0, m1, n0, k0, len, P, sv, C);
    }
    for (int64_t m = m0; m < m1; ++m)
        for (int64_t j = 0; j < NC && n0 + j < a.N; j += 16) {
            const __mmask16 mk = tailMask(a.N - n0 - j);
            __m512 v = _mm512_loadu_ps(C + (m - m0) * NC + j);
            if (a.bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, a.bias + n0 + j));
            if (a.y_type == DType::F32) _mm512_mask_storeu_ps(static_cast<float*>(a.y) + m * a.ldy + n0 + j, mk, v);
            else _mm256_mask_storeu_epi16(static_cast<uint16_t*>(a.y) + m * a.ldy + n0 + j, mk, toBf16(v));
        }
}

} // namespace

void gemm_dense_f32_task(const DenseGemmArgs& a, int64_t m0, int64_t m1, int64_t n0)
{
    if (a.x_type == DType::BF16) denseTask<true>(a, m0, m1, n0);
    else denseTask<false>(a, m0, m1, n0);
}

void gemv_wo_cols(const WoGemmArgs& a, int64_t n0, int64_t n1)
{
    const bool fp8 = a.w_type == QType::FP8_E4M3, xb = a.x_type == DType::BF16;
    if (fp8) { if (xb) gemvCols<true, true>(a, n0, n1); else gemvCols<true, false>(a, n0, n1); }
    else { if (xb) gemvCols<false, true>(a, n0, n1); else gemvCols<false, false>(a, n0, n1); }
}

int64_t gemm_wo_panel_cols() { return NC; }

void gemm_wo_task(const WoGemmArgs& a, int64_t m0, int64_t m1, int64_t n0, bool bf16dot)
{
    const bool fp8 = a.w_type == QType::FP8_E4M3, xb = a.x_type == DType::BF16;
    if (bf16dot && xb) {
        if (fp8) gemmTask<true, true, true>(a, m0, m1, n0);
        else gemmTask<false, true, true>(a, m0, m1, n0);
    } else if (fp8) {
        if (xb) gemmTask<true, true, false>(a, m0, m1, n0); else gemmTask<true, false, false>(a, m0, m1, n0);
    } else {
        if (xb) gemmTask<false, true, false>(a, m0, m1, n0); else gemmTask<false, false, false>(a, m0, m1, n0);
    }
}

void wo_decode_bf16(const WoGemmArgs& a, int64_t n0, int64_t n1, int64_t k0, int64_t kc, uint16_t* out)
{
    const bool fp8 = a.w_type == QType::FP8_E4M3;
    for (int64_t n = n0; n < n1; ++n) {
        const uint8_t* w = static_cast<const uint8_t*>(a.w) + n * a.ldw + k0;
        uint16_t* o = out + (n - n0) * kc;
        // The decoded values have at most 8 significant bits, so their bf16 is the float's high half.
        for (int64_t k = 0; k < kc; k += 16) {
            const __mmask16 mk = k + 16 <= kc ? __mmask16(0xFFFF) : tailMask(kc - k);
            const __m128i c = _mm_maskz_loadu_epi8(mk, w + k);
            const __m512 v = fp8 ? decode16<true>(c) : decode16<false>(c);
            _mm256_mask_storeu_epi16(o + k, mk, _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(v), 16)));
        }
    }
}

void wo_store_rows(const float* C, int64_t ldc, int64_t nb, const WoGemmArgs& a, int64_t n0)
{
    WoGemmArgs b = a;
    b.bias = nullptr;
    for (int64_t m = 0; m < a.M; ++m)
        for (int64_t j = 0; j < nb; j += 16) storeY(b, m, n0 + j, _mm512_loadu_ps(C + m * ldc + j), tailMask(nb - j));
}

__attribute__((target("avx512bf16")))
void wo_decode_bf16_ba64(const WoGemmArgs& a, int64_t n0, int64_t k0, int64_t kc, int64_t kpad, uint16_t* out)
{
    if (a.w_type == QType::FP8_E4M3) decodePanelBf16<true, 64>(a, n0, k0, kc, out);
    else decodePanelBf16<false, 64>(a, n0, k0, kc, out);
    const int64_t done = (kc + 1) / 2 * 2 * 64;   // pairs written, the odd k padded
    std::memset(out + done, 0, size_t(kpad * 64 - done) * sizeof(uint16_t));
}

} // namespace qb::kernels::avx512
