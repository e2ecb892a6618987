#pragma once
// What the setup panel describes: model, schemes, evaluations, device. Saved and loaded as the
// core's sweep file (core/run/sweep.h), the same file `quantbench-cli sweep` runs; settings the
// panel does not show (KL windows, generate tokens, warm-up, calibration length, seed, ...) ride
// along in `base`, so a file opened, edited and saved in the window keeps them.
#include "core/quant/scheme.h"
#include "core/run/sweep.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace qb::ui {

struct EvalSettings {
    bool ppl = true;
    std::string ppl_dataset;      // text file (WikiText-2 raw by default)
    int ppl_ctx = 256;            // tokens per window
    int ppl_windows = 8;          // 0 = all windows
    bool mmlu_direct = false;
    bool mmlu_generate = false;
    std::string mmlu_dir;         // folder with dev/ and test/ CSVs
    int mmlu_shots = 5;
    int mmlu_limit = 100;         // questions, 0 = all
    int mmlu_batch = 8;
    bool throughput = false;
    int prefill_batch = 8;
    int prefill_len = 128;
    int decode_batch = 8;
    int decode_len = 32;
    bool matmul = false;
    std::string calib_dataset;    // SmoothQuant calibration text
    int calib_samples = 16;
    // Analysis tasks (docs/analysis.md).
    bool sensitivity = false;
    std::string sensitivity_scheme; // canonical config name; empty = every quantized config
    std::string sensitivity_mode = "linear";
    double budget_kl = 0.001;
    bool outliers = false;

    bool any() const { return ppl || mmlu_direct || mmlu_generate || throughput || matmul || sensitivity || outliers; }
};

struct SweepSetup {
    std::string model_dir;
    std::string device = "cpu";        // "cpu" | "cuda"
    std::string baseline_dtype = "FP32"; // "FP32" | "BF16" | "FP16"
    std::vector<qb::QuantScheme> schemes; // quantized configs; the baseline is implied (first)
    EvalSettings evals;
    std::string run_dir; // where the runner appends results (set per run, not saved in sweep files)
    int threads = 0;     // CPU threads for libtorch and the kernels (0: every CPU this process may use);
                         // a setting of this machine (QSettings), not saved in sweep files
    qb::SweepSpec base;  // the sweep this setup was loaded from (defaults for a new one)

    // The core sweep: `base` with every field the panel shows replaced by this setup's values.
    qb::SweepSpec toSpec() const;
    static SweepSetup fromSpec(const qb::SweepSpec& spec);

    // Baseline first, then `schemes` in order: what the runner executes.
    std::vector<qb::QuantScheme> configs() const;
    nlohmann::json toJson() const; // the core sweep-file JSON
    // Reads a core sweep file (relative paths against `baseDir`), or the window's older format
    // (an "evals" object) from before the two were one. Throws qb::Error naming `where`.
    static SweepSetup fromJson(const nlohmann::json& j, const std::string& where, const std::string& baseDir = {});
    static SweepSetup load(const std::string& path);                               // throws qb::Error
    void save(const std::string& path) const;                                      // throws qb::Error
    // Problems that make Run pointless, one sentence each, naming the field or file.
    std::vector<std::string> problems() const;
    // Advice that does not block Run (e.g. BF16 on CPU is slow).
    std::vector<std::string> warnings() const;
};

// The bundled demo model folder (env QB_DEMO_MODEL, installed share/quantbench/demo, source tree).
std::string demoModelDir();
// The demo sweep: resources/demo/demo_sweep.json next to the demo model (the file
// `quantbench-cli sweep --demo` runs); a built-in equivalent if that file is missing.
SweepSetup demoSweep();   // resources/demo/demo_sweep.json with the demo model; throws qb::Error if missing

} // namespace qb::ui
