#pragma once
// Weight-only GEMM / GEMV: Y[M,N] = X[M,K] . dequant(W)[N,K]^T (+ bias), W as INT8 or
// FP8-E4M3 codes with per-tensor / per-row / per-group scales, dequantized inside the kernel
// (the float weight matrix is never materialised).
// Reference order: s = 0; per group g: p = sum_k x*decode(w) (k ascending); s = s + p * sw;
// y = s (+ bias). The fast path (AVX-512) sums in 16 lanes per group and folds sw into the lane
// sums, so it matches the reference within float32 summation-order error (tests: NMSE < 1e-10).
// Fast path covers per-tensor, per-row and per-group with G % 16 == 0; other G use _ref.
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
void gemm_wo(const WoGemmArgs& a);

} // namespace qb::kernels
