#pragma once
// Import of report-style JSON files written by script-based experiments. The file name says
// the task and (often) the config:
//   task_31_ppl_<CONFIG>.json                -> ppl of CONFIG
//   task_31_mmlu_<CONFIG>_direct.json        -> mmlu_direct of CONFIG
//   task_31_mmlu_<CONFIG>_Fake_generate.json -> mmlu_generate of CONFIG_Fake
//   task_32_throughput_results.json          -> throughput, object keyed by config
//   task_33_int8_results.json                -> any tasks, object keyed by config
// The content is a flat object of metrics, or an object keyed by config name (values: metric
// objects, possibly nested one level, e.g. {"mmlu": {"accuracy": ...}}). Keys are matched
// loosely: ppl/perplexity, accuracy/acc (a fraction, or a percent when > 1), prefill/decode
// throughput, mmlu throughput, memory, counts. What the name and the keys say is taken; every
// key, value or file that could not be understood is reported, file by file. Never throws.
#include "core/results/record.h"

#include <filesystem>
#include <string>
#include <vector>

namespace qb {

struct ImportResult {
    std::vector<ResultRecord> records;
    std::vector<std::string> messages; // problems: what was skipped or not understood
    std::vector<std::string> notes;    // how the file was read (percent or fraction, config from flags)
};

ImportResult importReportFile(const std::filesystem::path& p); // bounded read (kResultJsonCap)
// Same, from the file's content already read (loadResults reads each file once).
ImportResult importReportContent(const std::filesystem::path& p, const std::string& content);
// Same, from content already in memory (`name` is the file name that drives the parsing).
ImportResult importReportJson(const std::string& name, const std::string& content);

// The window's export before it wrote records (a legacy layout, still opened):
//   {"quantbench_results": 1, "results": [{"config", "scheme", "status", "error", "seconds",
//     "metrics": {"ppl": {"value", "stderr", "n"}, "mmlu_direct": ..., ...}, "records": [...]}]}
// An entry that carries core records ("records") gives those records; any other entry becomes
// one record per task from the metric keys that layout used (ppl, mmlu_direct, mmlu_generate,
// prefill_samples_per_s, decode_tokens_per_s, matmul_sqnr_db, matmul_rel_error, kl_divergence,
// top1_agreement, weight_mib, peak_mib); a failed entry becomes one failed record of task "all".
// `file` is the records' source and names every message. Never throws.
ImportResult importLegacyUiResults(const nlohmann::json& doc, const std::string& file);

} // namespace qb
