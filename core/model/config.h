#pragma once
// config.json of a Hugging Face decoder-only model (Llama, Mistral, Qwen2, Qwen3).
// Parsing validates every field it reads and refuses unsupported architectures/options with
// a message naming the file and the key.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace qb {

class Checkpoint;

// Limits on config.json dimensions, checked before anything is sized from them. Generous: the
// largest open models are well inside (Llama 3.1 405B: 126 layers, hidden 16384, vocab 128256).
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHiddenSize = int64_t(1) << 17;       // 131072
constexpr int64_t kMaxIntermediateSize = int64_t(1) << 20; // 1048576
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 4096;
constexpr int64_t kMaxVocabSize = int64_t(1) << 24;        // 16.7 M
constexpr int64_t kMaxPositions = int64_t(1) << 26;        // 67 M (max_position_embeddings, sliding_window)

struct RopeScaling {
    std::string type = "none"; // "none", "linear", "llama3"
    double factor = 1.0;
    double low_freq_factor = 1.0;                 // llama3
    double high_freq_factor = 4.0;                // llama3
    int64_t original_max_position_embeddings = 8192; // llama3
};

struct ModelConfig {
    std::string architecture;  // e.g. "LlamaForCausalLM"
    std::string model_type;    // "llama", "mistral", "qwen2", "qwen3"
    int64_t vocab_size = 0;
    int64_t hidden_size = 0;
    int64_t intermediate_size = 0;
    int64_t num_hidden_layers = 0;
    int64_t num_attention_heads = 0;
    int64_t num_key_value_heads = 0;
    int64_t head_dim = 0;      // explicit in config or hidden_size / num_attention_heads
    int64_t max_position_embeddings = 2048;
    double rms_norm_eps = 1e-6;
    double rope_theta = 10000.0;
    RopeScaling rope_scaling;
    bool attention_bias = false; // q/k/v biases (Qwen2 always; Llama via attention_bias)
    bool qk_norm = false;        // per-head RMSNorm on q and k (Qwen3)
    bool tie_word_embeddings = false;
    int64_t bos_token_id = -1;
    std::vector<int64_t> eos_token_ids;
    std::string torch_dtype = "float32"; // dtype the checkpoint declares
    int64_t sliding_window = 0;          // 0 = none; models using it are refused for now

    // Parses an already-loaded config object; `where` names the file in errors.
    static ModelConfig fromJson(const nlohmann::json& j, const std::string& where);
    nlohmann::json toJson() const; // HF-compatible config.json content

    int64_t parameterCount() const; // embeddings + blocks + final norm (+ lm_head if untied)
};

ModelConfig loadConfig(const std::filesystem::path& configJson);

// HF tensor names and shapes a checkpoint of this config must hold, in file order
// (embeddings, layers 0..L-1, final norm, lm_head unless tied).
std::vector<std::pair<std::string, std::vector<int64_t>>> expectedTensors(const ModelConfig& c);

// Cheap checks of the config's dimensions against what the checkpoint holds (layer count,
// embedding shape, first layer's projections), before the per-tensor list is built; errors name
// `configWhere` (the config.json) and the key.
void checkConfigAgainstCheckpoint(const ModelConfig& c, const Checkpoint& ckpt, const std::string& configWhere);

// Runs checkConfigAgainstCheckpoint first (config errors name <where>/config.json), then checks
// presence, shape and float dtype of every expected tensor; extra tensors (rotary
// inv_freq, ...) are ignored. Throws qb::Error naming the file and the tensor; `where` names
// the model folder for tensors that are missing altogether.
void validateCheckpoint(const ModelConfig& c, const Checkpoint& ckpt, const std::string& where);

// The checkpoint tensor that holds the input embedding. Tied-embedding models are saved three ways:
// with "model.embed_tokens.weight" only, with "lm_head.weight" only (older transformers versions
// saved the tied matrix under the head's name) or with both (equal); for a tied config the head's
// name stands in when the embedding's is absent. Untied configs always need the embedding's own.
std::string embeddingTensorName(const ModelConfig& c, const Checkpoint& ckpt);

} // namespace qb
