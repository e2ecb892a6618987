#pragma once
// Dense GEMM on unquantized weights: Y[M,N] = X[M,K] . W[N,K]^T (+ bias), W bf16 or fp32.
// It exists for CPUs whose libtorch has no fast bf16 matmul (no AVX-512 BF16 / AMX: libtorch 1.13
// then runs bf16 at ~1.3 GFLOP/s on a Zen 3 against ~130 for fp32) and for the GEMV shape, where a
// kernel that reads W once at memory speed beats a BLAS sgemv: the bf16 baseline, the lm_head, and
// fake-quantized weights all run through it where core picks it.
// Reference order (gemm_dense_ref): s = sum_k x*w (k ascending, float32, bf16 inputs widened
// exactly); y = s (+ bias), rounded to nearest even when Y is bf16.
// Fast paths (gemm_dense, AVX2 + FMA, also used on AVX-512 CPUs): M <= gemm_dense_gemv_rows() the
// register-decode tiles of gemm_wo_avx2.cpp, larger M the panel GEMM of gemm_panel_avx2.cpp; same
// sums in another float32 order (tests: NMSE < 1e-10 against the reference).
#include "kernels/common.h"

namespace qb::kernels {

struct DenseGemmArgs {
    int64_t M = 0, N = 0, K = 0;
    const void* x = nullptr; DType x_type = DType::F32; int64_t ldx = 0;   // (M, K)
    const void* w = nullptr; DType w_type = DType::BF16; int64_t ldw = 0;  // (N, K)
    const float* bias = nullptr;                                             // (N) or null
    void* y = nullptr; DType y_type = DType::F32; int64_t ldy = 0;          // (M, N)
    int threads = 0; // 0: the kernels' thread count; 1: the calling thread only (inside a caller's tasks)
};

void gemm_dense_ref(const DenseGemmArgs& a);
// The argument checks of gemm_dense (std::invalid_argument naming fn), for callers that run its tiles.
void gemm_dense_check(const char* fn, const DenseGemmArgs& a);
void gemm_dense(const DenseGemmArgs& a);
// Rows of X up to which the register-decode (GEMV) tiles are used instead of the panel GEMM.
int64_t gemm_dense_gemv_rows();

} // namespace qb::kernels
