#pragma once
// lm-evaluation-harness results, both ways.
//
// Import: a `results_<stamp>.json` ({"results": {task: {"acc,none", "acc_stderr,none",
// "word_perplexity,none", ...}}, "n-shot", "n-samples", "config": {"model_args"}}) becomes records:
// `mmlu` (or its `mmlu_<subject>` subtasks) -> mmlu_direct (lm-eval scores MMLU by the
// log-likelihood of the answer, as our direct method does), per-subject counts in details;
// `wikitext` -> a ppl record holding word_perplexity / byte_perplexity / bits_per_byte only:
// lm-eval's wikitext is word perplexity over whole documents, ours token PPL over windows, so the
// two never share an axis (no "ppl" metric, and a protocol text of its own). When the folder holds
// `samples_mmlu_<subject>_<stamp>.jsonl` (same stamp), their per-item correctness fills the
// record's `correct` string and question_set in our question order (subjects sorted, rows in
// file order), so the paired McNemar test works across the two tools. The config name comes from
// model_args: `quantbench_config=` (our own export), else the dtype (bfloat16 -> BF16 ...).
//
// Export: one config's MMLU / PPL records as such a results file, and, when its per-question
// correctness covers whole subjects, the samples files too; the importer above reads them back.
#include "core/results/import.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace qb {

bool isLmEvalResults(const nlohmann::json& doc);
ImportResult importLmEvalResults(const nlohmann::json& doc, const std::filesystem::path& file);
// True for samples_<task>_<stamp>.jsonl: read by importLmEvalResults, not a results file.
bool isLmEvalSamplesName(const std::filesystem::path& file);

// Writes DIR/results_<config>.json (+ samples) per config of `records` that has MMLU or PPL
// records; returns the files written. Throws qb::Error naming the file on I/O failure.
std::vector<std::filesystem::path> exportLmEval(const std::vector<ResultRecord>& records, const std::filesystem::path& dir);

} // namespace qb
