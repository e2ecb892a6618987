#include "core/run/runner.h"
#include "core/model/dense_gemm.h"
#include "core/util/threads.h"

#include "core/results/store.h"
#include "core/util/build_info.h"
#include "core/util/error.h"

#include <chrono>
#include <set>

namespace fs = std::filesystem;

namespace qb {

std::vector<QuantScheme> selectConfigs(const SweepSpec& spec, int shard, int shards, const std::string& only)
{
    if (shards < 1 || shard < 0 || shard >= shards)
        fail("sweep", "shard " + std::to_string(shard) + "/" + std::to_string(shards) + " is out of range");
    auto all = spec.configs();
    std::vector<QuantScheme> out;
    for (size_t i = 0; i < all.size(); ++i) {
        if (!only.empty()) {
            if (all[i].name() == only)
                out.push_back(all[i]);
            continue;
        }
        if (int(i % size_t(shards)) == shard)
            out.push_back(all[i]);
    }
    if (!only.empty() && out.empty()) {
        std::string names;
        for (const auto& s : all)
            names += (names.empty() ? "" : ", ") + s.name();
        fail("sweep", "no config named \"" + only + "\" in this sweep (" + names + ")");
    }
    return out;
}

SweepSummary runSweep(const SweepSpec& spec, EvalBackend& backend, const RunOptions& opts)
{
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    SweepSummary sum;
    ResultsFile file(opts.out_dir);
    sum.results_file = file.path();
    auto existing = file.load();
    sum.messages = existing.messages;
    if (!opts.resume && !existing.records.empty())
        fail(file.path().string(), "already holds results; resume it or choose another folder");
    std::set<std::string> finished;
    for (const auto& r : existing.records)
        if (r.ok())
            finished.insert(r.key());

    // the sweep file next to its results, so a run folder is self-describing
    std::error_code ec;
    fs::create_directories(opts.out_dir, ec);
    if (!fs::exists(opts.out_dir / "sweep.json"))
        spec.save(opts.out_dir / "sweep.json");

    auto configs = selectConfigs(spec, opts.shard, opts.shards, opts.only_config);
    auto tasks = spec.tasks.enabledTasks();
    int64_t total = 0;
    for (const auto& c : configs)
        for (const auto& t : tasks)
            if (!finished.count(c.name() + "|" + t))
                ++total;
    sum.skipped = int64_t(configs.size() * tasks.size()) - total;

    EvalHooks hooks;
    hooks.cancel = opts.cancel;
    SweepProgress prog;
    prog.configs = int(configs.size());
    prog.total = total;
    auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
    auto report = [&](const std::string& msg) {
        prog.elapsed_s = elapsed();
        prog.message = msg;
        if (prog.done > 0)
            prog.eta_s = prog.elapsed_s / (double(prog.done) + prog.task_fraction) * double(prog.total - prog.done) -
                         0.0;
        if (opts.progress)
            opts.progress(prog);
    };
    if (total == 0) {
        report("nothing to do: every record is already in " + file.path().string());
        sum.seconds = elapsed();
        return sum;
    }

    auto bi = buildInfo();
    auto newRecord = [&](const QuantScheme& s, const std::string& t) {
        ResultRecord r;
        r.run_id = spec.name;
        r.config = s.name();
        r.scheme = s.toJson();
        r.task = t;
        r.settings = spec.tasks.recordSettings(t);
        r.settings["seed"] = spec.seed;
        r.settings["device_requested"] = spec.device;
        r.model_path = spec.model;
        r.provenance.app_version = bi.app_version;
        r.provenance.git_commit = bi.git_commit;
        r.provenance.torch_version = bi.torch_version;
        r.provenance.started = isoNowUtc();
        return r;
    };
    auto write = [&](ResultRecord& r, double seconds) {
        r.provenance.finished = isoNowUtc();
        r.provenance.seconds = seconds;
        r.provenance.device = backend.deviceName();
        r.provenance.threads = currentThreadPolicy().threads;
        r.provenance.kernels = densePolicy();
        r.model_config_hash = backend.modelConfigHash();
        r.model_name = backend.modelName();
        file.append(r);
        ++sum.recorded;
        if (!r.ok())
            ++sum.failed;
        if (opts.on_record)
            opts.on_record(r);
    };

    try {
        report("loading model and datasets");
        backend.prepare(spec, hooks);
        for (size_t ci = 0; ci < configs.size(); ++ci) {
            const QuantScheme& s = configs[ci];
            std::vector<std::string> todo;
            for (const auto& t : tasks)
                if (!finished.count(s.name() + "|" + t))
                    todo.push_back(t);
            prog.config = int(ci + 1);
            prog.config_name = s.name();
            prog.steps = int(todo.size());
            prog.step = 0;
            prog.task.clear();
            if (todo.empty())
                continue;
            hooks.check();
            report("quantizing " + s.name());
            nlohmann::json applied;
            std::string applyError;
            auto ta = clock::now();
            try {
                applied = backend.apply(s, hooks);
            } catch (const Cancelled&) {
                throw;
            } catch (const std::exception& e) {
                applyError = e.what();
            }
            if (!applyError.empty()) {
                for (const auto& t : todo) {
                    ResultRecord r = newRecord(s, t);
                    r.status = "failed";
                    r.error = "quantization failed: " + applyError;
                    write(r, std::chrono::duration<double>(clock::now() - ta).count());
                    ++prog.done;
                }
                report("config " + s.name() + " failed: " + applyError);
                continue;
            }
            for (size_t ti = 0; ti < todo.size(); ++ti) {
                const std::string& t = todo[ti];
                prog.step = int(ti + 1);
                prog.task = t;
                prog.task_fraction = 0;
                report(s.name() + ": " + t);
                EvalHooks th = hooks;
                th.progress = [&](int64_t d, int64_t n) {
                    prog.task_fraction = n > 0 ? double(d) / double(n) : 0.0;
                    report(s.name() + ": " + t);
                };
                ResultRecord r = newRecord(s, t);
                r.details = nlohmann::json::object();
                if (!applied.is_null())
                    r.details["quantization"] = applied;
                auto tt = clock::now();
                try {
                    backend.run(s, t, r, th);
                } catch (const Cancelled&) {
                    throw;
                } catch (const std::exception& e) {
                    r.status = "failed";
                    r.error = e.what();
                    r.metrics.clear();
                }
                prog.task_fraction = 0;
                write(r, std::chrono::duration<double>(clock::now() - tt).count());
                ++prog.done;
                report(s.name() + ": " + t + (r.ok() ? " done" : " failed: " + r.error));
            }
        }
    } catch (const Cancelled&) {
        sum.cancelled = true;
        report("cancelled");
    }
    sum.seconds = elapsed();
    return sum;
}

} // namespace qb
