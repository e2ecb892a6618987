#pragma once
// A stand-in evaluation backend for GUI tests: core's real sweep runner drives it, so the window
// receives real ResultRecords (appended to a real results.jsonl) without loading a model.
// `msPerConfig` of sleeping in 10 ms slices per config (cancellable), plausible metrics derived
// from the scheme (coarser granularity -> larger error, FP8 a little worse than INT8); a config
// named in `failConfigs` fails to quantize; `extra` metrics are added to every record of a task.
#include "core/run/runner.h"
#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace qbtest {

class SimBackend : public qb::EvalBackend {
public:
    SimBackend(int msPerConfig, std::vector<std::string> failConfigs = {},
               std::map<std::string, std::map<std::string, double>> extra = {})
        : ms_(msPerConfig), fail_(std::move(failConfigs)), extra_(std::move(extra))
    {
    }

    void prepare(const qb::SweepSpec& spec, const qb::EvalHooks&) override { limit_ = int(spec.tasks.mmlu.max_questions); }

    nlohmann::json apply(const qb::QuantScheme& s, const qb::EvalHooks& hooks) override
    {
        const int slices = std::max(1, ms_ / 10);
        for (int k = 0; k < slices; ++k) {
            hooks.check();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (hooks.progress)
                hooks.progress(k + 1, slices);
        }
        if (std::find(fail_.begin(), fail_.end(), s.name()) != fail_.end())
            throw qb::Error("simulated failure");
        return {{"simulated", true}};
    }

    void run(const qb::QuantScheme& s, const std::string& task, qb::ResultRecord& rec, const qb::EvalHooks& hooks) override
    {
        hooks.check();
        const double err = error(s);
        const double n = limit_ > 0 ? limit_ : 100;
        if (task == qb::task::Ppl) {
            rec.metrics = {{"ppl", 8.0 * (1 + err)}, {"ppl_stderr", 0.05}, {"n_tokens", 4096}};
            if (!s.isBaseline())
                rec.metrics["kl_mean"] = err / 10;
        } else if (task == qb::task::MmluDirect || task == qb::task::MmluGenerate) {
            double acc = (task == qb::task::MmluDirect ? 0.30 : 0.28) - err * 0.5;
            rec.metrics = {{"accuracy", acc}, {"accuracy_stderr", std::sqrt(acc * (1 - acc) / n)}, {"n", n}};
        } else if (task == qb::task::Throughput) {
            const bool real = !s.isBaseline() && s.mode == qb::QuantMode::Real;
            rec.metrics = {{"prefill_samples_per_s", 120.0 * (real ? 0.8 : 1.0)},
                           {"decode_tokens_per_s", 900.0 * (real ? 1.2 : 1.0)}};
        } else if (task == qb::task::Matmul) {
            rec.metrics = {{"rel_fro_error", err}};
            if (!s.isBaseline())
                rec.metrics["sqnr_db"] = 20.0 * std::log10(1.0 / err);
        }
        auto it = extra_.find(task);
        if (it != extra_.end())
            for (const auto& [k, v] : it->second)
                rec.metrics[k] = v;
    }

    std::string deviceName() const override { return "simulated"; }

private:
    static double error(const qb::QuantScheme& s)
    {
        if (s.isBaseline())
            return 0;
        if (s.smoothing == qb::Smoothing::SmoothQuant)
            return 0.035;
        double e = s.granularity == qb::Granularity::PerTensor ? 0.08
                   : s.granularity == qb::Granularity::PerRow  ? 0.03
                                                               : 0.01 + 0.02 * s.group_size / 512.0;
        return s.dtype == qb::QDType::FP8_E4M3 ? e * 1.4 : e;
    }

    int ms_;
    std::vector<std::string> fail_;
    std::map<std::string, std::map<std::string, double>> extra_;
    int limit_ = 100;
};

} // namespace qbtest
