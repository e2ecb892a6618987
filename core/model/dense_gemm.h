#pragma once
// y = x W^T (+ b) for the dense weights of the engine (baseline linears, lm_head, fake-quantized
// weights, matmul-accuracy references), on the fastest correct path for this CPU and shape:
//   kernels::gemm_dense (AVX2+FMA; register tiles for <= 4 rows, panel GEMM beyond) or at::linear.
// Policy (measured with `bench gemm` / `bench e2e` on a 2-core Zen 3; see core/model/README.md):
//   - CPU tensors of float32 / bfloat16 with an AVX2 CPU: the kernels, except bfloat16 with more
//     than 4 rows where libtorch has a fast bf16 matmul (oneDNN on AVX-512 BF16 / AMX CPUs);
//   - anything else (CUDA, float16, CPUs without AVX2): at::linear.
// The thread policy (core/util/threads.h) gives the BLAS one thread, so a BLAS sgemm would use one
// core; the kernels use them all. QB_DENSE=torch|kernels forces a path (benchmarks, tests).
// Numerics: both paths accumulate in float32 and round once to the output dtype.
#include "kernels/gemm_dense.h"

#include <torch/torch.h>

#include <optional>
#include <string>

namespace qb {

enum class DensePath { Torch, Kernels };

// Forces a path for the whole process (benchmarks comparing policies); nullopt = the policy.
void forceDensePath(std::optional<DensePath> p);

// The path for a weight of `dtype` on the CPU with `rows` rows of x.
DensePath densePath(at::ScalarType dtype, int64_t rows);
// libtorch 1.13 / 2.x route CPU bf16 matmuls to oneDNN only on AVX-512 (BW, VL, DQ) CPUs; elsewhere
// they run a scalar loop (~1.3 GFLOP/s on a Zen 3 against ~130 for fp32).
bool libtorchHasFastBf16();
std::string densePolicy(); // one line for provenance: "kernels avx2 (bf16: kernels)" ...

// The kernel arguments of y = x2d w^T (+ b) for CPU float32 / bfloat16 tensors of one dtype: x2d (rows, in)
// and y (rows, out) contiguous, w (out, in) contiguous, biasF32 (out) float32 or undefined.
kernels::DenseGemmArgs denseArgs(const at::Tensor& x2d, const at::Tensor& w, const at::Tensor& biasF32, const at::Tensor& y);

// x (..., in) in w's dtype; w (out, in) contiguous; bias (out) in w's dtype or undefined;
// biasF32: the same bias as float32 (avoids a conversion per call), optional.
at::Tensor denseMatmul(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias,
                       const at::Tensor& biasF32 = {});

} // namespace qb
