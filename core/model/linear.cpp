#include "core/model/linear.h"

#include "core/model/dense_gemm.h"
#include "core/util/error.h"

namespace qb {

DenseLinear::DenseLinear(at::Tensor weight, at::Tensor bias)
    : weight_(std::move(weight)), bias_(std::move(bias))
{
    if (!weight_.defined() || weight_.dim() != 2)
        throw Error("DenseLinear: weight must be a 2-D (out, in) tensor");
    if (bias_.defined() && (bias_.dim() != 1 || bias_.size(0) != weight_.size(0)))
        throw Error("DenseLinear: bias must be 1-D with out_features elements");
    // Both paths take a contiguous (out, in) weight as it is; a non-contiguous one would be copied
    // on every call.
    weight_ = weight_.contiguous();
    if (bias_.defined()) {
        bias_ = bias_.to(weight_.scalar_type()).contiguous();
        biasF32_ = bias_.to(at::kCPU, at::kFloat).contiguous();
    }
}

at::Tensor DenseLinear::forward(const at::Tensor& x) const
{
    return denseMatmul(x, weight_, bias_, weight_.device().is_cpu() ? biasF32_ : at::Tensor());
}

uint64_t DenseLinear::weightBytes() const
{
    uint64_t n = weight_.numel() * weight_.element_size();
    if (bias_.defined())
        n += bias_.numel() * bias_.element_size();
    return n;
}

std::string DenseLinear::describe() const
{
    std::string dt = weight_.scalar_type() == at::kBFloat16 ? "bf16"
                     : weight_.scalar_type() == at::kHalf   ? "f16"
                     : weight_.scalar_type() == at::kFloat  ? "f32"
                                                            : std::string(c10::toString(weight_.scalar_type()));
    return "dense " + dt + (bias_.defined() ? " +bias" : "");
}

} // namespace qb
