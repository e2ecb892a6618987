#include "core/eval/throughput.h"

#include "core/model/llama.h"
#include "core/util/error.h"
#include "core/util/memory.h"
#include "core/util/torch_compat.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>

namespace qb {

nlohmann::json ThroughputResult::toJson() const
{
    return {{"prefill_samples_per_s", {{"median", prefill_samples_per_s}, {"min", prefill_min}, {"max", prefill_max}}},
            {"decode_tokens_per_s", {{"median", decode_tokens_per_s}, {"min", decode_min}, {"max", decode_max}}},
            {"prefill_len", prefill_len},
            {"decode_prompt", decode_prompt},
            {"decode_tokens", decode_tokens},
            {"resident_mb", resident_mb},
            {"peak_resident_mb", peak_resident_mb},
            {"peak_device_mb", peak_device_mb},
            {"weight_bytes", weight_bytes},
            {"kv_cache_bytes", kv_cache_bytes}};
}

namespace {

double seconds(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void sync(const at::Tensor& t) { (void)t.sum().item<float>(); } // waits for the device

struct Stats {
    double med, lo, hi;
};
Stats stats(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return {med, v.front(), v.back()};
}

} // namespace

ThroughputResult measureThroughput(const LlamaModel& model, const ThroughputTaskSettings& s, uint64_t seed,
                                   const EvalHooks& hooks)
{
    compat::InferenceGuard g;
    ThroughputResult r;
    r.weight_bytes = model.weightBytes();
    const auto& cfg = model.config();
    int64_t maxPos = cfg.max_position_embeddings;
    r.prefill_len = std::min(s.prefill_len, maxPos);
    r.decode_prompt = std::min(s.decode_prompt, std::max<int64_t>(1, maxPos / 2));
    r.decode_tokens = std::min(s.decode_tokens, maxPos - r.decode_prompt);
    auto opts = torch::TensorOptions().dtype(torch::kLong).device(model.device());
    auto gen = at::detail::createCPUGenerator(seed);
    auto randIds = [&](int64_t b, int64_t t) {
        return at::randint(1, cfg.vocab_size, {b, t}, gen, torch::TensorOptions().dtype(torch::kLong)).to(model.device());
    };
    (void)opts;
    int total = s.warmup + s.repeats;
    int64_t step = 0, steps = int64_t(total) * 2;

    // prefill: (B, L) prompts, last-position logits
    at::Tensor ids = randIds(s.prefill_batch, r.prefill_len);
    std::vector<double> pre;
    for (int i = 0; i < total; ++i) {
        hooks.check();
        auto t0 = std::chrono::steady_clock::now();
        at::Tensor out = model.forward(ids, nullptr, {}, /*lastOnly=*/true);
        sync(out);
        if (i >= s.warmup)
            pre.push_back(double(s.prefill_batch) / seconds(t0));
        if (hooks.progress)
            hooks.progress(++step, steps);
    }
    // decode: prompt, then decode_tokens greedy steps with the KV cache
    at::Tensor prompt = randIds(s.decode_batch, r.decode_prompt);
    std::vector<double> dec;
    for (int i = 0; i < total; ++i) {
        hooks.check();
        KVCache cache = model.makeCache(s.decode_batch, r.decode_prompt + r.decode_tokens);
        at::Tensor logits = model.forward(prompt, &cache, {}, true); // (b, 1, V)
        at::Tensor next = logits.argmax(-1);                         // (b, 1)
        sync(next);
        auto t0 = std::chrono::steady_clock::now();
        for (int64_t t = 0; t < r.decode_tokens; ++t) {
            if ((t & 7) == 0)
                hooks.check();
            logits = model.forward(next, &cache, {}, true);
            next = logits.argmax(-1);
        }
        sync(next);
        if (i >= s.warmup)
            dec.push_back(double(s.decode_batch * r.decode_tokens) / seconds(t0));
        if (hooks.progress)
            hooks.progress(++step, steps);
    }
    auto p = stats(pre);
    auto d = stats(dec);
    r.prefill_samples_per_s = p.med;
    r.prefill_min = p.lo;
    r.prefill_max = p.hi;
    r.decode_tokens_per_s = d.med;
    r.decode_min = d.lo;
    r.decode_max = d.hi;
    r.resident_mb = double(residentBytes()) / double(1 << 20);
    r.peak_resident_mb = double(peakResidentBytes()) / double(1 << 20);
    if (model.device().is_cuda())
        r.peak_device_mb = double(compat::cudaPeakAllocatedBytes(model.device().index() < 0 ? 0 : model.device().index())) / double(1 << 20);
    r.kv_cache_bytes = uint64_t(2 * cfg.num_hidden_layers * s.decode_batch * cfg.num_key_value_heads * cfg.head_dim *
                                (r.decode_prompt + r.decode_tokens)) * c10::elementSize(model.dtype());
    return r;
}

} // namespace qb
