// AVX-512 GEMV tiles of the dense GEMM (plain bf16 / fp32 weights, M <= gemm_dense_gemv_rows()):
// batch-1 decode reads every weight once per token, so this is the loop that decides bf16 decode
// speed. Per tile: MR rows of X (1..4) x 4 output columns, 16 accumulators (one bf16 row of X:
// weight rows one after another, rowsBf16). With X and W both bf16
// and AVX512_BF16 present, vdpbf16ps multiplies 32 bf16 pairs per instruction straight from the
// loaded bytes (no widening; products of two bf16 are exact in fp32, the pair sums are rounded,
// subnormals flushed: within float tolerance of the double-sum _ref); otherwise bf16 values are
// widened by a 16-bit shift (exact) and summed with fp32 FMAs, 16 k per step. K tails use masked
// loads (zero-filled), so nothing past a row is read.
#include "kernels/avx512_inl.h"
#include "kernels/gemm_dense.h"
#include "kernels/simd_decl.h"

#include <immintrin.h>

namespace qb::kernels::avx512 {
namespace {

constexpr int NR = 4;


inline void store(const DenseGemmArgs& a, int64_t m, int64_t n, float v)
{
    if (a.bias) v += a.bias[n];
    const int64_t o = m * a.ldy + n;
    if (a.y_type == DType::F32) static_cast<float*>(a.y)[o] = v;
    else static_cast<uint16_t*>(a.y)[o] = bf16_from_float(v);
}

template <int MR, int NC>
void tileF32(const DenseGemmArgs& a, int64_t n0)
{
    const bool xb = a.x_type == DType::BF16, wb = a.w_type == DType::BF16;
    const size_t xs = xb ? 2 : 4, ws = wb ? 2 : 4;
    const char* x[MR];
    for (int i = 0; i < MR; ++i) x[i] = static_cast<const char*>(a.x) + size_t(i * a.ldx) * xs;
    const char* w[NC];
    for (int j = 0; j < NC; ++j) w[j] = static_cast<const char*>(a.w) + size_t((n0 + j) * a.ldw) * ws;
    __m512 acc[MR][NC];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NC; ++j) acc[i][j] = _mm512_setzero_ps();
    for (int64_t k = 0; k < a.K; k += 16) {
        const __mmask16 m = a.K - k >= 16 ? __mmask16(0xffff) : __mmask16((1u << (a.K - k)) - 1u);
        __m512 wv[NC];
        for (int j = 0; j < NC; ++j) wv[j] = load_f32x16(w[j], wb, k, m);
        for (int i = 0; i < MR; ++i) {
            const __m512 xv = load_f32x16(x[i], xb, k, m);
            for (int j = 0; j < NC; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NC; ++j) store(a, i, n0 + j, _mm512_reduce_add_ps(acc[i][j]));
}

template <int MR, int NC>
__attribute__((target("avx512bf16")))
void tileBf16(const DenseGemmArgs& a, int64_t n0)
{
    const uint16_t* x[MR];
    for (int i = 0; i < MR; ++i) x[i] = static_cast<const uint16_t*>(a.x) + i * a.ldx;
    const uint16_t* w[NC];
    for (int j = 0; j < NC; ++j) w[j] = static_cast<const uint16_t*>(a.w) + (n0 + j) * a.ldw;
    __m512 acc[MR][NC];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NC; ++j) acc[i][j] = _mm512_setzero_ps();
    for (int64_t k = 0; k < a.K; k += 32) {
        const __mmask32 m = a.K - k >= 32 ? __mmask32(0xffffffffu) : __mmask32((1ull << (a.K - k)) - 1u);
        __m512bh wv[NC];
        for (int j = 0; j < NC; ++j) wv[j] = reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(m, w[j] + k));
        for (int i = 0; i < MR; ++i) {
            const __m512bh xv = reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(m, x[i] + k));
            for (int j = 0; j < NC; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xv, wv[j]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NC; ++j) store(a, i, n0 + j, _mm512_reduce_add_ps(acc[i][j]));
}

// One row of X against weight rows n0..n1 read one after another: the weight bytes stream in
// memory order (the rows of W are contiguous), which the hardware prefetcher follows better
// than 4 interleaved row streams. 4 accumulators over k hide the vdpbf16ps latency.
// bench gemm, M = 1, W from DRAM against the paired read probe (EPYC, 2 threads): 4-row tiles
// 87-93 %, this 104-113 %; bf16 decode of the qwen2.5-0.5b shape 28.9 -> 30.5 tok/s (3 runs each).
__attribute__((target("avx512bf16")))
void rowsBf16(const DenseGemmArgs& a, int64_t n0, int64_t n1)
{
    const uint16_t* x = static_cast<const uint16_t*>(a.x);
    const int64_t K = a.K, K128 = K & ~int64_t(127);
    for (int64_t n = n0; n < n1; ++n) {
        const uint16_t* w = static_cast<const uint16_t*>(a.w) + n * a.ldw;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int64_t k = 0;
        for (; k < K128; k += 128) {
            acc0 = _mm512_dpbf16_ps(acc0, reinterpret_cast<__m512bh>(_mm512_loadu_si512(x + k)), reinterpret_cast<__m512bh>(_mm512_loadu_si512(w + k)));
            acc1 = _mm512_dpbf16_ps(acc1, reinterpret_cast<__m512bh>(_mm512_loadu_si512(x + k + 32)), reinterpret_cast<__m512bh>(_mm512_loadu_si512(w + k + 32)));
            acc2 = _mm512_dpbf16_ps(acc2, reinterpret_cast<__m512bh>(_mm512_loadu_si512(x + k + 64)), reinterpret_cast<__m512bh>(_mm512_loadu_si512(w + k + 64)));
            acc3 = _mm512_dpbf16_ps(acc3, reinterpret_cast<__m512bh>(_mm512_loadu_si512(x + k + 96)), reinterpret_cast<__m512bh>(_mm512_loadu_si512(w + k + 96)));
        }
        for (; k < K; k += 32) {
            const __mmask32 m = K - k >= 32 ? __mmask32(0xffffffffu) : __mmask32((1ull << (K - k)) - 1u);
            acc0 = _mm512_dpbf16_ps(acc0, reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(m, x + k)),
                                    reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(m, w + k)));
        }
        store(a, 0, n, _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3))));
    }
}

// The same row order without vdpbf16ps (fp32 W or X, or AVX-512 CPUs without BF16): X as fp32
// once per call, each W row widened 16 values at a time (exact for bf16), 4 accumulators.
// bench gemm with QB_KERNELS_ISA=avx512 (bf16 W, cold): 4-row tiles 47-65 % of the paired read
// probe, this 102-104 %.
template <bool WB>
void rowsF32(const DenseGemmArgs& a, int64_t n0, int64_t n1)
{
    const int64_t K = a.K, K64 = K & ~int64_t(63);
    const float* xf = static_cast<const float*>(a.x);
    if (a.x_type == DType::BF16) {
        static thread_local ScratchBuffer xbuf;
        float* t = xbuf.floats(size_t(K));
        for (int64_t k = 0; k < K; k += 16) {
            const __mmask16 m = K - k >= 16 ? __mmask16(0xffff) : __mmask16((1u << (K - k)) - 1u);
            _mm512_mask_storeu_ps(t + k, m, load_f32x16(a.x, true, k, m));
        }
        xf = t;
    }
    const size_t ws = WB ? 2 : 4;
    for (int64_t n = n0; n < n1; ++n) {
        const char* w = static_cast<const char*>(a.w) + size_t(n * a.ldw) * ws;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int64_t k = 0;
        for (; k < K64; k += 64) {
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(xf + k), load_f32x16(w, WB, k, 0xffff), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(xf + k + 16), load_f32x16(w, WB, k + 16, 0xffff), acc1);
            acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(xf + k + 32), load_f32x16(w, WB, k + 32, 0xffff), acc2);
            acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(xf + k + 48), load_f32x16(w, WB, k + 48, 0xffff), acc3);
        }
        for (; k < K; k += 16) {
            const __mmask16 m = K - k >= 16 ? __mmask16(0xffff) : __mmask16((1u << (K - k)) - 1u);
            acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xf + k), load_f32x16(w, WB, k, m), acc0);
        }
        store(a, 0, n, _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3))));
    }
}

template <int MR>
void cols(const DenseGemmArgs& a, int64_t n0, int64_t n1, bool dot)
{
    int64_t n = n0;
    if (MR == 1) { // batch-1 decode: rows in memory order
        if (dot) rowsBf16(a, n0, n1);
        else if (a.w_type == DType::BF16) rowsF32<true>(a, n0, n1);
        else rowsF32<false>(a, n0, n1);
        return;
    }
    if (dot) {
        for (; n + NR <= n1; n += NR) tileBf16<MR, NR>(a, n);
        for (; n < n1; ++n) tileBf16<MR, 1>(a, n);
    } else {
        for (; n + NR <= n1; n += NR) tileF32<MR, NR>(a, n);
        for (; n < n1; ++n) tileF32<MR, 1>(a, n);
    }
}

} // namespace

void gemm_dense_gemv(const DenseGemmArgs& a, int64_t n0, int64_t n1, bool bf16dot)
{
    const bool dot = bf16dot && a.x_type == DType::BF16 && a.w_type == DType::BF16;
    switch (a.M) {
    case 1: cols<1>(a, n0, n1, dot); break;
    case 2: cols<2>(a, n0, n1, dot); break;
    case 3: cols<3>(a, n0, n1, dot); break;
    case 4: cols<4>(a, n0, n1, dot); break;
    default: break; // the dispatcher sends at most gemm_dense_gemv_rows() == 4 rows here
    }
}

} // namespace qb::kernels::avx512
