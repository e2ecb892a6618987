// The real core behind the bridge: core/run's sweep runner with the model backend, core/results'
// loader for .jsonl runs and report-style files, and core/report's Markdown. Compiled only when
// those modules are in the tree (ui/CMakeLists.txt checks), so the UI builds before they land.
#include "ui/core_runner.h"

#include "core/report/report.h"
#include "core/results/store.h"
#include "core/run/model_backend.h"
#include "core/run/runner.h"

#include <algorithm>
#include <filesystem>
#include <cmath>

namespace fs = std::filesystem;

namespace qb::ui {

static Metric m(const qb::ResultRecord& r, const char* value, const char* stderrKey, const char* nKey)
{
    Metric out;
    out.value = r.has(value) ? r.metric(value) : std::nan("");
    out.stderr_ = stderrKey && r.has(stderrKey) ? r.metric(stderrKey) : std::nan("");
    out.n = nKey && r.has(nKey) ? (long long)r.metric(nKey) : 0;
    return out;
}

void mergeRecord(ConfigResult& c, const qb::ResultRecord& r)
{
    if (c.config.empty()) {
        c.config = r.config;
        try {
            c.scheme = r.scheme.is_object() ? qb::QuantScheme::fromJson(r.scheme, r.source)
                                            : qb::QuantScheme::parse(r.config);
        } catch (const std::exception&) {
            c.scheme = qb::QuantScheme::baseline(r.config); // an imported name we cannot parse
        }
        c.source = r.source;
    }
    c.records.push_back(r.toJson());
    c.seconds += r.provenance.seconds;
    if (!r.ok()) {
        c.status = c.metrics.empty() ? "failed" : "partial";
        c.error += (c.error.empty() ? "" : "; ") + r.task + ": " + r.error;
        return;
    }
    if (c.status == "failed")
        c.status = "partial"; // an earlier task failed, this one has numbers
    if (r.task == qb::task::Ppl) {
        c.metrics[metric::PPL] = m(r, "ppl", "ppl_stderr", "n_tokens");
        if (r.has("kl_mean"))
            c.metrics[metric::KlDiv] = m(r, "kl_mean", nullptr, nullptr);
        if (r.has("top1_agreement"))
            c.metrics[metric::Top1] = m(r, "top1_agreement", nullptr, nullptr);
    } else if (r.task == qb::task::MmluDirect) {
        c.metrics[metric::MmluDirect] = m(r, "accuracy", "accuracy_stderr", "n");
    } else if (r.task == qb::task::MmluGenerate) {
        c.metrics[metric::MmluGenerate] = m(r, "accuracy", "accuracy_stderr", "n");
    } else if (r.task == qb::task::Throughput) {
        c.metrics[metric::PrefillSps] = m(r, "prefill_samples_per_s", nullptr, nullptr);
        c.metrics[metric::DecodeTps] = m(r, "decode_tokens_per_s", nullptr, nullptr);
        if (r.has("peak_memory_mb"))
            c.metrics[metric::PeakMiB] = m(r, "peak_memory_mb", nullptr, nullptr);
        if (r.has("weight_bytes"))
            c.metrics[metric::WeightMiB] = {r.metric("weight_bytes") / (1024.0 * 1024.0), std::nan(""), 0};
    } else if (r.task == qb::task::Matmul) {
        double sqnr = r.metric("sqnr_db", std::nan(""));
        if (std::isfinite(sqnr)) // the baseline's own reference is +inf: not a point to draw
            c.metrics[metric::SqnrDb] = m(r, "sqnr_db", nullptr, nullptr);
        if (r.has("rel_fro_error"))
            c.metrics[metric::RelErr] = m(r, "rel_fro_error", nullptr, nullptr);
    }
}

std::vector<ConfigResult> fromRecords(const std::vector<qb::ResultRecord>& records)
{
    std::vector<ConfigResult> out;
    for (const auto& r : records) {
        // Report-style experiments spread one config over several files of one folder
        // (task_31_ppl_X.json, task_32_throughput_results.json): merge by config per folder.
        auto folder = [](const std::string& src) { return std::filesystem::path(src).parent_path().string(); };
        auto it = std::find_if(out.begin(), out.end(), [&](const ConfigResult& c) {
            return c.config == r.config && (c.source == r.source || (!r.source.empty() && folder(c.source) == folder(r.source)));
        });
        if (it == out.end()) {
            out.emplace_back();
            it = out.end() - 1;
        }
        mergeRecord(*it, r);
    }
    return out;
}

namespace {

class CoreRunner : public SweepRunner {
public:
    std::string name() const override { return "core sweep runner (model backend)"; }

    void run(const SweepSetup& setup, const std::vector<std::string>& /*done: core resumes from the run folder*/,
             const RunnerCallbacks& cb, const std::atomic<bool>& cancel) override
    {
        qb::SweepSpec spec = setup.toSpec();
        qb::ModelBackend backend;
        qb::RunOptions o;
        o.out_dir = setup.run_dir.empty() ? fs::temp_directory_path() / "quantbench-gui-run" : fs::path(setup.run_dir);
        o.resume = true;
        o.cancel = &cancel;
        int lastConfig = -1;
        o.progress = [&](const qb::SweepProgress& p) {
            const int idx = p.config - 1;
            if (p.config != lastConfig && p.config > 0) {
                lastConfig = p.config;
                if (cb.configStarted)
                    cb.configStarted(idx, p.configs, p.config_name);
            }
            double f = p.steps > 0 ? (std::max(0, p.step - 1) + p.task_fraction) / p.steps : p.task_fraction;
            if (cb.configProgress)
                cb.configProgress(idx, std::clamp(f, 0.0, 1.0));
            if (!p.message.empty() && cb.log)
                cb.log(p.message);
        };
        std::vector<ConfigResult> acc;
        o.on_record = [&](const qb::ResultRecord& r) {
            qb::ResultRecord rec = r;
            rec.source.clear(); // this run's records belong to the current view
            auto it = std::find_if(acc.begin(), acc.end(), [&](const ConfigResult& c) { return c.config == rec.config; });
            if (it == acc.end()) {
                acc.emplace_back();
                it = acc.end() - 1;
            }
            mergeRecord(*it, rec);
            if (cb.configFinished)
                cb.configFinished(*it); // repeated per task: the views upsert by config
        };
        if (cb.log)
            cb.log("run folder: " + o.out_dir.string());
        auto sum = qb::runSweep(spec, backend, o);
        if (cb.log) {
            for (const auto& msg : sum.messages)
                cb.log(msg);
            cb.log("recorded " + std::to_string(sum.recorded) + ", skipped " + std::to_string(sum.skipped) +
                   ", failed " + std::to_string(sum.failed) + " in " + std::to_string(int(sum.seconds)) + " s; results in " +
                   sum.results_file.string());
        }
    }
};

} // namespace

std::unique_ptr<SweepRunner> makeCoreRunner() { return std::make_unique<CoreRunner>(); }

LoadOutcome loadWithCore(const std::vector<std::string>& paths)
{
    std::vector<fs::path> ps(paths.begin(), paths.end());
    auto loaded = qb::loadResults(ps);
    LoadOutcome out;
    out.messages = loaded.messages;
    out.results = fromRecords(loaded.records);
    return out;
}

std::string coreMarkdownReport(const std::vector<ConfigResult>& results)
{
    std::vector<qb::ResultRecord> records;
    for (const auto& c : results)
        for (const auto& j : c.records)
            records.push_back(qb::ResultRecord::fromJson(j, c.source.empty() ? "this run" : c.source));
    return qb::buildReport(records).markdown();
}

} // namespace qb::ui
