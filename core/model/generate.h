#pragma once
// Greedy generation with a KV cache: batched prompts (left-padded), per-row stop.
#include "core/model/llama.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace qb {

struct GenerateOptions {
    int64_t maxNewTokens = 64;
    std::vector<int64_t> stopTokens; // empty: the config's eos_token_ids
    bool keepStopToken = true;       // the stop token ends the row's output, included or not
    int64_t padToken = 0;            // fed for padding and for rows that already stopped
};

struct GenerateResult {
    std::vector<std::vector<int64_t>> tokens; // generated ids per row (prompt not included)
    std::vector<bool> stopped;                // row ended on a stop token (not the limit)
    int64_t prefillTokens = 0;                // B * padded prompt length
    int64_t decodeSteps = 0;                  // forward calls after the prefill
    double prefillSeconds = 0, decodeSeconds = 0;
};

// Greedy = the first index of the largest logit. Every prompt needs at least one token.
// `cancel` (optional) is polled once per step; returning true throws qb::Cancelled.
GenerateResult generateGreedy(const LlamaModel& model, const std::vector<std::vector<int64_t>>& prompts,
                              const GenerateOptions& opts = {},
                              const std::function<bool()>& cancel = {});

// Left-pads prompts to one (B, T) int64 batch; mask is 1 for real tokens.
void leftPad(const std::vector<std::vector<int64_t>>& prompts, int64_t padToken, at::Tensor& ids,
             at::Tensor& mask);

} // namespace qb
