#include "core/model/generate.h"

#include "core/util/error.h"
#include "core/util/torch_compat.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace qb {

void leftPad(const std::vector<std::vector<int64_t>>& prompts, int64_t padToken, at::Tensor& ids,
             at::Tensor& mask)
{
    const int64_t B = static_cast<int64_t>(prompts.size());
    int64_t T = 0;
    for (const auto& p : prompts)
        T = std::max<int64_t>(T, static_cast<int64_t>(p.size()));
    ids = at::full({B, T}, padToken, at::kLong);
    mask = at::zeros({B, T}, at::kLong);
    auto ia = ids.accessor<int64_t, 2>();
    auto ma = mask.accessor<int64_t, 2>();
    for (int64_t b = 0; b < B; ++b) {
        const auto& p = prompts[b];
        const int64_t off = T - static_cast<int64_t>(p.size());
        for (size_t t = 0; t < p.size(); ++t) {
            ia[b][off + static_cast<int64_t>(t)] = p[t];
            ma[b][off + static_cast<int64_t>(t)] = 1;
        }
    }
}

GenerateResult generateGreedy(const LlamaModel& model, const std::vector<std::vector<int64_t>>& prompts,
                              const GenerateOptions& opts, const std::function<bool()>& cancel)
{
    compat::InferenceGuard guard;
    using clock = std::chrono::steady_clock;
    GenerateResult r;
    const int64_t B = static_cast<int64_t>(prompts.size());
    if (B == 0)
        return r;
    for (const auto& p : prompts)
        if (p.empty())
            throw Error("generate: every prompt needs at least one token (e.g. BOS)");
    std::set<int64_t> stops(opts.stopTokens.begin(), opts.stopTokens.end());
    if (opts.stopTokens.empty())
        stops.insert(model.config().eos_token_ids.begin(), model.config().eos_token_ids.end());

    at::Tensor ids, mask;
    leftPad(prompts, opts.padToken, ids, mask);
    const int64_t T = ids.size(1);
    r.tokens.assign(B, {});
    r.stopped.assign(B, false);
    r.prefillTokens = B * T;
    if (opts.maxNewTokens <= 0)
        return r;

    KVCache cache = model.makeCache(B, T + opts.maxNewTokens);
    const bool padded = mask.eq(0).any().item<bool>();
    // The decode-step mask is all ones: the cache remembers which earlier slots were padding.
    at::Tensor stepMask = at::ones({B, 1}, at::kLong);
    std::vector<bool> done(B, false);
    int64_t live = B;

    auto t0 = clock::now();
    at::Tensor logits = model.forward(ids, &cache, padded ? mask : at::Tensor(), /*lastOnly=*/true);
    for (int64_t step = 0;; ++step) {
        if (cancel && cancel())
            throw Cancelled();
        // (B) greedy picks; argmax returns the first maximal index.
        at::Tensor next = logits.select(1, 0).argmax(-1).to(at::kCPU);
        auto na = next.accessor<int64_t, 1>();
        std::vector<int64_t> feed(B, opts.padToken);
        for (int64_t b = 0; b < B; ++b) {
            if (done[b])
                continue;
            int64_t tok = na[b];
            bool stop = stops.count(tok) > 0;
            if (!stop || opts.keepStopToken)
                r.tokens[b].push_back(tok);
            if (stop) {
                r.stopped[b] = true;
                done[b] = true;
                --live;
            } else if (static_cast<int64_t>(r.tokens[b].size()) >= opts.maxNewTokens) {
                done[b] = true;
                --live;
            }
            feed[b] = tok;
        }
        if (step == 0)
            r.prefillSeconds = std::chrono::duration<double>(clock::now() - t0).count(), t0 = clock::now();
        if (live == 0)
            break;
        at::Tensor in = at::tensor(feed, at::kLong).view({B, 1});
        logits = model.forward(in, &cache, padded ? stepMask : at::Tensor(), /*lastOnly=*/true);
        ++r.decodeSteps;
    }
    r.decodeSeconds = std::chrono::duration<double>(clock::now() - t0).count();
    return r;
}

} // namespace qb
