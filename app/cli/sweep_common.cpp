#include "app/cli/sweep_common.h"

#include "core/report/report.h"
#include "core/results/store.h"
#include "core/util/atomic_write.h"
#include "core/util/error.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace qb::cli {

namespace {
std::atomic<bool> g_cancel{false};
extern "C" void onSigint(int) { g_cancel.store(true); }

std::string dur(double s)
{
    if (s < 0)
        return "?";
    char b[32];
    if (s < 60)
        std::snprintf(b, sizeof b, "%.0fs", s);
    else
        std::snprintf(b, sizeof b, "%dm%02ds", int(s) / 60, int(s) % 60);
    return b;
}
} // namespace

void parseShard(const std::string& text, int& shard, int& shards)
{
    auto slash = text.find('/');
    try {
        if (slash == std::string::npos)
            throw 0;
        size_t a = 0, b = 0;
        shard = std::stoi(text.substr(0, slash), &a);
        shards = std::stoi(text.substr(slash + 1), &b);
        if (a != slash || b != text.size() - slash - 1 || shards < 1 || shard < 0 || shard >= shards)
            throw 0;
    } catch (...) {
        throw Error("--shard: expected I/N with 0 <= I < N, got '" + text + "'");
    }
}

SweepSummary runWithConsole(const SweepSpec& spec, EvalBackend& backend, RunOptions opts, bool quiet)
{
    g_cancel = false;
    auto old = std::signal(SIGINT, onSigint);
    std::signal(SIGTERM, onSigint);
    opts.cancel = &g_cancel;
    auto last = std::chrono::steady_clock::now() - std::chrono::seconds(10);
    std::string lastKey;
    opts.progress = [&](const SweepProgress& p) {
        if (quiet)
            return;
        auto now = std::chrono::steady_clock::now();
        std::string key = p.config_name + "|" + p.task + "|" + p.message;
        if (key == lastKey && now - last < std::chrono::seconds(2))
            return;
        last = now;
        lastKey = key;
        std::fprintf(stderr, "[config %d/%d %s] step %d/%d %s %3.0f%%  done %lld/%lld  elapsed %s  ETA %s  %s\n",
                     p.config, p.configs, p.config_name.c_str(), p.step, p.steps, p.task.c_str(),
                     p.task_fraction * 100.0, (long long)p.done, (long long)p.total, dur(p.elapsed_s).c_str(),
                     dur(p.eta_s).c_str(), p.message.c_str());
    };
    SweepSummary sum = runSweep(spec, backend, opts);
    std::signal(SIGINT, old);
    std::signal(SIGTERM, SIG_DFL);
    for (const auto& m : sum.messages)
        std::cerr << "note: " << m << '\n';
    return sum;
}

int finishSweep(const SweepSummary& sum, const std::filesystem::path& outDir)
{
    std::cerr << "recorded " << sum.recorded << " (failed " << sum.failed << "), skipped " << sum.skipped
              << " already done, " << dur(sum.seconds) << " -> " << sum.results_file.string() << '\n';
    if (sum.cancelled) {
        std::cerr << "cancelled: rerun the same command to resume\n";
        return 130;
    }
    auto loaded = loadResults({sum.results_file});
    if (!loaded.records.empty()) {
        Report rep = buildReport(loaded.records);
        std::string md = rep.markdown();
        std::cout << md;
        // Whole or not at all: a full disk is an error (exit 1), never a truncated report.md.
        writeFileAtomic(outDir / "report.md", md, "report");
    }
    return sum.failed ? 3 : 0;
}

} // namespace qb::cli
