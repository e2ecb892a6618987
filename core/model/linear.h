#pragma once
// The decoder's linear layers go through this interface so quantization can swap them:
// the baseline is DenseLinear; core/quant adds fake-quantized and real (codes + scales) ones.
#include "kernels/gemv_batch.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

namespace qb {

// One op's share of a batched decode-step GEMV (kernels/gemv_batch.h): the kernel arguments, which
// point into x2d and y (the caller keeps both alive until the batch has run).
struct GemvCall {
    kernels::WoGemmArgs wo;
    kernels::DenseGemmArgs dense;
    kernels::GemvJob job;
};

class LinearOp {
public:
    virtual ~LinearOp() = default;
    // x: (..., in) in the model's compute dtype -> (..., out) in the same dtype.
    virtual at::Tensor forward(const at::Tensor& x) const = 0;
    virtual int64_t inFeatures() const = 0;
    virtual int64_t outFeatures() const = 0;
    virtual uint64_t weightBytes() const = 0; // bytes held for weights (+scales, +bias)
    virtual std::string describe() const = 0; // e.g. "dense bf16", "INT8 per-row real"
    // Called by batchedGemv with a CPU x2d (rows <= kernels::gemv_batch_rows(), in) contiguous, float32
    // or bfloat16, and y (rows, out) of the same dtype: when forward(x2d) is exactly one kernel GEMV, fills `call` so that
    // running it writes forward(x2d)'s values into y, and returns true; otherwise false (the default).
    virtual bool prepareGemv(const at::Tensor& x2d, const at::Tensor& y, GemvCall& call) const
    {
        (void)x2d, (void)y, (void)call;
        return false;
    }
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
    bool prepareGemv(const at::Tensor& x2d, const at::Tensor& y, GemvCall& call) const override;
    const at::Tensor& weight() const { return weight_; }
    const at::Tensor& bias() const { return bias_; }

private:
    at::Tensor weight_;  // (out, in)
    at::Tensor bias_;    // (out) or undefined
    at::Tensor biasF32_; // bias_ as float32 for the kernels
};

using LinearPtr = std::shared_ptr<const LinearOp>;

// Runs ops[i]->forward(x) for ops that all read the same x as one batch of GEMVs (one fork/join)
// when x has <= kernels::gemv_batch_rows() rows on the CPU and every op can (prepareGemv); returns
// false, having computed nothing, otherwise. QB_GEMV_BATCH=0 or setGemvBatching(false) turns it off.
bool batchedGemv(const at::Tensor& x, const std::vector<const LinearOp*>& ops, std::vector<at::Tensor>& out);
void setGemvBatching(bool on);

} // namespace qb
