#pragma once
// Token-level perplexity over disjoint windows (the protocol recorded with every result):
// the text is tokenized once (by the caller), cut into disjoint windows of `ctx` tokens, the
// first token of each window is context only, every other token is predicted from the tokens
// before it in its window; a last partial window counts when it has >= 2 tokens.
// PPL = exp(mean NLL over all predicted tokens); stderr by the delta method:
// ppl * sd(nll) / sqrt(n).
#include "core/model/llama.h"
#include "core/util/progress.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qb {

struct PplReference;

struct PplOptions {
    int64_t ctx = 2048;     // capped by the model's max_position_embeddings
    int64_t maxWindows = 0; // 0 = all
    // With a baseline reference (core/eval/ppl_ref.h): KL and top-1 agreement on the windows it
    // covers, from the same log-probs as the NLL (no second forward pass).
    const PplReference* reference = nullptr;
};

struct PplResult {
    double ppl = 0, meanNll = 0, stderrPpl = 0, sdNll = 0;
    int64_t nTokens = 0;      // predicted tokens (the count the mean is over)
    int64_t corpusTokens = 0; // tokens of the whole text
    int64_t windows = 0;      // windows evaluated
    int64_t ctx = 0;          // window length actually used
    double seconds = 0;
    // KL vs the reference (when PplOptions::reference is set): per predicted token of the covered
    // windows; summarised by klSummary() (core/eval/ppl_ref.h).
    std::vector<double> klPerToken;
    std::vector<uint8_t> top1Match;
    // p_quant - p_base of the correct token, per token of the covered windows (when the reference
    // carries the baseline's target log-probs).
    std::vector<double> dpPerToken;
    // Every predicted token's NLL, in order (the paired comparison's input), and the sha256 of
    // the evaluated token ids (int32 little-endian) with ctx: two runs are paired only when equal.
    std::vector<float> nllPerToken;
    std::string tokenHash;
    int64_t klWindows = 0;
    nlohmann::json toJson() const;
};

// progress(done, total) is called after each window (total = windows to run); returning
// false cancels (throws qb::Cancelled). The logits of a window are taken kLogitRows rows at a time
// (log-softmax, NLL and KL per chunk), so memory is that many rows of the vocabulary, not the window.
inline constexpr int64_t kLogitRows = 128;

PplResult perplexity(const LlamaModel& model, const std::vector<int32_t>& tokens, const PplOptions& opts = {},
                     const ProgressFn& progress = {});

} // namespace qb
