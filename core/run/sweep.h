#pragma once
// A sweep file (JSON), saved and loaded by the GUI and the CLI alike:
// {
//   "name": "demo",
//   "model": "resources/demo/stories260k",   // relative paths: relative to the sweep file
//   "baseline_dtype": "FP32",               // FP32 | BF16 | FP16
//   "device": "auto",                        // auto | cpu | cuda | cuda:N
//   "schemes": ["INT8_Per_Row", ...]          // a list of canonical names or scheme objects, or
//   "schemes": {"matrix": {"dtypes": ["INT8","FP8"], "granularities": ["tensor","row","group64"],
//               "modes": ["fake","real"]}, "smoothquant": [{"dtype": "INT8", "alpha": 0.5}],
//               "extra": ["INT8_Per_Row_W8A8"]},
//   "tasks": {"ppl": {...}, "mmlu": {...}, "throughput": {...}, "matmul_accuracy": {...}},
//   "datasets": {"ppl_text": "...", "mmlu": "...", "calibration_text": "..."},
//   "calibration": {"sequences": 128, "length": 512},
//   "seed": 1234
// }
#include "core/eval/tasks.h"
#include "core/quant/scheme.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace qb {

struct SweepSpec {
    std::string name = "sweep";
    std::string model;
    std::string baseline_dtype = "FP32";
    std::string device = "auto";
    std::vector<QuantScheme> schemes; // expanded, baseline excluded, duplicates removed
    nlohmann::json schemes_json;      // as written (a matrix stays a matrix when saved)
    TaskSettings tasks;
    std::string ppl_text, mmlu, calibration_text;
    int64_t calib_sequences = 128, calib_length = 512;
    uint64_t seed = 1234;

    // Baseline first, then the schemes in file order.
    std::vector<QuantScheme> configs() const;

    nlohmann::json toJson() const;
    // `baseDir` resolves relative paths; errors name `where` and the key.
    static SweepSpec fromJson(const nlohmann::json& j, const std::string& where,
                              const std::filesystem::path& baseDir = {});
    static SweepSpec load(const std::filesystem::path& file);
    void save(const std::filesystem::path& file) const; // atomic
    // sha256 of the canonical JSON (toJson(), without "device"): what a run folder's manifest and
    // every record store, so a resume with a changed sweep file is caught.
    std::string protocolHash() const;
};

// Expands the "schemes" value of a sweep file (list or matrix form); every scheme is validated.
std::vector<QuantScheme> expandSchemes(const nlohmann::json& j, const std::string& baselineDtype,
                                       const std::string& where);

} // namespace qb
