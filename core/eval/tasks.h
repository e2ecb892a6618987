#pragma once
// Task settings of a sweep (and of `quantbench-cli run`), with JSON converters. Each record
// stores the settings of its task plus the protocol text, so numbers stay comparable.
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qb {

struct QuantScheme;

struct PplTaskSettings {
    bool enabled = true;
    int64_t ctx = 2048;        // capped by the model
    int64_t max_windows = 0;   // 0 = all
    // KL / top-1 agreement vs the baseline on the first kl_windows PPL windows (computed in the PPL
    // pass itself, so at most max_windows of them); the baseline's
    // top-k log-probs of those windows are kept in memory (kl_topk per token, the rest of the
    // distribution as one "tail" bucket, exact when kl_topk >= vocab).
    // 0 (default) = every PPL window; < 0 = no KL.
    int64_t kl_windows = 0;
    int64_t kl_topk = 64;
};

struct MmluTaskSettings {
    bool direct = true;
    bool generate = true;
    int shots = 5;
    int64_t max_questions = 0; // 0 = all; spread over subjects by seed
    int64_t batch = 8;
    int gen_tokens = 4;
    std::vector<std::string> subjects; // empty = all
};

struct ThroughputTaskSettings {
    bool enabled = true;
    int64_t prefill_batch = 8, prefill_len = 128;
    int64_t decode_batch = 1, decode_prompt = 16, decode_tokens = 32;
    int warmup = 1, repeats = 3;
};

struct MatmulTaskSettings {
    bool enabled = true;
    int64_t windows = 2, len = 128, max_rows = 256;
};

// Per-unit sensitivity and the mixed-precision recommendation (docs/analysis.md).
struct SensitivityTaskSettings {
    bool enabled = false;
    std::string mode = "linear"; // "linear" (one decoder linear at a time) | "layer" (one decoder layer)
    int64_t windows = 4, len = 128, topk = 64, max_rows = 256;
    double budget_kl = 0.001;    // mean KL, nats per token; < 0: not used
    double budget_dppl = -1;     // < 0: not used
    std::vector<std::string> schemes; // configs to analyse (canonical names); empty = every quantized config
};

// Per-channel activation / weight max from the calibration pass (docs/analysis.md).
struct OutliersTaskSettings {
    bool enabled = false;
};

struct TaskSettings {
    PplTaskSettings ppl;
    MmluTaskSettings mmlu;
    ThroughputTaskSettings throughput;
    MatmulTaskSettings matmul;
    SensitivityTaskSettings sensitivity;
    OutliersTaskSettings outliers;

    std::vector<std::string> enabledTasks() const; // in evaluation order (task::* ids)
    // Whether `task` is evaluated for this config: sensitivity for the quantized schemes it names (all
    // when none), outliers for the baseline and SmoothQuant schemes (the smoothing is what it shows),
    // every other task for all.
    bool applies(const QuantScheme& scheme, const std::string& task) const;
    nlohmann::json toJson() const;
    // Unknown keys are errors (a typo must not silently use a default); `where` names the file.
    static TaskSettings fromJson(const nlohmann::json& j, const std::string& where);
    // The settings and protocol text of one task, as recorded in its results.
    nlohmann::json recordSettings(const std::string& task) const;
};

// Progress and cancellation handed down to every evaluation. The cancel flag is polled at
// least once per forward pass (a batch), which is well under a second on the sizes we run.
struct EvalHooks {
    std::function<void(int64_t done, int64_t total)> progress;
    const std::atomic<bool>* cancel = nullptr;
    // The run folder (empty outside a sweep): long tasks keep their per-unit checkpoints there so a
    // cancelled task resumes where it stopped (the sensitivity task, per linear).
    std::string work_dir;
    bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
    void check() const; // throws qb::Cancelled
};

// The protocol texts recorded in results.
extern const char* const kPplProtocol;
extern const char* const kMmluDirectProtocol;
extern const char* const kMmluGenerateProtocol;
extern const char* const kThroughputProtocol;
extern const char* const kMatmulProtocol;
extern const char* const kSensitivityProtocol;
extern const char* const kOutliersProtocol;

} // namespace qb
