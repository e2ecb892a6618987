#pragma once
// The SwiGLU gate of the MLP on bf16 activations: y = bf16(bf16(silu(g)) * u), element by element:
// silu in float32 as g / (1 + exp(-g)), rounded to bf16 (nearest even), then the product in float32
// (exact for two bf16), rounded. That is libtorch's at::silu(g.float()).bfloat16() * u, and what CUDA
// and recent libtorch compute for at::silu on bf16 (libtorch 1.13's CPU kernel rounds each step to
// bf16 instead, up to a few bf16 ulp off). exp is exp_f32_ref below, not Sleef's: on 2.5 M normal
// gate values (sd 3) the two chains gave identical bf16 outputs (tests allow 1 ulp at < 0.1%).
// One pass over g and u instead of libtorch's ops and temporaries.
#include "kernels/common.h"

namespace qb::kernels {

// float32 exp: x clamped to [-104, 89] (NaN kept), n = rne(x * log2 e), r = x - n ln2 (two-part
// constant, FMAs), e^r by a degree-6 polynomial (Cephes' expf coefficients) as 1 + r + r^2 p(r),
// times 2^n with correct rounding (overflow to inf, underflow through the subnormals to 0).
// Within 2 ulp of exp over the float range (tests); the AVX-512 path computes the same operations
// in the same order, bit for bit.
float exp_f32_ref(float x);
// y[i] for i < n; y may be g or u (in place). Scalar oracle of silu_mul_bf16.
void silu_mul_bf16_ref(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n);
// Runtime dispatch (AVX-512: 16 at a time, threaded over blocks of 8192 from 64 Ki elements on;
// threads as in DenseGemmArgs: 0 = the kernels' count, 1 = the caller's thread). Bit-identical to
// silu_mul_bf16_ref on every path.
void silu_mul_bf16(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n, int threads = 0);

} // namespace qb::kernels
