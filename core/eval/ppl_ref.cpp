#include "core/eval/ppl_ref.h"

#include "core/model/llama.h"
#include "core/util/torch_compat.h"

#include <algorithm>
#include <cmath>

namespace qb {

namespace {

std::vector<at::Tensor> windowsOf(const std::vector<int32_t>& tokens, int64_t ctx, int64_t n, torch::Device dev)
{
    std::vector<at::Tensor> w;
    for (int64_t s = 0; int64_t(w.size()) < n && s + 2 <= int64_t(tokens.size()); s += ctx) {
        int64_t len = std::min<int64_t>(ctx, int64_t(tokens.size()) - s);
        std::vector<int64_t> v(tokens.begin() + s, tokens.begin() + s + len);
        w.push_back(torch::tensor(v, torch::kLong).view({1, len}).to(dev));
    }
    return w;
}

} // namespace

PplReference makePplReference(const LlamaModel& model, const std::vector<int32_t>& tokens, int64_t ctx,
                              int64_t windows, int64_t topk, const EvalHooks& hooks)
{
    compat::InferenceGuard g;
    PplReference ref;
    ref.ctx = std::min(ctx, model.config().max_position_embeddings);
    ref.topk = std::min<int64_t>(topk, model.config().vocab_size);
    for (const auto& w : windowsOf(tokens, ref.ctx, windows, model.device())) {
        hooks.check();
        at::Tensor lp = torch::log_softmax(model.forward(w)[0], -1); // (T, V)
        lp = lp.slice(0, 0, lp.size(0) - 1);                         // positions that predict a token
        auto tk = lp.topk(ref.topk, -1);
        ref.logp.push_back(std::get<0>(tk).to(torch::kCPU, torch::kFloat));
        ref.ids.push_back(std::get<1>(tk).to(torch::kCPU));
    }
    return ref;
}

KlResult klFromTopK(const at::Tensor& baseLogp, const at::Tensor& baseIds, const at::Tensor& logp)
{
    KlResult r;
    at::Tensor lb = baseLogp.to(torch::kDouble);                    // (T, k)
    at::Tensor lq = logp.to(torch::kDouble);                        // (T, V)
    at::Tensor lqk = lq.gather(1, baseIds);                         // (T, k)
    at::Tensor pb = lb.exp();
    at::Tensor kl = (pb * (lb - lqk)).sum(1);                       // (T)
    at::Tensor tailB = (1.0 - pb.sum(1)).clamp_min(0.0);
    at::Tensor tailQ = (1.0 - lqk.exp().sum(1)).clamp_min(1e-30);
    at::Tensor tailTerm = torch::where(tailB > 1e-12, tailB * (tailB.clamp_min(1e-30).log() - tailQ.log()),
                                       torch::zeros_like(tailB));
    kl = (kl + tailTerm).clamp_min(0.0); // rounding can make an exact zero slightly negative
    r.tokens = kl.size(0);
    r.mean_kl = kl.mean().item<double>();
    at::Tensor sorted = std::get<0>(kl.sort());
    int64_t idx = std::min<int64_t>(r.tokens - 1, int64_t(std::ceil(0.99 * double(r.tokens))) - 1);
    r.p99_kl = sorted[std::max<int64_t>(0, idx)].item<double>();
    r.top1_agreement = (lq.argmax(1) == baseIds.select(1, 0)).to(torch::kDouble).mean().item<double>();
    r.exact = baseIds.size(1) >= logp.size(1);
    return r;
}

KlResult compareToReference(const LlamaModel& model, const std::vector<int32_t>& tokens, const PplReference& ref,
                            const EvalHooks& hooks)
{
    compat::InferenceGuard g;
    std::vector<at::Tensor> lb, ib, lq;
    auto ws = windowsOf(tokens, ref.ctx, int64_t(ref.logp.size()), model.device());
    for (size_t i = 0; i < ws.size(); ++i) {
        hooks.check();
        at::Tensor lp = torch::log_softmax(model.forward(ws[i])[0], -1);
        lq.push_back(lp.slice(0, 0, lp.size(0) - 1).to(torch::kCPU, torch::kFloat));
        lb.push_back(ref.logp[i]);
        ib.push_back(ref.ids[i]);
    }
    if (lq.empty())
        return {};
    KlResult r = klFromTopK(torch::cat(lb), torch::cat(ib), torch::cat(lq));
    r.windows = int64_t(ws.size());
    return r;
}

} // namespace qb
