// `quantbench-cli sweep SWEEP.json --out DIR [--shard I/N] [--config NAME]` and
// `quantbench-cli sweep --demo --out DIR`: runs a sweep file, appending each finished
// (config, task) record to DIR/results.jsonl; rerunning the same command resumes. Ctrl-C
// cancels within about a second (the record in flight is lost, nothing else). At the end the
// summary report is printed and written to DIR/report.md.
#include "app/cli/command.h"
#include "app/cli/sweep_common.h"
#include "core/report/report.h"
#include "core/results/store.h"
#include "core/run/model_backend.h"
#include "core/util/error.h"

#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;

namespace {

int runSweepCmd(const std::vector<std::string>& argv)
{
    qb::cli::Args args("sweep", "SWEEP.json --out DIR [--shard I/N] [--config NAME] | --demo --out DIR");
    args.option("out", "run folder (results.jsonl, sweep.json, report.md)")
        .option("shard", "run shard I of N (configs with index % N == I), e.g. 0/4")
        .option("config", "run only the config with this canonical name")
        .option("device", "override the sweep's device (auto, cpu, cuda)")
        .flag("demo", "the built-in demo sweep on the bundled model")
        .flag("no-resume", "refuse a run folder that already holds results")
        .flag("resume-changed", "resume although the sweep file changed since the run started (a new protocol group)")
        .flag("quiet", "no progress lines");
    return qb::cli::runParsed(args, argv, [&] {
        fs::path file;
        if (args.has("demo")) {
            file = fs::path(qb::cli::demoModelDir()).parent_path() / "demo_sweep.json";
            if (!args.positional().empty())
                throw qb::Error("--demo takes no sweep file");
        } else {
            if (args.positional().size() != 1)
                throw qb::Error("give one sweep file (or --demo)");
            file = args.positional()[0];
        }
        if (!args.has("out"))
            throw qb::Error("--out DIR is required");
        qb::SweepSpec spec = qb::SweepSpec::load(file);
        if (args.has("device"))
            spec.device = args.get("device");
        qb::RunOptions o;
        o.out_dir = args.get("out");
        o.resume = !args.has("no-resume");
        o.resume_changed = args.has("resume-changed");
        o.only_config = args.get("config");
        if (auto sh = args.opt("shard"))
            qb::cli::parseShard(*sh, o.shard, o.shards);
        qb::ModelBackend backend;
        auto sum = qb::cli::runWithConsole(spec, backend, o, args.has("quiet"));
        return qb::cli::finishSweep(sum, o.out_dir);
    });
}

QB_CLI_COMMAND("sweep", "run a sweep file (or the built-in demo), resumable, shardable", runSweepCmd);

} // namespace
