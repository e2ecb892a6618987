#pragma once
// Synthetic checkpoints with the real architecture of a known model and random weights:
// config.json + model.safetensors that load like the real thing, for tests and benchmarks
// without downloading gigabytes. Weights are deterministic from the seed, on every libtorch.
#include "core/model/config.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qb {

// Known names: qwen2.5-0.5b, qwen3-0.6b, llama-3.2-1b and tiny-qwen2.5, tiny-qwen3,
// tiny-llama3, tiny-llama-untied (same structural features, hidden 64, 2 layers, vocab 512).
std::vector<std::string> presetNames();
ModelConfig presetConfig(const std::string& name); // throws qb::Error listing known names

struct MakeModelOptions {
    std::string like;              // preset name
    std::filesystem::path out;     // folder (created)
    uint64_t seed = 0;
    int64_t layers = -1;           // > 0 overrides num_hidden_layers
    std::string dtype = "bf16";    // "bf16" or "f32"
    std::filesystem::path tokenizer; // optional: tokenizer.json, or a folder holding it
    // Planted activation outliers (the analysis tests, docs/analysis.md): when >= 0, that layer's
    // input_layernorm weight is multiplied by outlier_factor on outlier_channels channels spread over
    // the hidden size (hidden / n * i + 1), so the q/k/v input has a few channels ~factor x the rest.
    int64_t outlier_layer = -1;
    int64_t outlier_channels = 4;
    float outlier_factor = 50.0f;
};
// The channels make-model plants outliers on (for tests that check where they are).
std::vector<int64_t> plantedOutlierChannels(int64_t hidden, int64_t n);

struct MakeModelResult {
    std::filesystem::path dir;
    std::vector<std::filesystem::path> files; // everything written
    int64_t parameters = 0;
    uint64_t bytes = 0;                       // total size of the files written
    ModelConfig config;
};

// Writes tensor by tensor (peak extra memory ~ one 1M-element chunk), weights
// N(0, 0.02) for linears/embeddings/biases, 1 + N(0, 0.02) for norms. Each tensor's values
// depend only on (seed, tensor name), not on the order or on other tensors.
MakeModelResult makeModel(const MakeModelOptions& opts);

} // namespace qb
