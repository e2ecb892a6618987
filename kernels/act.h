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

// RMSNorm as transformers' LlamaRMSNorm computes it, one pass per row instead of six libtorch ops:
// xf = float(x); var = sum(xf * xf) / n; inv = 1 / sqrt(var + eps); t = xf * inv rounded to the
// dtype; y = w * t (the product in float32, rounded to the dtype). x, w, y all `t` (F32 or BF16),
// rows of n with strides ldx / ldy; y may be x. The sum of squares is defined as 16 running lanes
// (lane j: the k = j mod 16, ascending, each xf*xf added by FMA) added pairwise as sum_lanes_ref
// (common.h), so the AVX-512 path is bit-identical to the reference; against libtorch's own reduction order
// the variance can differ in its last bit (tests).
void rms_norm_ref(const void* x, DType t, int64_t rows, int64_t n, int64_t ldx, const void* w, float eps, void* y, int64_t ldy);
void rms_norm(const void* x, DType t, int64_t rows, int64_t n, int64_t ldx, const void* w, float eps, void* y, int64_t ldy,
              int threads = 0);

// Rotary embedding as transformers applies it: y = x * cos + rotate_half(x) * sin, with
// rotate_half(x) = (-x[D/2:], x[:D/2]) and every product and the sum rounded to the dtype (bf16:
// nearest even), no FMA: the same three roundings as libtorch's elementwise ops, so the result is
// bit-identical to them. x, y: (tokens, heads, D) contiguous (y may be x); cos, sin: (tokens, D);
// D even; all `t`.
void rope_ref(const void* x, DType t, int64_t tokens, int64_t heads, int64_t D, const void* cos, const void* sin, void* y);
void rope(const void* x, DType t, int64_t tokens, int64_t heads, int64_t D, const void* cos, const void* sin, void* y,
          int threads = 0);

} // namespace qb::kernels
