#include "core/eval/ppl_ref.h"

#include "core/eval/ppl.h"
#include "core/model/llama.h"
#include "core/report/stats.h"
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
        const int64_t T = w.size(1);
        at::Tensor hidden = model.forwardHidden(w)[0]; // (T, hidden); the last row predicts nothing
        std::vector<at::Tensor> lps, ids, tgt;
        for (int64_t r0 = 0; r0 < T - 1; r0 += kLogitRows) {
            const int64_t rows = std::min(kLogitRows, T - 1 - r0);
            at::Tensor lg = model.logits(hidden.narrow(0, r0, rows));
            at::Tensor lse = lg.logsumexp(-1, /*keepdim=*/true);
            auto tk = lg.topk(ref.topk, -1); // the order of logits is the order of log-probs
            lps.push_back((std::get<0>(tk) - lse).to(torch::kCPU, torch::kFloat));
            ids.push_back(std::get<1>(tk).to(torch::kCPU));
            auto target = w[0].narrow(0, 1 + r0, rows).unsqueeze(1);
            tgt.push_back((lg.gather(1, target) - lse).squeeze(1).to(torch::kCPU, torch::kFloat));
        }
        ref.targetLogp.push_back(torch::cat(tgt));
        ref.logp.push_back(torch::cat(lps));
        ref.ids.push_back(torch::cat(ids));
    }
    return ref;
}

std::pair<at::Tensor, at::Tensor> klPerToken(const at::Tensor& baseLogp, const at::Tensor& baseIds, const at::Tensor& logp,
                                             const at::Tensor& lse)
{
    at::Tensor lb = baseLogp.to(torch::kDouble);                    // (T, k)
    at::Tensor lqk = logp.gather(1, baseIds).to(torch::kDouble);    // (T, k)
    if (lse.defined())
        lqk = lqk - lse.to(torch::kDouble);
    at::Tensor pb = lb.exp();
    at::Tensor kl = (pb * (lb - lqk)).sum(1);                       // (T)
    at::Tensor tailB = (1.0 - pb.sum(1)).clamp_min(0.0);
    at::Tensor tailQ = (1.0 - lqk.exp().sum(1)).clamp_min(1e-30);
    at::Tensor tailTerm = torch::where(tailB > 1e-12, tailB * (tailB.clamp_min(1e-30).log() - tailQ.log()),
                                       torch::zeros_like(tailB));
    kl = (kl + tailTerm).clamp_min(0.0).contiguous(); // rounding can make an exact zero slightly negative
    at::Tensor top1 = (logp.argmax(1) == baseIds.select(1, 0)).contiguous();
    return {kl, top1};
}

KlResult klSummary(const std::vector<double>& kl, const std::vector<uint8_t>& top1, bool exact,
                   const std::vector<double>& dp)
{
    KlResult r;
    r.tokens = int64_t(kl.size());
    r.exact = exact;
    if (kl.empty())
        return r;
    double s = 0;
    for (double v : kl)
        s += v;
    r.mean_kl = s / double(kl.size());
    std::vector<double> sorted = kl;
    std::sort(sorted.begin(), sorted.end());
    const int64_t idx = std::min<int64_t>(r.tokens - 1, int64_t(std::ceil(0.99 * double(r.tokens))) - 1);
    r.p99_kl = sorted[size_t(std::max<int64_t>(0, idx))];
    r.kl_stderr = meanStderr(kl).second;
    r.median_kl = percentileSorted(sorted, 0.5);
    r.p90_kl = percentileSorted(sorted, 0.9);
    r.p999_kl = percentileSorted(sorted, 0.999);
    r.max_kl = sorted.back();
    int64_t agree = 0;
    for (uint8_t t : top1)
        agree += t;
    r.top1_agreement = top1.empty() ? 0.0 : double(agree) / double(top1.size());
    r.top1_stderr = top1.empty() ? 0.0 : std::sqrt(r.top1_agreement * (1 - r.top1_agreement) / double(top1.size()));
    if (!dp.empty()) {
        std::tie(r.dp_mean, r.dp_stderr) = meanStderr(dp);
        double ss = 0;
        for (double v : dp)
            ss += v * v;
        r.dp_rms = std::sqrt(ss / double(dp.size()));
        std::vector<double> s = dp;
        std::sort(s.begin(), s.end());
        r.dp_p1 = percentileSorted(s, 0.01);
        r.dp_p99 = percentileSorted(s, 0.99);
    }
    return r;
}

KlResult klFromTopK(const at::Tensor& baseLogp, const at::Tensor& baseIds, const at::Tensor& logp)
{
    auto [kl, top1] = klPerToken(baseLogp, baseIds, logp.to(torch::kFloat));
    std::vector<double> k(kl.data_ptr<double>(), kl.data_ptr<double>() + kl.numel());
    std::vector<uint8_t> t(size_t(top1.numel()));
    for (int64_t i = 0; i < top1.numel(); ++i)
        t[size_t(i)] = top1.data_ptr<bool>()[i] ? 1 : 0;
    return klSummary(k, t, baseIds.size(1) >= logp.size(1));
}

KlResult compareToReference(const LlamaModel& model, const std::vector<int32_t>& tokens, const PplReference& ref,
                            const EvalHooks& hooks)
{
    if (ref.empty())
        return {};
    PplOptions o;
    o.ctx = ref.ctx;
    o.maxWindows = int64_t(ref.logp.size());
    o.reference = &ref;
    PplResult p = perplexity(model, tokens, o, [&](int64_t, int64_t) { return !hooks.cancelled(); });
    KlResult r = klSummary(p.klPerToken, p.top1Match, ref.topk >= model.config().vocab_size, p.dpPerToken);
    r.windows = p.klWindows;
    return r;
}

} // namespace qb
