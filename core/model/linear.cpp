#include "core/model/linear.h"

#include "core/model/dense_gemm.h"
#include "core/util/error.h"
#include "kernels/gemv_batch.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

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

bool DenseLinear::prepareGemv(const at::Tensor& x2d, const at::Tensor& y, GemvCall& call) const
{
    const at::ScalarType dt = weight_.scalar_type();
    if (!weight_.device().is_cpu() || x2d.scalar_type() != dt || densePath(dt, x2d.size(0)) != DensePath::Kernels)
        return false;
    call.dense = denseArgs(x2d, weight_, biasF32_, y);
    call.job = {nullptr, &call.dense};
    return true;
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

namespace {

std::atomic<int> g_batching{-1}; // -1: not read yet

bool batching()
{
    int b = g_batching.load(std::memory_order_relaxed);
    if (b < 0) {
        const char* e = std::getenv("QB_GEMV_BATCH");
        b = e && std::strcmp(e, "0") == 0 ? 0 : 1;
        g_batching = b;
    }
    return b == 1;
}

} // namespace

void setGemvBatching(bool on) { g_batching = on ? 1 : 0; }

bool batchedGemv(const at::Tensor& x, const std::vector<const LinearOp*>& ops, std::vector<at::Tensor>& out)
{
    if (!batching() || ops.empty() || ops.size() > 8 || (x.scalar_type() != at::kFloat && x.scalar_type() != at::kBFloat16) || !x.device().is_cpu() || x.dim() < 1 || x.numel() == 0)
        return false;
    const int64_t in = x.size(-1), rows = x.numel() / in;
    if (rows > kernels::gemv_batch_rows())
        return false;
    const at::Tensor x2d = x.reshape({rows, in}).contiguous();
    GemvCall calls[8];
    at::Tensor ys[8];
    kernels::GemvJob jobs[8];
    for (size_t i = 0; i < ops.size(); ++i) {
        if (ops[i]->inFeatures() != in)
            return false;
        ys[i] = at::empty({rows, ops[i]->outFeatures()}, x2d.options());
        if (!ops[i]->prepareGemv(x2d, ys[i], calls[i]))
            return false;
        jobs[i] = calls[i].job;
    }
    kernels::gemv_batch(jobs, int(ops.size()));
    out.resize(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
        auto shape = x.sizes().vec();
        shape.back() = ops[i]->outFeatures();
        out[i] = ys[i].view(shape);
    }
    return true;
}

} // namespace qb
