#pragma once
// Applies a QuantScheme to a loaded LlamaModel in place, from its in-memory baseline (no
// reload), and restores the baseline cheaply for the next scheme. Also SmoothQuant
// (calibration -> per-channel smoothing folded into the RMSNorms and q/k/v, gate/up) and the
// per-layer matmul accuracy of a scheme on real activations.
#include "core/quant/scheme.h"
#include "core/util/progress.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qb {

class LlamaModel;
class DenseLinear;
class LinearOp;


struct QuantizeReport {
    std::string scheme;
    int64_t linears = 0;             // decoder linears replaced
    uint64_t linear_bytes_before = 0; // decoder linears in the baseline
    uint64_t linear_bytes_after = 0;
    uint64_t model_bytes_before = 0; // whole model (embeddings, norms, lm_head included)
    uint64_t model_bytes_after = 0;
    double seconds = 0;
};

// Per-input-channel max |x| seen by each block's attention input (shared by q/k/v) and MLP
// input (shared by gate/up), collected on calibration text.
struct ActivationStats {
    std::vector<at::Tensor> attn_in; // per layer (hidden) float32, CPU
    std::vector<at::Tensor> mlp_in;  // per layer (hidden)
    // The inputs of o_proj (heads x head_dim) and down_proj (intermediate): not smoothed, recorded
    // for the activation-outlier view (docs/analysis.md).
    std::vector<at::Tensor> o_in, down_in;
    int64_t sequences = 0, tokens = 0;
};

// Splits a token stream into `n` consecutive windows of `len` tokens (fewer when the stream
// is short); the calibration/accuracy inputs.
std::vector<at::Tensor> tokenWindows(const std::vector<int32_t>& tokens, int64_t n, int64_t len);

class ModelQuantizer {
public:
    explicit ModelQuantizer(LlamaModel& model); // snapshots the baseline linears and norms
    ~ModelQuantizer();

    // Restores the baseline, then quantizes every decoder linear for `scheme`. SmoothQuant
    // schemes need calibrate() first (throws otherwise).
    QuantizeReport apply(const QuantScheme& scheme);
    void restore();
    const QuantScheme& current() const { return current_; }

    // Runs the baseline on `windows` (each (T) int64) and records activation max |x| per channel.
    const ActivationStats& calibrate(const std::vector<at::Tensor>& windows, const ProgressFn& progress = {});
    bool calibrated() const { return stats_.sequences > 0; }
    const ActivationStats& stats() const { return stats_; }

    // Folds SmoothQuant scales for `alpha` into the norms and q/k/v, gate/up (no quantization).
    // Returns the per-layer smoothing factors (attn, mlp). Used by tests; apply() smooths one linear
    // at a time (smoothingFactors + smoothedLinear) so no second copy of the weights is ever held.
    std::vector<std::pair<at::Tensor, at::Tensor>> smooth(double alpha);
    // Per-layer factors s (attn, mlp) for `alpha`, from the calibration; changes nothing.
    std::vector<std::pair<at::Tensor, at::Tensor>> smoothingFactors(double alpha) const;
    // The baseline linear `name` with its input columns scaled by its group's factor (the linear
    // itself when it is not smoothed: o_proj, down_proj).
    std::shared_ptr<const DenseLinear> smoothedLinear(const std::string& name,
                                                      const std::vector<std::pair<at::Tensor, at::Tensor>>& factors) const;
    // The baseline (unsmoothed, unquantized) linear `name`.
    std::shared_ptr<const DenseLinear> baseLinear(const std::string& name) const { return base_.at(name); }

    LlamaModel& model() { return model_; }

private:
    void setSmoothedNorms(const std::vector<std::pair<at::Tensor, at::Tensor>>& factors);

    LlamaModel& model_;
    std::vector<std::string> names_;
    std::map<std::string, std::shared_ptr<const DenseLinear>> base_;
    std::vector<std::pair<at::Tensor, at::Tensor>> baseNorms_; // (input, post_attention) per layer
    std::shared_ptr<const DenseLinear> baseLmHead_;            // the lm_head as a linear (shares the tensor)
    ActivationStats stats_;
    std::string baseDtype_ = "FP32"; // of the loaded model
    QuantScheme current_;
};

// Matmul accuracy of a scheme: each decoder linear's quantized op against the float32
// reference x W^T on activations captured from the baseline model.
struct LayerAccuracy {
    std::string name;
    int64_t out = 0, in = 0, rows = 0;
    double rel_fro_error = 0; // ||Yq - Y|| / ||Y||
    double sqnr_db = 0;       // 10 log10(||Y||^2 / ||Yq - Y||^2)
    double cosine = 0;
    double max_abs_error = 0;
};

struct MatmulAccuracy {
    std::string scheme;
    std::vector<LayerAccuracy> layers;
    // aggregated over all layers: errors pooled (sum of squares), cosine mean, max of max
    double rel_fro_error = 0, sqnr_db = 0, cosine = 0, max_abs_error = 0;
    double sqnr_db_min = 0; // worst layer
};

// Captured inputs of every decoder linear (up to `maxRows` token rows each, in the model's dtype, CPU;
// q/k/v and gate/up share one tensor, as they share the input).
std::map<std::string, at::Tensor> captureLinearInputs(LlamaModel& model, const std::vector<at::Tensor>& windows,
                                                      int64_t maxRows = 512, const ProgressFn& progress = {});

// Evaluates `scheme` per layer. The quantizer must be in the baseline state; SmoothQuant
// schemes use its calibration and account for the smoothing (the quantized op sees x / s).
MatmulAccuracy matmulAccuracy(ModelQuantizer& q, const QuantScheme& scheme,
                              const std::map<std::string, at::Tensor>& inputs, const ProgressFn& progress = {});

} // namespace qb
