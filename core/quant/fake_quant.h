#pragma once
// Quantize -> dequantize in libtorch ops (any device, any float dtype), with exactly the
// semantics of DESIGN.md and of the raw-pointer kernels in kernels/ (which test against them):
//   scale = amax / qmax (qmax = divisor for INT8, 448 for FP8), amax == 0 -> scale 1;
//   INT8 code = clamp(round_half_even(x / scale), -127, 127) (divisor 127.5: [-128, 127]);
//   FP8 E4M3FN code = round-to-nearest-even of x / scale on the E4M3 grid, saturated to +-448.
// All arithmetic is float32: x / scale, then code * scale.
#include "core/quant/scheme.h"

#include <torch/torch.h>

namespace qb {

// Rounds float32 values (already divided by their scale) to the E4M3FN grid, RNE, saturating.
at::Tensor roundToE4M3(const at::Tensor& v);

// Per-element scales broadcastable against w (float32), for a weight W [out, in].
// Per-tensor: [1,1]; per-row: [out,1]; per-group: [out, ceil(in/G)] (expand with groupExpand).
at::Tensor weightScales(const at::Tensor& w, QDType dt, Granularity g, int groupSize, double int8Divisor);

// Codes as float32 values (INT8 integers or E4M3 grid values) for W with the given scales.
at::Tensor quantizeCodes(const at::Tensor& w, const at::Tensor& scales, QDType dt, Granularity g,
                         int groupSize, double int8Divisor);

// quantize -> dequantize a weight; the result has w's dtype and device.
at::Tensor fakeQuantWeight(const at::Tensor& w, QDType dt, Granularity g, int groupSize, double int8Divisor);

// Dynamic activation quantize -> dequantize: x (..., K), per token (last dim) or per tensor.
at::Tensor fakeQuantActivation(const at::Tensor& x, QDType dt, ActQuant a, double int8Divisor);

// The two above run the kernels (kernels/quant.h) for CPU float32/bfloat16 tensors, ~10x faster
// than libtorch elementwise ops; these are the libtorch-only formulations (any device and dtype),
// used elsewhere and held bit-identical to the kernel path by tst_quant.
at::Tensor fakeQuantWeightTorch(const at::Tensor& w, QDType dt, Granularity g, int groupSize, double int8Divisor);
at::Tensor fakeQuantActivationTorch(const at::Tensor& x, QDType dt, ActQuant a, double int8Divisor);

} // namespace qb
