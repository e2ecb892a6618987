#pragma once
// The summary report of a set of results (new runs and loaded files), shaped like a results
// report: accuracy grouped Baseline / Real / Fake / SmoothQuant, throughput, SmoothQuant,
// real-vs-fake cross-comparison, INT8 vs FP8 per scenario with a recommendation, matmul
// accuracy, failures, and key findings written from the numbers.
//
// A difference is called a finding only when it beats its noise: MMLU uses the paired McNemar
// test against the baseline on the per-question correctness (exact binomial when there are
// fewer than 25 discordant questions; an unpaired two-proportion z-test when a record has no
// per-question data, said so in the table); PPL is paired on per-token NLL over the same tokens
// (README.md), falling back to z = diff / sqrt(se1^2 + se2^2) for records without a sidecar.
// Significance level `alpha` (default 0.05). A quantized config that beats its baseline
// beyond noise is flagged as a likely evaluation problem.
#include "core/report/rows.h"
#include "core/report/table.h"
#include "core/results/record.h"

#include <string>
#include <vector>

namespace qb {

struct ReportOptions {
    double alpha = 0.05;
    uint64_t seed = 20240531; // paired bootstrap (MMLU accuracy difference): same seed, same CI
    std::string title = "QuantBench results";
};

struct Report {
    std::string title;
    std::vector<Table> tables;
    std::vector<std::string> findings;  // bullet texts
    std::vector<std::string> warnings;  // likely evaluation problems, unreadable inputs
    const Table* table(const std::string& id) const;

    std::string markdown() const;
    std::string csv() const; // every table, separated by a "# title" line and a blank line
    nlohmann::json toJson() const;
};

// Records are grouped per config by groupRecords(RowKey::Config) (rows.h); configGroup() is
// declared there. When a config has several ok records for a task (merged runs), the one with the newest
// provenance.finished wins, ties going to the later record (the later file); differing values
// are reported in `warnings` naming both sources. Records carrying different
// settings.sweep_hash values (a run resumed with a changed sweep file) are kept apart: each
// config appears once per sweep hash, labelled "[sweep <hash>]".
Report buildReport(const std::vector<ResultRecord>& records, const ReportOptions& opts = {});

// Protocol guard: "" when the two records (same task) measured the same thing (model config
// hash, dataset sha256 per role, protocol text, ctx / max_windows or shots / max_questions /
// subjects, question set, token hash), else the first reason they did not. Fields a record
// lacks (imports, old files) are not held against it. The window's charts use it too.
std::string protocolMismatch(const ResultRecord& q, const ResultRecord& b);

// The sources of these records (rowSource(): "" is the current run), in first-seen order.
std::vector<std::string> resultSources(const std::vector<ResultRecord>& records);

// Two sources side by side (an old run and this one, two models): one row per config present in
// both, each metric of A and of B, the difference B - A and its test with the same machinery as
// the report (paired per-token ΔNLL for PPL, McNemar + paired bootstrap for MMLU), refused with
// the reason when the two records measured different things. Configs in only one source are
// named in the notes. Table id "compare".
Table compareSources(const std::vector<ResultRecord>& records, const std::string& a, const std::string& b,
                     const ReportOptions& opts = {});

} // namespace qb
