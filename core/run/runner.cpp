#include "core/run/runner.h"
#include "core/model/dense_gemm.h"
#include "core/util/threads.h"

#include "core/results/nll_sidecar.h"
#include "core/results/store.h"
#include "core/run/run_lock.h"
#include "core/util/atomic_write.h"
#include "core/util/build_info.h"
#include "core/util/error.h"
#include "core/util/read_file.h"

#include <chrono>
#include <new>
#include <set>

namespace fs = std::filesystem;

namespace qb {

namespace {

// <run folder>/run.manifest (JSON): {"schema": "quantbench.run", "sweep_hash", "sweep", "created",
// "previous": [{"sweep_hash", "sweep", "replaced"}]}. A resume whose sweep hashes differently is
// refused unless `allowChanged`; then the new protocol is recorded and `changed` set.
void checkManifest(const fs::path& dir, const SweepSpec& spec, const std::string& hash, bool haveRecords,
                   bool allowChanged, bool& changed, std::vector<std::string>& messages)
{
    const fs::path p = dir / kRunManifestName;
    const nlohmann::json sweep = spec.toJson();
    std::error_code ec;
    nlohmann::json m;
    if (fs::exists(fs::symlink_status(p, ec))) {
        m = nlohmann::json::parse(readFileBounded(p, kSweepJsonCap, "run manifest"), nullptr, false);
        if (m.is_discarded() || !m.is_object() || !m.contains("sweep_hash") || !m["sweep_hash"].is_string())
            fail(p.string(), "not a valid run manifest (expected a JSON object with \"sweep_hash\")");
        const std::string stored = m["sweep_hash"].get<std::string>();
        if (stored == hash)
            return;
        std::string what;
        if (m.contains("sweep")) {
            nlohmann::json a = m["sweep"], b = sweep;
            if (a.is_object())
                a.erase("device");
            b.erase("device");
            const nlohmann::json patch = nlohmann::json::diff(a, b);
            for (size_t i = 0; i < patch.size() && i < 6; ++i)
                what += (i ? ", " : "") + patch[i].value("path", std::string("?"));
            if (patch.size() > 6)
                what += ", ... (" + std::to_string(patch.size()) + " differences)";
        }
        if (!allowChanged)
            fail(dir.string(), "this run was started from a different sweep (stored sweep hash " + stored + ", this sweep " +
                                   hash + (what.empty() ? "" : "; differs at " + what) +
                                   "); resume with the original sweep file, choose another --out, or pass "
                                   "--resume-changed to start a new protocol group in this folder");
        nlohmann::json prev = {{"sweep_hash", stored}, {"replaced", isoNowUtc()}};
        if (m.contains("sweep"))
            prev["sweep"] = m["sweep"];
        if (!m.contains("previous") || !m["previous"].is_array())
            m["previous"] = nlohmann::json::array();
        m["previous"].push_back(prev);
        changed = true;
        messages.push_back(dir.string() + ": sweep changed (" + stored.substr(0, 12) + " -> " + hash.substr(0, 12) +
                           (what.empty() ? "" : ", at " + what) + "): a new protocol group starts; earlier records are kept apart");
    } else {
        m = {{"schema", "quantbench.run"}, {"created", isoNowUtc()}};
        if (haveRecords)
            messages.push_back(dir.string() + ": no run manifest (a run from an older version); this sweep's hash is "
                                              "recorded from now on");
    }
    m["sweep_hash"] = hash;
    m["sweep"] = sweep;
    writeFileAtomic(p, m.dump(2) + "\n", "run manifest");
}

} // namespace

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
    // One writer per folder, for the whole sweep: taken before anything there is read or written.
    RunLock lock(opts.out_dir);
    ResultsFile file(opts.out_dir);
    sum.results_file = file.path();
    auto existing = file.load();
    sum.messages = existing.messages;
    if (!opts.resume && !existing.records.empty())
        fail(file.path().string(), "already holds results; resume it or choose another folder");

    // The run's protocol: the sweep's canonical hash in the manifest and in every record.
    const std::string hash = spec.protocolHash();
    bool changed = false;
    checkManifest(opts.out_dir, spec, hash, !existing.records.empty(), opts.resume_changed, changed, sum.messages);
    std::set<std::string> finished;
    for (const auto& r : existing.records) {
        if (!r.ok())
            continue;
        const std::string h = r.settings.is_object() ? r.settings.value("sweep_hash", std::string()) : std::string();
        // Records of an older protocol do not count as done: --resume-changed starts a new group.
        if (h == hash || (h.empty() && !changed))
            finished.insert(r.key());
    }

    // the sweep file next to its results, so a run folder is self-describing
    std::error_code ec;
    if (changed || !fs::exists(fs::symlink_status(opts.out_dir / "sweep.json", ec)))
        spec.save(opts.out_dir / "sweep.json");

    auto configs = selectConfigs(spec, opts.shard, opts.shards, opts.only_config);
    auto tasks = spec.tasks.enabledTasks();
    int64_t total = 0;
    int64_t applicable = 0;
    for (const auto& c : configs)
        for (const auto& t : tasks)
            if (spec.tasks.applies(c, t)) {
                ++applicable;
                if (!finished.count(c.name() + "|" + t))
                    ++total;
            }
    sum.skipped = applicable - total;

    EvalHooks hooks;
    hooks.cancel = opts.cancel;
    hooks.work_dir = opts.out_dir.string();
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
        r.settings["sweep_hash"] = hash;
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
        if (!r.nll.empty()) {
            // Per-token NLL beside results.jsonl (atomic, hash-named) before the record that points to it.
            try {
                writeNllSidecar(file.path().parent_path(), r);
            } catch (const std::exception& e) {
                r.details["nll_sidecar_error"] = e.what(); // the PPL itself is still worth keeping
            }
        }
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
                if (spec.tasks.applies(s, t) && !finished.count(s.name() + "|" + t))
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
                applyError = isOutOfMemory(e) ? describeException(e) + " while quantizing " + s.name() : describeException(e);
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
                    r.error = isOutOfMemory(e) ? describeException(e) + " in task " + t + " of " + s.name() : describeException(e);
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
