#pragma once
// Throughput of the model as it is (baseline or quantized): prefill samples/s for a batch of
// prompts of a set length, decode tokens/s with a KV cache; warm-up, then the median of repeats
// (min and max kept). Memory: the process's resident bytes and its peak resident bytes (since the
// caller's last resetPeakResident(), core/util/memory.h: the sweep resets it per config), the KV
// cache the decode allocates, and on CUDA the caching allocator's peak.
#include "core/eval/tasks.h"

#include <nlohmann/json.hpp>

namespace qb {

class LlamaModel;

struct ThroughputResult {
    double prefill_samples_per_s = 0, prefill_min = 0, prefill_max = 0; // samples/s
    double decode_tokens_per_s = 0, decode_min = 0, decode_max = 0;     // tokens/s
    int64_t prefill_len = 0, decode_prompt = 0, decode_tokens = 0;      // after capping by the context
    double resident_mb = 0, peak_resident_mb = 0; // after the measurement; peak since the last reset
    double peak_device_mb = 0;                     // CUDA only
    uint64_t weight_bytes = 0, kv_cache_bytes = 0;
    nlohmann::json toJson() const;
};

ThroughputResult measureThroughput(const LlamaModel& model, const ThroughputTaskSettings& s, uint64_t seed,
                                   const EvalHooks& hooks = {});


} // namespace qb
