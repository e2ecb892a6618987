#pragma once
// W8A8 FP8 (E4M3) GEMM reference: Y[M,N] = X[M,K] . W[N,K]^T with both operands as E4M3 codes.
// Order: s = sum_k decode(x)*decode(w) (float32, k ascending); y = (s * sw[n]) * sx[m] (+ bias[n]).
// sx per token (M) or per tensor (1); sw per row (N) or per tensor (1). The CUDA path
// (cuBLASLt FP8 on sm_89+, a decode-in-kernel fallback elsewhere) is checked against it with NMSE.
#include "kernels/common.h"

namespace qb::kernels {

struct Fp8GemmArgs {
    int64_t M = 0, N = 0, K = 0;
    const uint8_t* x = nullptr; int64_t ldx = 0;                  // (M, K) E4M3 codes
    const float* x_scales = nullptr; bool x_per_tensor = false;   // (M) or (1)
    const uint8_t* w = nullptr; int64_t ldw = 0;                  // (N, K) E4M3 codes
    const float* w_scales = nullptr; bool w_per_tensor = false;   // (N) or (1)
    const float* bias = nullptr;                                  // (N) or null
    float* y = nullptr; int64_t ldy = 0;                          // (M, N)
};

void gemm_fp8_ref(const Fp8GemmArgs& a);

} // namespace qb::kernels
