// AVX2 + FMA + F16C register-decode GEMM for few rows of X (CPUs without AVX-512, or forced with
// QB_KERNELS_ISA=avx2): the GEMV shape of the weight-only (INT8 / FP8 codes) and dense (bf16 / fp32
// weights) GEMMs; more rows go through the panel GEMM (gemm_panel_avx2.cpp).
// Tiles of MR (<= 4) rows of X x NR weight rows; the weights are decoded in registers 8 k at a time
// (INT8: vpmovsxbd + vcvtdq2ps; FP8 E4M3: the fp16-pattern trick of gemm_wo_avx512.cpp with
// vcvtph2ps, 256 folded into the scale; bf16: a 16-bit shift) and reused across the MR rows; lanes
// run over k, groups are folded with their scale, lanes are reduced once per output.
// Tails (a group or K not a multiple of 8) go through zero-padded 8-element copies.
#include "kernels/gemm_dense.h"
#include "kernels/gemm_wo.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>

#include <cstring>

namespace qb::kernels::avx2 {
namespace {

constexpr size_t elemSize(PanelW t) { return t == PanelW::F32 ? 4 : t == PanelW::BF16 ? 2 : 1; }

template <PanelW T>
inline __m256 decode8(const uint8_t* p)
{
    if constexpr (T == PanelW::F32) return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
    if constexpr (T == PanelW::BF16)
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
    const __m128i c = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    if constexpr (T == PanelW::I8) return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(c));
    const __m128i h = _mm_and_si128(_mm_slli_epi16(_mm_cvtepi8_epi16(c), 7), _mm_set1_epi16(int16_t(0xBFFF)));
    return _mm256_cvtph_ps(h);
}

// The operands of either GEMM as the tiles see them.
struct View {
    int64_t K;
    const void* x; int64_t ldx;
    const uint8_t* w; int64_t ldw; // ldw in elements
    const float* scales; Gran gran; int64_t group;
    const float* bias;
    void* y; bool ybf16; int64_t ldy;
};

template <bool XB>
inline __m256 loadX(const void* x, int64_t k)
{
    if (!XB) return _mm256_loadu_ps(static_cast<const float*>(x) + k);
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(x) + k));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline float scaleOf(const View& a, int64_t n, int64_t g, int64_t ng)
{
    if (!a.scales) return 1.0f;
    return a.gran == Gran::Tensor ? a.scales[0] : a.scales[n * ng + g];
}

template <PanelW T, bool XB, int MR, int NR>
void tile(const View& a, int64_t m0, int64_t n0)
{
    const int64_t G = a.scales && a.gran == Gran::Group && a.group < a.K ? a.group : a.K, ng = (a.K + G - 1) / G;
    const float fold = T == PanelW::E4M3 ? 256.0f : 1.0f;
    const size_t xsz = XB ? 2 : 4;
    constexpr size_t es = elemSize(T);
    const uint8_t* w[NR];
    for (int j = 0; j < NR; ++j) w[j] = a.w + size_t((n0 + j) * a.ldw) * es;
    const size_t pf = size_t(NR * a.ldw) * es; // bytes from a row to the same column NR rows on
    const char* x[MR];
    for (int i = 0; i < MR; ++i) x[i] = static_cast<const char*>(a.x) + size_t((m0 + i) * a.ldx) * xsz;
    __m256 tot[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) tot[i][j] = _mm256_setzero_ps();
    for (int64_t g = 0; g < ng; ++g) {
        __m256 acc[MR][NR];
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
        const int64_t k1 = g * G + G < a.K ? g * G + G : a.K;
        int64_t k = g * G;
        for (; k + 8 <= k1; k += 8) {
            // The NR rows are NR short interleaved streams (a 896-wide INT8 row is 14 cache lines)
            // that the hardware prefetcher barely ramps up on: fetch the same column of the next
            // tile's rows (the weights are contiguous, so that is the next block read) one line
            // per stream per 64 bytes. Prefetches never fault, past the last row included.
            if ((size_t(k) * es) % 64 == 0)
                for (int j = 0; j < NR; ++j) _mm_prefetch(reinterpret_cast<const char*>(w[j] + size_t(k) * es + pf), _MM_HINT_T0);
            __m256 wv[NR];
            for (int j = 0; j < NR; ++j) wv[j] = decode8<T>(w[j] + size_t(k) * es);
            for (int i = 0; i < MR; ++i) {
                const __m256 xv = loadX<XB>(x[i], k);
                for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
            }
        }
        if (k < k1) {                          // tail: zero-padded copies (no reads past the row)
            const size_t t = size_t(k1 - k);
            __m256 wv[NR];
            for (int j = 0; j < NR; ++j) {
                alignas(32) uint8_t b[32] = {};
                std::memcpy(b, w[j] + size_t(k) * es, t * es);
                wv[j] = decode8<T>(b);
            }
            for (int i = 0; i < MR; ++i) {
                alignas(32) char xb[32] = {};
                std::memcpy(xb, x[i] + size_t(k) * xsz, t * xsz);
                const __m256 xv = loadX<XB>(xb, 0);
                for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
            }
        }
        if (ng == 1) {
            for (int i = 0; i < MR; ++i)
                for (int j = 0; j < NR; ++j) tot[i][j] = acc[i][j];
        } else {
            for (int j = 0; j < NR; ++j) {
                const __m256 vs = _mm256_set1_ps(scaleOf(a, n0 + j, g, ng) * fold);
                for (int i = 0; i < MR; ++i) tot[i][j] = _mm256_fmadd_ps(acc[i][j], vs, tot[i][j]);
            }
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) {
            float v = hsum(tot[i][j]);
            if (ng == 1) v *= scaleOf(a, n0 + j, 0, 1) * fold;
            if (a.bias) v += a.bias[n0 + j];
            const int64_t o = (m0 + i) * a.ldy + n0 + j;
            if (!a.ybf16) static_cast<float*>(a.y)[o] = v;
            else static_cast<uint16_t*>(a.y)[o] = bf16_from_float(v);
        }
}

template <PanelW T, bool XB, int NR>
void rows(const View& a, int64_t m0, int64_t m1, int64_t n)
{
    int64_t m = m0;
    for (; m + 4 <= m1; m += 4) tile<T, XB, 4, NR>(a, m, n);
    switch (m1 - m) {
    case 3: tile<T, XB, 3, NR>(a, m, n); break;
    case 2: tile<T, XB, 2, NR>(a, m, n); break;
    case 1: tile<T, XB, 1, NR>(a, m, n); break;
    default: break;
    }
}

template <PanelW T, bool XB>
void block(const View& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    int64_t n = n0;
    if (m1 - m0 == 1)                  // GEMV: 4 weight streams (4 accumulators + 4 totals)
        for (; n + 4 <= n1; n += 4) rows<T, XB, 4>(a, m0, m1, n);
    for (; n + 2 <= n1; n += 2) rows<T, XB, 2>(a, m0, m1, n);   // 4 x 2: 8 accumulators + 8 totals
    for (; n < n1; ++n) rows<T, XB, 1>(a, m0, m1, n);
}

template <PanelW T>
void blockX(const View& a, bool xb, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    if (xb) block<T, true>(a, m0, m1, n0, n1);
    else block<T, false>(a, m0, m1, n0, n1);
}

} // namespace

void gemm_wo_block(const WoGemmArgs& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    const View v{a.K, a.x, a.ldx, static_cast<const uint8_t*>(a.w), a.ldw, a.w_scales, a.w_gran, a.group,
                 a.bias, a.y, a.y_type == DType::BF16, a.ldy};
    const bool xb = a.x_type == DType::BF16;
    if (a.w_type == QType::FP8_E4M3) blockX<PanelW::E4M3>(v, xb, m0, m1, n0, n1);
    else blockX<PanelW::I8>(v, xb, m0, m1, n0, n1);
}

void gemm_dense_block(const DenseGemmArgs& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
    const View v{a.K, a.x, a.ldx, static_cast<const uint8_t*>(a.w), a.ldw, nullptr, Gran::Row, 0,
                 a.bias, a.y, a.y_type == DType::BF16, a.ldy};
    const bool xb = a.x_type == DType::BF16;
    if (a.w_type == DType::BF16) blockX<PanelW::BF16>(v, xb, m0, m1, n0, n1);
    else blockX<PanelW::F32>(v, xb, m0, m1, n0, n1);
}

} // namespace qb::kernels::avx2
