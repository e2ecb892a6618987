#pragma once
// The one adapter between the window and core: result records, the sweep runner, result
// loading/import, the Markdown report, model summaries and build versions. Everything the
// UI needs from core passes through here, so a change of core API stays local to
// core_bridge.cpp. No Qt, no libtorch in this header.
#include "ui/sweep_setup.h"

#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qb::ui {

// Metric keys used by the table, the charts and the exports.
namespace metric {
inline constexpr const char* PPL = "ppl";
inline constexpr const char* MmluDirect = "mmlu_direct";
inline constexpr const char* MmluGenerate = "mmlu_generate";
inline constexpr const char* PrefillSps = "prefill_samples_per_s";
inline constexpr const char* DecodeTps = "decode_tokens_per_s";
inline constexpr const char* SqnrDb = "matmul_sqnr_db";
inline constexpr const char* RelErr = "matmul_rel_error";
inline constexpr const char* KlDiv = "kl_divergence";
inline constexpr const char* Top1 = "top1_agreement";
inline constexpr const char* WeightMiB = "weight_mib";
inline constexpr const char* PeakMiB = "peak_mib";
} // namespace metric

struct Metric {
    double value = std::nan("");
    double stderr_ = std::nan(""); // NaN when the evaluation has none
    long long n = 0;               // samples / tokens behind it
};

// One config of one run (or of a loaded file): the row of the table, a point of the charts.
struct ConfigResult {
    std::string config;            // canonical name, e.g. INT8_Per_Group_128_Fake
    qb::QuantScheme scheme;        // parsed from `config` when loaded from a report-style file
    std::map<std::string, Metric> metrics;
    std::string status = "ok";    // ok | partial (some tasks failed) | failed | cancelled
    std::string error;             // why, when failed
    std::string source;            // empty: the current run; otherwise the file it came from
    double seconds = 0;
    std::vector<nlohmann::json> records; // core's raw (config, task) records, when from core

    bool ok() const { return status == "ok" || status == "partial"; } // has numbers to show
    double value(const std::string& key) const
    {
        auto it = metrics.find(key);
        return it == metrics.end() ? std::nan("") : it->second.value;
    }
    double stderrOf(const std::string& key) const
    {
        auto it = metrics.find(key);
        return it == metrics.end() ? std::nan("") : it->second.stderr_;
    }
    nlohmann::json toJson() const;
    static ConfigResult fromJson(const nlohmann::json& j, const std::string& where); // throws qb::Error
};

// Callbacks the runner calls from the worker thread. They must be cheap and thread-safe;
// the worker turns each into a queued signal.
struct RunnerCallbacks {
    std::function<void(int index, int total, const std::string& config)> configStarted;
    std::function<void(int index, double fraction)> configProgress; // fraction of this config
    std::function<void(const ConfigResult&)> configFinished;
    std::function<void(const std::string& line)> log;
};

class SweepRunner {
public:
    virtual ~SweepRunner() = default;
    // Runs every config of `setup` not named in `done`, in order. Returns when finished or when
    // `cancel` becomes true (within about a second); never throws for a failing config (it is
    // reported as a failed ConfigResult) but may throw qb::Error for a bad setup.
    virtual void run(const SweepSetup& setup, const std::vector<std::string>& done,
                     const RunnerCallbacks& cb, const std::atomic<bool>& cancel) = 0;
    virtual std::string name() const = 0;
};

// The core sweep runner when it is available in this build, else a simulated one that says so.
std::unique_ptr<SweepRunner> makeDefaultRunner();
// Deterministic stand-in for tests: `msPerConfig` of sleeping in 10 ms slices per config,
// plausible metrics derived from the scheme; a config named in `failConfigs` fails.
std::unique_ptr<SweepRunner> makeSimulatedRunner(int msPerConfig, std::vector<std::string> failConfigs = {});

// Loading results: a file or a folder (recursively, *.json). What cannot be read becomes a
// message naming the file, never an exception.
struct LoadOutcome {
    std::vector<ConfigResult> results;
    std::vector<std::string> messages;
};
LoadOutcome loadResults(const std::string& path);

// Results file of this app: {"quantbench_results": 1, "results": [...]}.
nlohmann::json resultsToJson(const std::vector<ConfigResult>& results);
std::string resultsToCsv(const std::vector<ConfigResult>& results);
// The report in Markdown (GitHub tables), as the core report generator writes it.
std::string markdownReport(const std::vector<ConfigResult>& results);

// Summary of a model folder for the setup panel: architecture, parameters, dtype, layers, ctx.
struct ModelSummary {
    bool ok = false;
    std::string text;  // one or two lines, or the error naming the file
};
ModelSummary summarizeModel(const std::string& dir);

struct Versions {
    std::string app, commit, torch, cuda;
    bool cudaAvailable = false;
};
Versions versions();

} // namespace qb::ui
