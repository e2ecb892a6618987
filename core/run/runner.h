#pragma once
// The sweep runner: baseline first, then each scheme from the in-memory baseline; every
// finished (config, task) record is appended to the run folder's results file at once.
// - resume: records already in the file with status "ok" are skipped (failed ones are retried);
//   a config whose tasks are all done is not even quantized;
// - a config whose quantization or a task throws is recorded as failed (with the reason) and
//   the sweep goes on; qb::Cancelled stops the sweep (nothing is recorded for the task in flight);
// - sharding for cluster jobs: shard i of n runs the configs with index % n == i (the baseline
//   is config 0); `only_config` runs one config by canonical name.
// - one writer per run folder (run_lock.h): a second sweep on the same folder fails naming the first;
// - the sweep's protocol hash (SweepSpec::protocolHash) is kept in <folder>/run.manifest and in
//   every record's settings.sweep_hash; resuming with a sweep that hashes differently is refused
//   naming both hashes and where they differ, unless resume_changed: then a new protocol group
//   starts (older records stay, are not counted as done, and the report lists groups apart).
// The runner knows nothing about models: an EvalBackend does the work (model_backend.h has the
// real one; tests use stubs).
#include "core/results/record.h"
#include "core/run/sweep.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace qb {

constexpr const char* kRunManifestName = "run.manifest";

struct SweepProgress {
    int config = 0, configs = 0;    // 1-based index among this run's configs
    int step = 0, steps = 0;        // tasks of the current config
    int64_t done = 0, total = 0;    // (config, task) jobs finished / to run in this invocation
    std::string config_name, task;
    double elapsed_s = 0, eta_s = -1; // eta -1 = unknown yet
    double task_fraction = 0;       // inside the current task, 0..1
    std::string message;
};
using SweepProgressFn = std::function<void(const SweepProgress&)>;

class EvalBackend {
public:
    virtual ~EvalBackend() = default;
    // Once, before the first config (load model and datasets). Hooks carry the cancel flag.
    virtual void prepare(const SweepSpec& spec, const EvalHooks& hooks) = 0;
    // Quantize from the in-memory baseline (the baseline scheme restores it). Returns details
    // recorded with the config's records (sizes, seconds).
    virtual nlohmann::json apply(const QuantScheme& scheme, const EvalHooks& hooks) = 0;
    // Fills metrics/details/datasets of `rec` (config, scheme, task, settings already set).
    virtual void run(const QuantScheme& scheme, const std::string& task, ResultRecord& rec, const EvalHooks& hooks) = 0;
    virtual std::string deviceName() const = 0;
    virtual std::string modelConfigHash() const { return {}; }
    virtual std::string modelName() const { return {}; }
};

struct RunOptions {
    std::filesystem::path out_dir;
    int shard = 0, shards = 1;
    std::string only_config;             // empty = all
    bool resume = true;                  // false: refuse a folder that already has results
    bool resume_changed = false;         // resume although the sweep's hash differs from the run's
    const std::atomic<bool>* cancel = nullptr;
    SweepProgressFn progress;
    std::function<void(const ResultRecord&)> on_record; // after each append (GUI charts)
};

struct SweepSummary {
    int64_t recorded = 0, skipped = 0, failed = 0;
    bool cancelled = false;
    double seconds = 0;
    std::filesystem::path results_file;
    std::vector<std::string> messages; // from loading the existing results
};

SweepSummary runSweep(const SweepSpec& spec, EvalBackend& backend, const RunOptions& opts);

// Configs this shard / config filter selects, in run order (exposed for tests and the GUI).
std::vector<QuantScheme> selectConfigs(const SweepSpec& spec, int shard, int shards, const std::string& only);

} // namespace qb
