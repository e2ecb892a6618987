#pragma once
// Quantized replacements for the decoder's DenseLinear (see core/model/linear.h).
//  FakeQuantLinear: the weight quantized once and kept as 8-bit codes + scales (CPU, float32 /
//                   bfloat16 baselines), dequantized into the baseline dtype per call into a reused
//                   per-thread buffer, so a fake scheme holds half (bf16) or a quarter (fp32) of the
//                   baseline's linear bytes, not a full second copy (the sweep's memory budget);
//                   other devices / dtypes keep the dequantized weight. Activations (W8A8 schemes)
//                   quantized -> dequantized per call. The matmul is the baseline's (denseMatmul),
//                   so fake vs baseline differ only by quantization; the dequantized weight is bit
//                   for bit fakeQuantWeight(base weight).
//  RealQuantLinear: the weight stored as 8-bit codes + float32 scales (the memory saving is
//                   real and reported by weightBytes()); the matmul consumes the codes:
//                   weight-only -> kernels::gemm_wo (dequantizes inside the kernel);
//                   INT8 W8A8  -> per-token int8 activations, int32 sums by oneDNN's int8 matmul
//                                 (per-row / per-tensor weights, where built in and fast) or
//                                 kernels::gemm_int8; both bit-identical to gemm_int8_ref;
//                   FP8 W8A8   -> activations rounded to E4M3 per token, weight codes decoded
//                                 inside kernels::gemm_wo (CPU has no FP8 units).
//                   On CUDA the CUDA kernels are used when built (QB_HAVE_CUDA_KERNELS),
//                   otherwise codes are decoded by a table lookup per call.
#include "core/model/linear.h"
#include "core/quant/scheme.h"

#include <torch/torch.h>

#include <memory>

namespace qb {

class FakeQuantLinear final : public LinearOp {
public:
    FakeQuantLinear(const DenseLinear& base, const QuantScheme& scheme);
    at::Tensor forward(const at::Tensor& x) const override;
    int64_t inFeatures() const override { return in_; }
    int64_t outFeatures() const override { return out_; }
    uint64_t weightBytes() const override;
    std::string describe() const override;
    at::Tensor weight() const; // (out, in) dequantized, baseline dtype (a new tensor when stored as codes)

private:
    // Writes the dequantized weight into `out` ((out, in), baseline dtype, CPU, contiguous).
    void dequantizeInto(at::Tensor& out) const;

    QuantScheme scheme_;
    int64_t out_ = 0, in_ = 0;
    at::ScalarType dtype_;
    at::Tensor weight_;        // dequantized (other devices / dtypes), else undefined
    at::Tensor codes_, scales_; // (out, in) int8 / uint8 and flat float32 scales (CPU path)
    at::Tensor bias_, biasF32_;
};

class RealQuantLinear final : public LinearOp {
public:
    RealQuantLinear(const DenseLinear& base, const QuantScheme& scheme);
    ~RealQuantLinear() override;
    at::Tensor forward(const at::Tensor& x) const override;
    int64_t inFeatures() const override { return in_; }
    int64_t outFeatures() const override { return out_; }
    uint64_t weightBytes() const override;
    std::string describe() const override;
    bool prepareGemv(const at::Tensor& x2d, const at::Tensor& y, GemvCall& call) const override;

    const at::Tensor& codes() const { return codes_; }   // (out, in) int8 / uint8 (E4M3)
    const at::Tensor& scales() const { return scales_; } // (1,1) | (out,1) | (out, ngroups) float32
    at::Tensor dequantizedWeight() const;                // float32 (out, in), for tests/accuracy

private:
    at::Tensor forwardCpu(const at::Tensor& x2d) const;
    at::Tensor forwardFallback(const at::Tensor& x2d) const;
#ifdef QB_HAVE_CUDA_KERNELS
    at::Tensor forwardCuda(const at::Tensor& x2d) const;
#endif

    QuantScheme scheme_;
    int64_t out_ = 0, in_ = 0;
    at::Tensor codes_;
    at::Tensor scales_;
    at::Tensor bias_; // float32 (out) or undefined
    struct Packed;    // prepacked INT8 weight for the CPU VNNI kernel
    std::unique_ptr<Packed> packed_;
};

// The op for a scheme (baseline -> the DenseLinear itself).
LinearPtr makeQuantLinear(const std::shared_ptr<const DenseLinear>& base, const QuantScheme& scheme);

} // namespace qb
