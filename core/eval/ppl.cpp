#include "core/eval/ppl.h"

#include "core/data/sha256.h"
#include "core/eval/ppl_ref.h"
#include "core/util/error.h"
#include "core/util/torch_compat.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace qb {

nlohmann::json PplResult::toJson() const
{
    return {{"ppl", ppl},
            {"mean_nll", meanNll},
            {"stderr", stderrPpl},
            {"sd_nll", sdNll},
            {"n_tokens", nTokens},
            {"corpus_tokens", corpusTokens},
            {"windows", windows},
            {"ctx", ctx},
            {"seconds", seconds},
            {"token_hash", tokenHash},
            {"protocol", "disjoint windows of ctx tokens; first token of each window is context only; "
                         "last partial window counted if >= 2 tokens; ppl = exp(mean nll); "
                         "stderr = ppl * sd(nll) / sqrt(n_tokens)"}};
}

PplResult perplexity(const LlamaModel& model, const std::vector<int32_t>& tokens, const PplOptions& opts,
                     const ProgressFn& progress)
{
    compat::InferenceGuard guard;
    auto t0 = std::chrono::steady_clock::now();
    PplResult r;
    r.corpusTokens = static_cast<int64_t>(tokens.size());
    int64_t ctx = opts.ctx;
    if (ctx < 2)
        throw Error("perplexity: ctx must be at least 2 tokens");
    if (model.config().max_position_embeddings > 0)
        ctx = std::min(ctx, model.config().max_position_embeddings);
    r.ctx = ctx;
    const int64_t n = r.corpusTokens;
    int64_t total = n / ctx + ((n % ctx) >= 2 ? 1 : 0);
    if (opts.maxWindows > 0)
        total = std::min(total, opts.maxWindows);
    if (total == 0)
        throw Error("perplexity: the text has " + std::to_string(n) + " tokens, at least 2 are needed");

    // Sums in double; NLL per token from float32 log-softmax of float32 logits.
    double sum = 0, sumSq = 0;
    int64_t count = 0;
    at::Tensor all = at::tensor(std::vector<int64_t>(tokens.begin(), tokens.end()), at::kLong);
    const PplReference* ref = opts.reference;
    if (ref && !ref->empty() && ref->ctx != ctx)
        throw Error("perplexity: the KL reference was made with ctx " + std::to_string(ref->ctx) + ", not " +
                    std::to_string(ctx));
    for (int64_t w = 0; w < total; ++w) {
        const int64_t start = w * ctx, len = std::min(ctx, n - start);
        auto ids = all.narrow(0, start, len).view({1, len});
        at::Tensor hidden = model.forwardHidden(ids)[0]; // (len, hidden); rows 0..len-2 predict ids[1:]
        const bool withKl = ref && w < int64_t(ref->logp.size());
        for (int64_t r0 = 0; r0 < len - 1; r0 += kLogitRows) {
            const int64_t rows = std::min(kLogitRows, len - 1 - r0);
            // NLL = logsumexp(logits) - logit[target]: the same as -log_softmax()[target] without a
            // second (rows, V) tensor. Without KL the logits stay in the lm_head's dtype and are
            // widened to float32 kWidenRows rows at a time: 16 x 151,936 floats (9.7 MB) stay in the
            // last-level cache and the allocator reuses them, where one (128, V) float32 tensor and
            // logsumexp's temporaries of its size took fresh pages from the kernel every chunk.
            auto target = ids[0].narrow(0, 1 + r0, rows).to(hidden.device()).unsqueeze(1);
            at::Tensor lg, lse, nll;
            if (withKl) {
                lg = model.logits(hidden.narrow(0, r0, rows)); // (rows, V) float32
                lse = lg.logsumexp(-1, /*keepdim=*/true);       // (rows, 1)
                nll = (lse - lg.gather(1, target)).squeeze(1);
            } else {
                constexpr int64_t kWidenRows = 16;
                const at::Tensor raw = model.logitsNative(hidden.narrow(0, r0, rows)); // (rows, V)
                std::vector<at::Tensor> parts;
                for (int64_t s0 = 0; s0 < rows; s0 += kWidenRows) {
                    const int64_t sn = std::min(kWidenRows, rows - s0);
                    const at::Tensor f = raw.narrow(0, s0, sn).to(at::kFloat);
                    parts.push_back((f.logsumexp(-1, /*keepdim=*/true) - f.gather(1, target.narrow(0, s0, sn))).squeeze(1));
                }
                nll = at::cat(parts);
            }
            nll = nll.to(at::kDouble).cpu();
            sum += nll.sum().item<double>();
            sumSq += nll.pow(2).sum().item<double>();
            const double* np = nll.data_ptr<double>();
            for (int64_t i = 0; i < rows; ++i)
                r.nllPerToken.push_back(float(np[i]));
            if (withKl) {
                auto [kl, top1] = klPerToken(ref->logp[size_t(w)].narrow(0, r0, rows), ref->ids[size_t(w)].narrow(0, r0, rows),
                                             lg.cpu(), lse.cpu());
                const double* kp = kl.data_ptr<double>();
                r.klPerToken.insert(r.klPerToken.end(), kp, kp + rows);
                const bool* tp = top1.data_ptr<bool>();
                for (int64_t i = 0; i < rows; ++i)
                    r.top1Match.push_back(tp[i] ? 1 : 0);
                if (w < int64_t(ref->targetLogp.size())) {
                    const float* bp = ref->targetLogp[size_t(w)].narrow(0, r0, rows).contiguous().data_ptr<float>();
                    for (int64_t i = 0; i < rows; ++i)
                        r.dpPerToken.push_back(std::exp(-np[i]) - std::exp(double(bp[i])));
                }
            }
        }
        if (withKl)
            r.klWindows = w + 1;
        count += len - 1;
        r.windows = w + 1;
        if (progress && !progress(w + 1, total))
            throw Cancelled();
    }
    r.nTokens = count;
    {
        // Identity of what was evaluated: ctx and the token ids of the evaluated windows.
        const int64_t used = std::min(n, total * ctx);
        std::string bytes = "ctx=" + std::to_string(ctx) + ";";
        bytes.append(reinterpret_cast<const char*>(tokens.data()), size_t(used) * sizeof(int32_t));
        r.tokenHash = sha256Hex(bytes);
    }
    r.meanNll = sum / double(count);
    r.ppl = std::exp(r.meanNll);
    const double var = count > 1 ? std::max(0.0, (sumSq - double(count) * r.meanNll * r.meanNll) / double(count - 1)) : 0.0;
    r.sdNll = std::sqrt(var);
    r.stderrPpl = r.ppl * r.sdNll / std::sqrt(double(count));
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

} // namespace qb
