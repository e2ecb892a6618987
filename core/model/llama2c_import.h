#pragma once
// llama2.c checkpoints (Karpathy's run.c "legacy" format) -> Hugging Face Llama folder.
#include "core/model/config.h"

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace qb {

struct Llama2cModel {
    ModelConfig config;                                       // HF LlamaForCausalLM equivalent
    std::vector<std::pair<std::string, at::Tensor>> tensors; // HF names, float32, HF RoPE layout
};

// Reads and validates a legacy llama2.c checkpoint: header of 7 int32 (dim, hidden_dim,
// n_layers, n_heads, n_kv_heads, vocab_size (negative = unshared classifier), seq_len), then the
// float32 arrays. q/k rows are permuted from llama2.c's interleaved-pair RoPE to HF's halves.
Llama2cModel readLlama2cCheckpoint(const std::filesystem::path& bin);

// Writes config.json, model.safetensors, tokenizer.json and tokenizer_config.json into outDir
// (created if needed).
void importLlama2c(const std::filesystem::path& checkpointBin, const std::filesystem::path& tokenizerBin,
                   const std::filesystem::path& outDir);

} // namespace qb
