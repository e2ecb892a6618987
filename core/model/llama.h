#pragma once
// Decoder-only transformer forward (Llama, Mistral, Qwen2/2.5, Qwen3) with a KV cache.
// Numerics follow Hugging Face transformers: RMSNorm in fp32 then `weight * x.to(dtype)`,
// RoPE in the "rotate_half" layout with inv_freq in fp32 (linear / llama3 scaling), GQA,
// SiLU-gated MLP, logits returned as float32.
//
// Batches of unequal length use LEFT padding: `attentionMask` (B, T) is 1 for real tokens and
// 0 for padding; position ids start at 0 at each row's first real token, and padded positions
// never influence the other positions of any row.
#include "core/model/config.h"
#include "core/model/linear.h"

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qb {

// One decoder block. Public on purpose: core/quant swaps the linear slots, SmoothQuant folds
// scales into the norm weights (replace the tensors, do not edit them in place: copies of a
// LlamaModel share tensors).
struct DecoderLayer {
    at::Tensor input_layernorm;          // (hidden)
    at::Tensor post_attention_layernorm; // (hidden)
    at::Tensor q_norm, k_norm;           // (head_dim) Qwen3 per-head RMSNorm; undefined otherwise
    LinearPtr q_proj, k_proj, v_proj;    // (H*D, hidden), (kvH*D, hidden), (kvH*D, hidden)
    LinearPtr o_proj;                    // (hidden, H*D)
    LinearPtr gate_proj, up_proj;        // (I, hidden)
    LinearPtr down_proj;                 // (hidden, I)
};

// Keys/values of every position seen so far, preallocated for `capacity` positions so that
// decoding never reallocates. One cache serves one batch of sequences, prefill then decode.
class KVCache {
public:
    KVCache(const ModelConfig& cfg, int64_t batch, int64_t capacity, at::ScalarType dtype,
            torch::Device device);
    int64_t batch() const { return batch_; }
    int64_t length() const { return length_; }     // positions filled (padding included)
    int64_t capacity() const { return capacity_; }
    void reset();                                  // empty again, keeps the memory

private:
    friend class LlamaModel;
    int64_t batch_, capacity_, length_ = 0;
    bool hasPadding_ = false;
    std::vector<at::Tensor> k_, v_; // per layer (B, kvH, capacity, D)
    at::Tensor keyReal_;            // (B, capacity) bool: the position holds a real token
    at::Tensor nextPos_;            // (B) int64: position id of each row's next real token
};

class LlamaModel {
public:
    // Returns the named tensor (any dtype, CPU) or an undefined tensor when absent.
    using TensorSource = std::function<at::Tensor(const std::string& name)>;

    // Writes the named tensor straight into `dst` (the checked shape, the model's dtype and device).
    using TensorFill = std::function<void(const std::string& name, at::Tensor& dst)>;

    // Builds from HF-named tensors ("model.layers.0.self_attn.q_proj.weight", ...), checking
    // every shape; weights are copied, converted to `dtype` and moved to `device`. With `fill`,
    // `tensors` only supplies shapes and dtypes (views touch no data) and `fill` the values, so a
    // loader can read the file into the weights without faulting a mapping in beside them.
    LlamaModel(ModelConfig cfg, const TensorSource& tensors, at::ScalarType dtype = at::kFloat,
               torch::Device device = torch::kCPU, const TensorFill& fill = {});
    // config.json + safetensors folder.
    static std::shared_ptr<LlamaModel> load(const std::filesystem::path& dir,
                                            at::ScalarType dtype = at::kFloat,
                                            torch::Device device = torch::kCPU);

    const ModelConfig& config() const { return cfg_; }
    at::ScalarType dtype() const { return dtype_; }
    torch::Device device() const { return device_; }

    // ids: (B, T) integer. cache: appended to when given (prefill, then one token per call).
    // attentionMask: (B, T), nonzero = real token; undefined = all real.
    // lastOnly: logits of the last position only -> (B, 1, V).
    // Returns float32 logits (B, T, V) on the model's device.
    at::Tensor forward(const at::Tensor& ids, KVCache* cache = nullptr,
                       const at::Tensor& attentionMask = {}, bool lastOnly = false) const;
    // forward() in two steps: the hidden states after the final RMSNorm (B, T|1, hidden) in the
    // model's dtype, and the float32 logits of any rows of them (..., V). Evaluations that only need
    // a reduction of the logits (PPL, KL) take them a few rows at a time: full (T, V) float32
    // logits are 311 MB for 512 tokens of a 151,936-token vocabulary.
    at::Tensor forwardHidden(const at::Tensor& ids, KVCache* cache = nullptr, const at::Tensor& attentionMask = {},
                             bool lastOnly = false) const;
    at::Tensor logits(const at::Tensor& hidden) const;
    // The same logits before the float32 cast: in the lm_head's output dtype (bf16 for a bf16
    // model), for callers that widen a few rows at a time (ppl: 128 x 151,936 float32 is 78 MB).
    at::Tensor logitsNative(const at::Tensor& hidden) const;

    KVCache makeCache(int64_t batch, int64_t capacity) const;

    // Decoder linears by HF module name ("model.layers.3.mlp.down_proj"), in model order.
    std::vector<std::string> linearNames() const;
    LinearPtr linear(const std::string& name) const;
    void setLinear(const std::string& name, LinearPtr op); // checks in/out features

    uint64_t weightBytes() const; // embeddings + norms + linears (+ untied lm_head or lm_head_op)
    // Weight bytes one decode step reads: all but the embedding table (one row of it), which is the
    // lm_head too when tied and not replaced by lm_head_op.
    uint64_t decodeBytesPerToken() const;

    std::vector<DecoderLayer> layers;
    at::Tensor embed_tokens; // (V, hidden)
    at::Tensor norm;         // (hidden) final RMSNorm
    at::Tensor lm_head;      // (V, hidden); the same tensor as embed_tokens when tied
    LinearPtr lm_head_op;    // when set (a quantized lm_head), logits() uses it instead of lm_head

private:
    LinearPtr& slot(const std::string& name);
    at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w) const;
    std::pair<at::Tensor, at::Tensor> ropeCosSin(const at::Tensor& positions) const; // (B,T,D) each

    ModelConfig cfg_;
    at::ScalarType dtype_;
    torch::Device device_;
    at::Tensor invFreq_; // (D/2) float32 on device, scaling applied
};

// Bytes of a model of this config in `dtype`, from the config alone (doubles: a hostile config
// cannot overflow them): all weights, and the decoder linears among them (what a quantized scheme
// replaces).
struct ModelMemory {
    double weights = 0, linears = 0, linearParams = 0;
};
ModelMemory estimateModelMemory(const ModelConfig& cfg, at::ScalarType dtype);

// inv_freq exactly as transformers computes it (fp32), with rope_scaling applied.
at::Tensor ropeInvFreq(const ModelConfig& cfg);

} // namespace qb
