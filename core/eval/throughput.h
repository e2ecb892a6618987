#pragma once
// Throughput of the model as it is (baseline or quantized): prefill samples/s for a batch of
// prompts of a set length, decode tokens/s with a KV cache; warm-up, then the median of repeats
// (min and max kept). Peak memory: CPU VmHWM (process high-water mark, so it only grows over a
// sweep: the record keeps the value before and after); CUDA peak allocation is not available
// through the compat adapter yet and is left out.
#include "core/eval/tasks.h"

#include <nlohmann/json.hpp>

namespace qb {

class LlamaModel;

struct ThroughputResult {
    double prefill_samples_per_s = 0, prefill_min = 0, prefill_max = 0; // samples/s
    double decode_tokens_per_s = 0, decode_min = 0, decode_max = 0;     // tokens/s
    int64_t prefill_len = 0, decode_prompt = 0, decode_tokens = 0;      // after capping by the context
    double vm_hwm_before_mb = -1, vm_hwm_after_mb = -1;
    uint64_t weight_bytes = 0;
    nlohmann::json toJson() const;
};

ThroughputResult measureThroughput(const LlamaModel& model, const ThroughputTaskSettings& s, uint64_t seed,
                                   const EvalHooks& hooks = {});

// VmHWM of this process in MiB, -1 when /proc is not there.
double processPeakRssMb();

} // namespace qb
