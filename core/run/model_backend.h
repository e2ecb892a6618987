#pragma once
// The real EvalBackend: loads the model once (config.json + safetensors + tokenizer.json),
// quantizes every scheme from the in-memory baseline through ModelQuantizer, and runs PPL
// (+ KL vs the baseline), MMLU direct / generate, throughput and matmul accuracy.
// The baseline's PPL reference (top-k log-probs of the first kl_windows windows) and the
// captured linear inputs for matmul accuracy are computed in prepare(), while the model is the
// baseline, so every shard (even one without the baseline config) can compare against it.
#include "core/run/runner.h"

#include <memory>

namespace qb {

class ModelBackend : public EvalBackend {
public:
    ModelBackend();
    ~ModelBackend() override;
    void prepare(const SweepSpec& spec, const EvalHooks& hooks) override;
    nlohmann::json apply(const QuantScheme& scheme, const EvalHooks& hooks) override;
    void run(const QuantScheme& scheme, const std::string& task, ResultRecord& rec, const EvalHooks& hooks) override;
    std::string deviceName() const override;
    std::string modelConfigHash() const override;
    std::string modelName() const override;

    struct State;

private:
    void ensureCalibrated(const EvalHooks& hooks); // SmoothQuant's calibration, once per sweep
    std::unique_ptr<State> d_;
};

// "auto" -> cuda when available, else cpu; "cpu", "cuda", "cuda:N" as given.
std::string resolveDevice(const std::string& requested);

} // namespace qb
