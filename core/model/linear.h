#pragma once
// The decoder's linear layers go through this interface so quantization can swap them:
// the baseline is DenseLinear; core/quant adds fake-quantized and real (codes + scales) ones.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

namespace qb {

class LinearOp {
public:
    virtual ~LinearOp() = default;
    // x: (..., in) in the model's compute dtype -> (..., out) in the same dtype.
    virtual at::Tensor forward(const at::Tensor& x) const = 0;
    virtual int64_t inFeatures() const = 0;
    virtual int64_t outFeatures() const = 0;
    virtual uint64_t weightBytes() const = 0; // bytes held for weights (+scales, +bias)
    virtual std::string describe() const = 0; // e.g. "dense bf16", "INT8 per-row real"
};

// y = x W^T (+ b). weight: (out, in), bias: (out) or undefined. Runs through denseMatmul
// (core/model/dense_gemm.h): our kernels or libtorch, whichever is faster on this CPU.
class DenseLinear final : public LinearOp {
public:
    DenseLinear(at::Tensor weight, at::Tensor bias = {});
    at::Tensor forward(const at::Tensor& x) const override;
    int64_t inFeatures() const override { return weight_.size(1); }
    int64_t outFeatures() const override { return weight_.size(0); }
    uint64_t weightBytes() const override;
    std::string describe() const override;
    const at::Tensor& weight() const { return weight_; }
    const at::Tensor& bias() const { return bias_; }

private:
    at::Tensor weight_;  // (out, in)
    at::Tensor bias_;    // (out) or undefined
    at::Tensor biasF32_; // bias_ as float32 for the kernels
};

using LinearPtr = std::shared_ptr<const LinearOp>;

} // namespace qb
