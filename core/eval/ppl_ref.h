#pragma once
// KL divergence and top-1 agreement of a model against the baseline on the same PPL windows.
// The baseline's distribution is kept compactly: per predicted token its top-k log-probs and
// ids (k = kl_topk), the rest of the vocabulary as one "tail" bucket. KL over (top-k + tail) is a
// lower bound of the full KL (merging outcomes never increases KL) and equals it when k >= vocab.
// Memory: windows x (ctx-1) x k x 12 bytes (4 windows x 2047 x 64 -> 6 MiB).
#include "core/eval/tasks.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace qb {

class LlamaModel;

struct PplReference {
    int64_t ctx = 0, topk = 0;
    std::vector<at::Tensor> logp; // per window (T-1, k) float32, CPU, sorted descending
    std::vector<at::Tensor> ids;  // per window (T-1, k) int64
    std::vector<at::Tensor> targetLogp; // per window (T-1) float32: log p_base of the correct token
    bool empty() const { return logp.empty(); }
};

struct KlResult {
    double mean_kl = 0, p99_kl = 0, top1_agreement = 0;
    // The full block (llama.cpp's --kl-divergence set): percentiles by nearest rank.
    double kl_stderr = 0, median_kl = 0, p90_kl = 0, p999_kl = 0, max_kl = 0;
    double dp_mean = NAN, dp_stderr = NAN, dp_rms = NAN, dp_p1 = NAN, dp_p99 = NAN; // p_quant - p_base
    double top1_stderr = 0;
    int64_t tokens = 0, windows = 0;
    bool exact = false; // k >= vocab
};

// Windows are the first `windows` disjoint windows of `ctx` tokens, as the PPL protocol cuts them
// (ctx capped by the model's context, as perplexity() caps it).
PplReference makePplReference(const LlamaModel& model, const std::vector<int32_t>& tokens, int64_t ctx,
                              int64_t windows, int64_t topk, const EvalHooks& hooks = {});
// The KL of `model` on the reference's windows alone (perplexity() with PplOptions::reference gives
// the same numbers during its own pass, which is what the sweep uses).
KlResult compareToReference(const LlamaModel& model, const std::vector<int32_t>& tokens, const PplReference& ref,
                            const EvalHooks& hooks = {});

// The math on logits: base top-k (T, k) log-probs/ids vs full log-probs (T, V) float32 ->
// per-token KL (T) float64 and top-1 agreement (T) bool. With `lse` (T, 1), `logp` holds logits
// and the log-probs are logits - lse (no normalised copy of the vocabulary is made).
std::pair<at::Tensor, at::Tensor> klPerToken(const at::Tensor& baseLogp, const at::Tensor& baseIds, const at::Tensor& logp,
                                             const at::Tensor& lse = {});
// Summary of per-token values (mean, p99, agreement).
KlResult klSummary(const std::vector<double>& kl, const std::vector<uint8_t>& top1, bool exact,
                   const std::vector<double>& dp = {});
// Both at once on whole tensors (tests).
KlResult klFromTopK(const at::Tensor& baseLogp, const at::Tensor& baseIds, const at::Tensor& logp);

} // namespace qb
