#pragma once
// One result record = one (config, task) evaluation, with everything needed to trust it later:
// provenance (app version and commit, libtorch, device, start/end), model identity (path,
// config hash), dataset identity (sha256, size), the full scheme and task settings, metrics
// (values with stderr and counts), and for MMLU the per-question correctness (for paired tests).
//
// Schema history (fromJson reads all of them):
//   1  pre-release layout: {"version":1, "config", "task", "result": {metric: value}, "ok"}
//   2  current: {"schema": "quantbench.result", "schema_version": 2, ...} as written by toJson()
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace qb {

constexpr int kResultSchemaVersion = 2;

// Task identifiers used in records, sweep files and reports.
namespace task {
constexpr const char* Ppl = "ppl";
constexpr const char* MmluDirect = "mmlu_direct";
constexpr const char* MmluGenerate = "mmlu_generate";
constexpr const char* Throughput = "throughput";
constexpr const char* Matmul = "matmul_accuracy";
constexpr const char* Sensitivity = "sensitivity"; // per-unit KL + mixed precision (docs/analysis.md)
constexpr const char* Outliers = "outliers";       // per-channel activation / weight max (docs/analysis.md)
} // namespace task

struct Provenance {
    std::string app_version, git_commit, torch_version, device;
    std::string started, finished; // ISO 8601 UTC
    double seconds = 0;
    int threads = 0;     // CPU threads of the thread policy (core/util/threads.h); 0: not recorded
    std::string kernels; // kernel ISA and dense GEMM paths in use (core/model/dense_gemm.h)
    nlohmann::json toJson() const;
    static Provenance fromJson(const nlohmann::json& j);
};

struct DatasetIdentity {
    std::string role; // "ppl_text", "mmlu", "calibration"
    std::string path, sha256;
    uint64_t bytes = 0;
};

struct ResultRecord {
    int schema_version = kResultSchemaVersion;
    std::string run_id;
    std::string config;            // canonical scheme name ("INT8_Per_Row", "BF16")
    nlohmann::json scheme;         // QuantScheme::toJson(), or null for imported records
    std::string task;              // task::*
    nlohmann::json settings;       // task settings and protocol text
    std::string status = "ok";     // "ok" | "failed"
    std::string error;             // reason when failed
    std::map<std::string, double> metrics; // e.g. ppl, ppl_stderr, accuracy, accuracy_stderr, n
    nlohmann::json details;        // per subject, spread, histograms... (free-form)
    // MMLU: one char per evaluated question, '1' correct, '0' wrong, in question_ids order;
    // predictions: 'A'-'D' or '?' (unparseable). question_set = sha256 of the ids joined by '\n'.
    std::string correct, predictions, question_set;
    std::string model_path, model_config_hash, model_name;
    std::vector<DatasetIdentity> datasets;
    Provenance provenance;
    std::string source; // where the record was read from (not written)
    // PPL: per predicted token NLL (float32), not written into the JSON line: the runner writes it
    // as a sidecar file next to results.jsonl (core/results/nll_sidecar.h), referenced and
    // sha256-hashed from details.nll_sidecar; loadNllSidecar() reads it back.
    std::vector<float> nll;

    bool ok() const { return status == "ok"; }
    std::string key() const { return config + "|" + task; } // unit of resume
    bool has(const std::string& m) const { return metrics.count(m) > 0; }
    // A missing metric is NaN unless a default is given: missing must never read as 0.
    double metric(const std::string& m, double def = std::numeric_limits<double>::quiet_NaN()) const;

    nlohmann::json toJson() const;
    // Reads any schema version; throws qb::Error naming `where` on a record it cannot read.
    static ResultRecord fromJson(const nlohmann::json& j, const std::string& where);
};

std::string isoNowUtc();

} // namespace qb
