// AVX2 + FMA panel GEMM for M > a few rows: Y[M,N] = X[M,K] . W[N,K]^T with W given as INT8 /
// FP8-E4M3 codes (per tensor / row / group scales), bf16 or fp32 values, row-major. The shared
// engine of the weight-only (gemm_wo) and dense (gemm_dense) GEMMs on CPUs without AVX-512.
//
// Blocking (BLIS-like, measured on a 2-core Zen 3, M=512):
//   - X is packed once per call into 6-row tiles [k][6] in fp32 (bf16 X widened exactly), chunk by
//     chunk, so the micro-kernel broadcasts from one contiguous stream;
//   - a thread owns NCB = 4 micro-panels (64 output columns) at a time; per K chunk (at most KC = 256
//     k's, never straddling a scale group) it decodes W[cols, chunk] into fp32 panels [k][16] with 8x8
//     transposes (codes -> floats exactly: INT8 vpmovsxbd + vcvtdq2ps, E4M3 the fp16-pattern trick with
//     the factor 256 folded into the scale, bf16 a 16-bit shift) and runs every 6-row tile of X over
//     them: the 64 KiB of panels stay in L2, the 6 x kc X tile in L1;
//   - micro-kernel: 6 rows x 16 columns, 12 ymm accumulators, vfmadd231ps with X broadcast.
// Sums per chunk p (k ascending within the chunk), then per group g: s = s + p_g * sw[n,g] (fused);
// per row / per tensor / dense the chunk sums are added and the scale applied once at the end. Only
// the float order differs from the references (gemm_wo_ref, gemm_dense_ref): no rounding of X or of
// decoded weights. When the column blocks are fewer than twice the threads, the rows are split too.
#include "kernels/common.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace qb::kernels::avx2 {
namespace {

constexpr int64_t MR = 6, NR = 16, NCB = 4, NC = NR * NCB, KC = 256;

struct Chunk {
    int64_t k0, kc, g;
    bool first, last; // first / last chunk of its group
    int64_t xoff;     // offset of the chunk in the packed X
};

inline void transpose8(__m256& r0, __m256& r1, __m256& r2, __m256& r3, __m256& r4, __m256& r5, __m256& r6, __m256& r7)
{
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
                 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE), s2 = _mm256_shuffle_ps(t1, t3, 0x44),
                 s3 = _mm256_shuffle_ps(t1, t3, 0xEE), s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
                 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r0 = _mm256_permute2f128_ps(s0, s4, 0x20);
    r1 = _mm256_permute2f128_ps(s1, s5, 0x20);
    r2 = _mm256_permute2f128_ps(s2, s6, 0x20);
    r3 = _mm256_permute2f128_ps(s3, s7, 0x20);
    r4 = _mm256_permute2f128_ps(s0, s4, 0x31);
    r5 = _mm256_permute2f128_ps(s1, s5, 0x31);
    r6 = _mm256_permute2f128_ps(s2, s6, 0x31);
    r7 = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// 8 weights at p -> 8 floats (E4M3: value / 256).
template <PanelW T>
inline __m256 decode8(const void* p)
{
    if constexpr (T == PanelW::F32) return _mm256_loadu_ps(static_cast<const float*>(p));
    if constexpr (T == PanelW::BF16) {
        const __m128i h = _mm_loadu_si128(static_cast<const __m128i*>(p));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    const __m128i c = _mm_loadl_epi64(static_cast<const __m128i*>(p));
    if constexpr (T == PanelW::I8) return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(c));
    const __m128i h = _mm_and_si128(_mm_slli_epi16(_mm_cvtepi8_epi16(c), 7), _mm_set1_epi16(int16_t(0xBFFF)));
    return _mm256_cvtph_ps(h);
}

template <PanelW T>
inline float decode1(const void* p)
{
    alignas(16) uint8_t b[32] = {};
    constexpr size_t es = T == PanelW::F32 ? 4 : T == PanelW::BF16 ? 2 : 1;
    std::memcpy(b, p, es);
    float v[8];
    _mm256_storeu_ps(v, decode8<T>(b));
    return v[0];
}

constexpr size_t elemSize(PanelW t) { return t == PanelW::F32 ? 4 : t == PanelW::BF16 ? 2 : 1; }

// W rows [n0, n0 + nvalid) (nvalid <= 16), k in [k0, k0 + kc) -> P[k][16] (missing rows = 0).
template <PanelW T>
void decodePanel(const PanelWeights& w, int64_t n0, int64_t nvalid, int64_t k0, int64_t kc, float* P)
{
    constexpr size_t es = elemSize(T);
    const char* base = static_cast<const char*>(w.w);
    for (int h = 0; h < 2; ++h) {
        const char* row[8];
        bool ok[8];
        for (int r = 0; r < 8; ++r) {
            const int64_t n = h * 8 + r;
            ok[r] = n < nvalid;
            row[r] = ok[r] ? base + size_t((n0 + n) * w.ldw + k0) * es : nullptr;
        }
        int64_t k = 0;
        if (ok[7]) { // all 8 rows present
            for (; k + 8 <= kc; k += 8) {
                __m256 r0 = decode8<T>(row[0] + k * es), r1 = decode8<T>(row[1] + k * es), r2 = decode8<T>(row[2] + k * es),
                       r3 = decode8<T>(row[3] + k * es), r4 = decode8<T>(row[4] + k * es), r5 = decode8<T>(row[5] + k * es),
                       r6 = decode8<T>(row[6] + k * es), r7 = decode8<T>(row[7] + k * es);
                transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
                float* d = P + k * NR + h * 8;
                _mm256_store_ps(d, r0);
                _mm256_store_ps(d + 16, r1);
                _mm256_store_ps(d + 32, r2);
                _mm256_store_ps(d + 48, r3);
                _mm256_store_ps(d + 64, r4);
                _mm256_store_ps(d + 80, r5);
                _mm256_store_ps(d + 96, r6);
                _mm256_store_ps(d + 112, r7);
            }
        }
        for (; k < kc; ++k) // tails: K not a multiple of 8, or a partial block of rows
            for (int r = 0; r < 8; ++r) P[k * NR + h * 8 + r] = ok[r] ? decode1<T>(row[r] + k * es) : 0.0f;
    }
}

void decodePanelAny(const PanelWeights& w, int64_t n0, int64_t nvalid, int64_t k0, int64_t kc, float* P)
{
    switch (w.type) {
    case PanelW::I8: decodePanel<PanelW::I8>(w, n0, nvalid, k0, kc, P); break;
    case PanelW::E4M3: decodePanel<PanelW::E4M3>(w, n0, nvalid, k0, kc, P); break;
    case PanelW::BF16: decodePanel<PanelW::BF16>(w, n0, nvalid, k0, kc, P); break;
    case PanelW::F32: decodePanel<PanelW::F32>(w, n0, nvalid, k0, kc, P); break;
    }
}

// C (6 x 16, ldc) op= A[kc][6] . B[kc][16]: Set (C = acc), Add (C += acc), Scale (C += acc * sv[16]),
// SetScale (C = acc * sv).
enum class Upd { Set, Add, Scale, SetScale };

template <Upd U, int R>
inline void micro(int64_t kc, const float* A, const float* B, float* C, int64_t ldc, const float* sv)
{
    __m256 c0[R], c1[R];
    for (int i = 0; i < R; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; ++k) {
        const __m256 b0 = _mm256_load_ps(B), b1 = _mm256_load_ps(B + 8);
        for (int i = 0; i < R; ++i) {
            const __m256 a = _mm256_broadcast_ss(A + i);
            c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
        }
        A += MR;
        B += NR;
    }
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    if constexpr (U == Upd::Scale || U == Upd::SetScale) {
        s0 = _mm256_loadu_ps(sv);
        s1 = _mm256_loadu_ps(sv + 8);
    }
    for (int i = 0; i < R; ++i) {
        float* c = C + i * ldc;
        if constexpr (U == Upd::Set) {
            _mm256_storeu_ps(c, c0[i]);
            _mm256_storeu_ps(c + 8, c1[i]);
        } else if constexpr (U == Upd::SetScale) {
            _mm256_storeu_ps(c, _mm256_mul_ps(c0[i], s0));
            _mm256_storeu_ps(c + 8, _mm256_mul_ps(c1[i], s1));
        } else if constexpr (U == Upd::Add) {
            _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), c0[i]));
            _mm256_storeu_ps(c + 8, _mm256_add_ps(_mm256_loadu_ps(c + 8), c1[i]));
        } else {
            _mm256_storeu_ps(c, _mm256_fmadd_ps(c0[i], s0, _mm256_loadu_ps(c)));
            _mm256_storeu_ps(c + 8, _mm256_fmadd_ps(c1[i], s1, _mm256_loadu_ps(c + 8)));
        }
    }
}

// Packs rows [0, M) of X, k in [k0, k0 + kc), into 6-row tiles [k][6] (rows past M are 0).
void packX(const void* x, bool xbf16, int64_t ldx, int64_t M, int64_t tile, int64_t k0, int64_t kc, float* dst)
{
    for (int64_t r = 0; r < MR; ++r) {
        const int64_t m = tile * MR + r;
        if (m >= M) {
            for (int64_t k = 0; k < kc; ++k) dst[k * MR + r] = 0.0f;
            continue;
        }
        if (xbf16) {
            const uint16_t* src = static_cast<const uint16_t*>(x) + m * ldx + k0;
            for (int64_t k = 0; k < kc; ++k) dst[k * MR + r] = bf16_to_float(src[k]);
        } else {
            const float* src = static_cast<const float*>(x) + m * ldx + k0;
            for (int64_t k = 0; k < kc; ++k) dst[k * MR + r] = src[k];
        }
    }
}

struct Scratch {
    ScratchBuffer panel, c, p;
};
Scratch& scratch()
{
    static thread_local Scratch s;
    return s;
}

inline void storeRow(void* y, bool ybf16, int64_t ldy, int64_t m, int64_t n0, int64_t nn, const float* v)
{
    if (!ybf16) {
        std::memcpy(static_cast<float*>(y) + m * ldy + n0, v, size_t(nn) * 4);
        return;
    }
    uint16_t* d = static_cast<uint16_t*>(y) + m * ldy + n0;
    for (int64_t j = 0; j < nn; ++j) d[j] = bf16_from_float(v[j]);
}

} // namespace

void panel_gemm(int64_t M, int64_t N, int64_t K, const void* x, bool xbf16, int64_t ldx, const PanelWeights& w,
                const float* bias, void* y, bool ybf16, int64_t ldy, int threads)
{
    const bool scaled = w.type == PanelW::I8 || w.type == PanelW::E4M3;
    const int64_t G = scaled && w.gran == Gran::Group && w.group < K ? w.group : K, ng = ceil_div(K, G);
    const float fold = w.type == PanelW::E4M3 ? 256.0f : 1.0f;
    // Chunks of at most KC k's, never across a group boundary.
    std::vector<Chunk> chunks; // (Chunk has internal linkage: so has this instantiation)
    const int64_t tiles = ceil_div(M, MR), Mp = tiles * MR;
    int64_t off = 0;
    for (int64_t g = 0; g < ng; ++g) {
        const int64_t g1 = std::min(K, g * G + G);
        for (int64_t k0 = g * G; k0 < g1; k0 += KC) {
            const int64_t kc = std::min(KC, g1 - k0);
            chunks.push_back({k0, kc, g, k0 == g * G, k0 + kc == g1, off});
            off += Mp * kc;
        }
    }
    static thread_local ScratchBuffer xpackBuf;
    float* xp = xpackBuf.floats(size_t(off));
    const int64_t nchunks = int64_t(chunks.size());
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) if (M * K > (1 << 15))
    for (int64_t c = 0; c < nchunks; ++c)
        for (int64_t t = 0; t < tiles; ++t)
            packX(x, xbf16, ldx, M, t, chunks[size_t(c)].k0, chunks[size_t(c)].kc, xp + chunks[size_t(c)].xoff + t * MR * chunks[size_t(c)].kc);

    // Tasks: column blocks of NC x row ranges (rows split only when columns are too few).
    const int64_t cblocks = ceil_div(N, NC);
    int64_t rparts = 1;
    if (cblocks < 2 * threads) rparts = std::min(tiles, ceil_div(2 * threads, cblocks));
    const int64_t tilesPer = ceil_div(tiles, rparts);
    rparts = ceil_div(tiles, tilesPer);
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads)
    for (int64_t cb = 0; cb < cblocks; ++cb)
        for (int64_t rp = 0; rp < rparts; ++rp) {
            const int64_t n0 = cb * NC, nn = std::min(NC, N - n0);
            const int64_t t0 = rp * tilesPer, t1 = std::min(tiles, t0 + tilesPer), rows = (t1 - t0) * MR;
            Scratch& s = scratch();
            float* P = s.panel.floats(size_t(NCB * KC * NR));
            float* C = s.c.floats(size_t(rows * NC));
            float* Pg = ng > 1 && G > KC ? s.p.floats(size_t(rows * NC)) : nullptr; // group partials
            alignas(32) float sv[NC];
            for (size_t ci = 0; ci < chunks.size(); ++ci) {
                const Chunk& ch = chunks[ci];
                for (int64_t b = 0; b * NR < nn; ++b)
                    decodePanelAny(w, n0 + b * NR, std::min<int64_t>(NR, nn - b * NR), ch.k0, ch.kc, P + b * ch.kc * NR);
                if (ng > 1)
                    for (int64_t j = 0; j < NC; ++j)
                        sv[j] = j < nn ? (w.gran == Gran::Tensor ? w.scales[0] : w.scales[(n0 + j) * ng + ch.g]) * fold : 0.0f;
                const bool firstChunk = ci == 0;
                for (int64_t t = t0; t < t1; ++t) {
                    const float* A = xp + ch.xoff + t * MR * ch.kc;
                    for (int64_t b = 0; b * NR < nn; ++b) {
                        const float* B = P + b * ch.kc * NR;
                        float* Ct = C + (t - t0) * MR * NC + b * NR;
                        if (ng == 1) { // one group: plain sums, scale at the end
                            if (firstChunk) micro<Upd::Set, MR>(ch.kc, A, B, Ct, NC, nullptr);
                            else micro<Upd::Add, MR>(ch.kc, A, B, Ct, NC, nullptr);
                        } else if (!Pg) { // the chunk is the whole group: C (+)= p * sw
                            if (firstChunk) micro<Upd::SetScale, MR>(ch.kc, A, B, Ct, NC, sv + b * NR);
                            else micro<Upd::Scale, MR>(ch.kc, A, B, Ct, NC, sv + b * NR);
                        } else { // groups longer than KC: partial sums first, then C += p * sw
                            float* Pt = Pg + (t - t0) * MR * NC + b * NR;
                            if (ch.first) micro<Upd::Set, MR>(ch.kc, A, B, Pt, NC, nullptr);
                            else micro<Upd::Add, MR>(ch.kc, A, B, Pt, NC, nullptr);
                            if (ch.last)
                                for (int i = 0; i < MR; ++i)
                                    for (int64_t j = 0; j < NR; ++j) {
                                        float& cv = Ct[i * NC + j];
                                        cv = (ch.g == 0 ? 0.0f : cv) + Pt[i * NC + j] * sv[b * NR + j];
                                    }
                        }
                    }
                }
            }
            // y = C (* the one scale) (+ bias)
            alignas(32) float rowv[NC];
            for (int64_t r = 0; r < rows; ++r) {
                const int64_t m = t0 * MR + r;
                if (m >= M) break;
                const float* cr = C + r * NC;
                for (int64_t j = 0; j < nn; ++j) {
                    float v = cr[j];
                    if (ng == 1 && scaled) v *= (w.gran == Gran::Tensor ? w.scales[0] : w.scales[n0 + j]) * fold;
                    if (bias) v += bias[n0 + j];
                    rowv[j] = v;
                }
                storeRow(y, ybf16, ldy, m, n0, nn, rowv);
            }
        }
}

} // namespace qb::kernels::avx2
