#pragma once
// Console front end shared by `sweep` and `run`: progress lines, Ctrl-C -> cancel flag, and the
// closing summary (report printed and written beside the results).
#include "core/run/runner.h"

#include <string>

namespace qb::cli {

void parseShard(const std::string& text, int& shard, int& shards); // "I/N", throws qb::Error
SweepSummary runWithConsole(const SweepSpec& spec, EvalBackend& backend, RunOptions opts, bool quiet);
int finishSweep(const SweepSummary& sum, const std::filesystem::path& outDir);

} // namespace qb::cli
