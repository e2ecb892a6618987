#pragma once
// Bridge internals for the real core (only built when core/run, core/results and core/report
// exist): conversions between core's records and the UI's per-config results.
#include "ui/core_bridge.h"

#include <memory>
#include <string>
#include <vector>

namespace qb {
struct SweepSpec;
struct ResultRecord;
} // namespace qb

namespace qb::ui {

void mergeRecord(ConfigResult& c, const qb::ResultRecord& r);
std::vector<ConfigResult> fromRecords(const std::vector<qb::ResultRecord>& records);
std::unique_ptr<SweepRunner> makeCoreRunner();
LoadOutcome loadWithCore(const std::vector<std::string>& paths);
std::string coreMarkdownReport(const std::vector<ConfigResult>& results);

} // namespace qb::ui
