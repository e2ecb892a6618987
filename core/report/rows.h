#pragma once
// The row view of results: the records of one config (one per task, possibly several runs)
// grouped into one row. It is the single grouping behind the report's tables, the CSV export
// and the window's results table and charts, so a config means the same thing everywhere.
//
// Metric columns are generic: every metric of every record is a column keyed "task.metric"
// ("ppl.ppl", "ppl.kl_p999", "mmlu_direct.accuracy"); "<metric>_stderr" is shown with its
// metric, not as a column of its own. A few headline metrics come first with short labels;
// the rest follow in task order, then by name, labelled "task: metric".
#include "core/quant/scheme.h"
#include "core/report/table.h"
#include "core/results/record.h"

#include <string>
#include <vector>

namespace qb {

// What makes two records the same row: the config alone (the report: one line per config,
// whatever file it came from) or the config and where it came from (the window shows a loaded
// file next to the current run).
enum class RowKey { Config, ConfigAndSource };

struct ConfigRow {
    std::string config;
    std::string source; // rowSource() of its records: "" = the current run
    std::string group;  // configGroup(): Baseline | Real | Fake | SmoothQuant
    bool parsed = false;
    QuantScheme scheme; // meaningful when parsed (a known scheme name or scheme JSON)
    std::vector<ResultRecord> records; // in arrival order

    // The ok record of `task` with the newest provenance.finished (ties: the later one); nullptr when none.
    const ResultRecord* get(const std::string& task) const;
    // Failed records of tasks that have no ok record.
    std::vector<const ResultRecord*> failures() const;
    std::string status() const; // "ok" | "partial" (some tasks failed) | "failed"
    std::string error() const;  // "task: reason; ..." of failures()
    bool hasNumbers() const { return status() != "failed"; }
    double seconds() const;     // sum of the records' provenance seconds
    // `key` = "task.metric"; NaN when the row has no ok record of the task or no such metric.
    double value(const std::string& key) const;
    double stderrOf(const std::string& key) const; // "<metric>_stderr" of the same record
};

// Where a record belongs for RowKey::ConfigAndSource: its file, except for report-style imports
// (one metric per file), whose files of one folder form one source per experiment: the folder,
// or FOLDER/<experiment> for files named task_NN_* (settings.experiment), and a Slurm run's
// shard files (RUN_DIR/shard_<i>/results.jsonl), whose source is RUN_DIR.
std::string rowSource(const ResultRecord& r);
// A short name for a source in legends and titles: "this run" for "", else the file name, or
// for a run folder's results.jsonl the folder's name (every run's file has the same name).
std::string sourceLabel(const std::string& source);
// Group of a config: "Baseline", "Real", "Fake" or "SmoothQuant" (from the scheme JSON, the
// canonical name, or, for imported names, words in the name).
std::string configGroup(const ResultRecord& r);

// Adds a record to the row it belongs to (appending a row when none); returns the row's index.
size_t addToRows(std::vector<ConfigRow>& rows, const ResultRecord& r, RowKey key = RowKey::ConfigAndSource);
std::vector<ConfigRow> groupRecords(const std::vector<ResultRecord>& records, RowKey key = RowKey::ConfigAndSource);

std::string metricKey(const std::string& task, const std::string& metric); // "task.metric"

struct MetricColumn {
    std::string key;   // "task.metric"
    std::string label; // "PPL", "ppl: kl_p999"
    Better better = Better::None;
    int digits = -1;   // fixed decimals; -1 = up to 6 significant digits
};
// Description of one key (headline label and direction, or the generic one).
MetricColumn describeMetric(const std::string& key);
// Every metric some row has (ok records only), headline metrics first.
std::vector<MetricColumn> metricColumns(const std::vector<ConfigRow>& rows);
std::string formatMetric(double v, int digits); // "" for NaN

// The rows as one table: Config, Source, Status, then per metric column its key and, when some
// row has one, "<key>_stderr", then Seconds and Reason. Full-precision numbers: this is the CSV
// export, meant to be read back by scripts.
Table rowsTable(const std::vector<ConfigRow>& rows);

} // namespace qb
