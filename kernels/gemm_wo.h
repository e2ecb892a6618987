#pragma once
// Weight-only GEMM / GEMV: Y[M,N] = X[M,K] . dequant(W)[N,K]^T (+ bias), W as INT8 or
// FP8-E4M3 codes with per-tensor / per-row / per-group scales, dequantized inside the kernel
// (the float weight matrix is never materialised).
// Reference order (gemm_wo_ref, the oracle): s = 0; per group g: p = sum_k x*decode(w)
// (k ascending); s = s + p * sw; y = s (+ bias). bf16 X is widened exactly; bf16 Y is rounded
// to nearest even at the end.
// Fast paths (gemm_wo, runtime dispatch on isa()) compute the same sums in another float32 order
// and match the reference within summation-order error (tests: NMSE < 1e-10; bf16 Y: one bf16
// ulp): X is never rounded and the decoded codes are exact, only the order of the additions and
// FMA contraction (unrounded products) differ:
//   AVX-512, M <= 4 (GEMV): 16 k-lanes per (row, column), each group's lane sums scaled by sw
//     (FP8: sw * 256, the codes being decoded as value / 256) and summed, lanes reduced at the end.
//   AVX-512, M > 4 (GEMM): codes of 128 columns x a chunk of up to 256 k within one scale group
//     are decoded once into a panel and reused by a block of rows (up to 512, gemm_wo_row_tasks);
//     per chunk p = sum over the chunk in k order (X fp32: fp32 FMA; X bf16 with AVX512_BF16:
//     vdpbf16ps, which adds k pairs and flushes denormal inputs/outputs), then s = s + p * sw (fused), sw being the chunk's group
//     scale (per row / per tensor: the one scale, applied per chunk).
//   AVX2 (no AVX-512): M <= gemm_wo_gemv_rows(): 8 k-lanes, as the GEMV above; larger M: the AVX2
//     panel GEMM (gemm_panel_avx2.cpp, shared with gemm_dense): codes of 64 columns x a chunk of up to
//     256 k within one scale group decoded into fp32 panels, 6 x 16 fp32 FMA micro-kernel, the chunk's
//     scale applied as above (per row / per tensor: once at the end).
//   oneDNN (gemm_wo_onednn.cpp; X bf16, M >= wo_onednn_min_rows(), when gemm_wo_path() says so): per block
//     of output columns and per scale group (per row / per tensor: all of K), the codes are decoded exactly
//     into a bf16 block (at most ~1 MiB per thread) and oneDNN's bf16 matmul (brgemm: AMX tiles where the
//     CPU has them, vdpbf16ps otherwise) computes the group's exact-product fp32 sums p; its post-ops apply
//     the scale and accumulate, s = p * sw (+ s) (+ bias at the last group); our AVX-512 store writes Y
//     (bf16: round to nearest even). X is copied group-major (per group: M x G dense) when G < K.
// All group sizes work on every path (G need not be a multiple of 16). No float copy of W or X
// is made; the GEMM uses per-thread scratch of 128 x (256 + rows of a task (<= 512)) floats.
#include "kernels/common.h"

namespace qb::kernels {

struct WoGemmArgs {
    int64_t M = 0, N = 0, K = 0;
    const void* x = nullptr; DType x_type = DType::F32; int64_t ldx = 0;    // (M, K)
    const void* w = nullptr; QType w_type = QType::INT8; int64_t ldw = 0;   // (N, K) codes
    const float* w_scales = nullptr; Gran w_gran = Gran::Row; int64_t group = 0; // (1)|(N)|(N, ceil(K/G))
    const float* bias = nullptr;                                              // (N) or null
    void* y = nullptr; DType y_type = DType::F32; int64_t ldy = 0;           // (M, N)
};

void gemm_wo_ref(const WoGemmArgs& a);
// The argument checks of gemm_wo (std::invalid_argument naming fn), for callers that run its tiles.
void gemm_wo_check(const char* fn, const WoGemmArgs& a);
void gemm_wo(const WoGemmArgs& a);
int64_t gemm_wo_gemv_rows(); // AVX2: register-decode tiles up to this many rows of X
// AVX-512 GEMM: how many blocks of rows of X (each decoding its own panels) for M rows, `panels`
// column panels and `threads` threads (see gemm_wo.cpp). Exposed for tests.
int64_t gemm_wo_row_tasks(int64_t M, int64_t panels, int threads);

// Which implementation gemm_wo uses for X bf16 with M >= wo_onednn_min_rows() (below that, and for X
// fp32, always ours). Auto: oneDNN where its CPU ISA has AMX (where libtorch's bf16 matmul runs on
// tiles too and a vdpbf16ps panel kernel cannot keep up), our panels elsewhere. QB_WO_GEMM=kernels|onednn
// sets the start value; set_wo_path() (tests, benchmarks) overrides it.
enum class WoPath : uint8_t { Auto, Kernels, Onednn };
WoPath wo_path();
void set_wo_path(WoPath p);
int64_t wo_onednn_min_rows();
// Built with oneDNN, oneDNN has a bf16 brgemm here (AVX512_BF16 or AMX) and isa() >= Avx512Bf16 (a forced
// lower level turns it off).
bool wo_onednn_available();
bool wo_prefill_onednn();                  // the policy's answer for bf16 X, M >= wo_onednn_min_rows()
bool wo_uses_onednn(const WoGemmArgs& a);   // the choice gemm_wo makes for a
// The oneDNN path itself, whatever the policy (tests): X must be bf16; throws std::invalid_argument
// when !wo_onednn_available().
void gemm_wo_onednn(const WoGemmArgs& a);

} // namespace qb::kernels
