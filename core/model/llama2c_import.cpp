#include "core/model/llama2c_import.h"

#include "core/util/error.h"

#include <cstdint>
#include <cstring>
#include <fstream>

namespace qb {

namespace {

// Meta/llama2.c rotate adjacent pairs (0,1),(2,3)... of each head; HF Llama rotates the two
// halves. Same permutation as transformers' convert_llama_weights_to_hf.py:
// w.view(n_heads, head_dim/2, 2, in).transpose(1, 2).reshape(out, in).
at::Tensor permuteRope(const at::Tensor& w, int64_t nHeads)
{
    const int64_t out = w.size(0), in = w.size(1);
    return w.view({nHeads, out / nHeads / 2, 2, in}).transpose(1, 2).reshape({out, in}).contiguous();
}

} // namespace

Llama2cModel readLlama2cCheckpoint(const std::filesystem::path& bin)
{
    const std::string where = bin.string();
    std::error_code ec;
    const uint64_t fileSize = std::filesystem::file_size(bin, ec);
    if (ec)
        fail(where, "cannot read llama2.c checkpoint: " + ec.message());
    if (fileSize < 28)
        fail(where, "too small for a llama2.c checkpoint header (" + std::to_string(fileSize) + " bytes)");
    std::ifstream in(bin, std::ios::binary);
    if (!in)
        fail(where, "cannot open");
    int32_t h[7];
    in.read(reinterpret_cast<char*>(h), sizeof h);
    if (!in)
        fail(where, "cannot read the header");
    if (static_cast<uint32_t>(h[0]) == 0x616b3432u)
        fail(where, "llama2.c export format version >= 1 (magic 'ak42') is not supported; export with "
                    "--version 0 (legacy)");
    const int64_t dim = h[0], hidden = h[1], L = h[2], nH = h[3], nKV = h[4], seqLen = h[6];
    const bool shared = h[5] > 0;
    const int64_t V = h[5] > 0 ? h[5] : -static_cast<int64_t>(h[5]);
    auto bad = [&](const std::string& what) {
        fail(where, "invalid llama2.c header (dim " + std::to_string(dim) + ", hidden_dim " + std::to_string(hidden) +
                        ", n_layers " + std::to_string(L) + ", n_heads " + std::to_string(nH) + ", n_kv_heads " +
                        std::to_string(nKV) + ", vocab_size " + std::to_string(h[5]) + ", seq_len " +
                        std::to_string(seqLen) + "): " + what);
    };
    const int64_t kMax = 1 << 20;
    for (int64_t x : {dim, hidden, L, nH, nKV, V, seqLen})
        if (x <= 0 || x > kMax)
            bad("every value must be in 1.." + std::to_string(kMax));
    if (dim % nH != 0)
        bad("dim is not a multiple of n_heads");
    if (nH % nKV != 0)
        bad("n_heads is not a multiple of n_kv_heads");
    const int64_t hs = dim / nH, kvDim = nKV * hs;
    if (hs % 2 != 0)
        bad("head size must be even");

    // Element counts in file order, computed in double first so absurd headers cannot overflow.
    const double expectD = double(V) * dim + double(L) * dim + double(L) * dim * dim + 2.0 * L * kvDim * dim +
                           double(L) * dim * dim + double(L) * dim + 3.0 * L * hidden * dim + dim +
                           double(seqLen) * hs + (shared ? 0.0 : double(V) * dim);
    const double bytesD = 28.0 + 4.0 * expectD;
    if (bytesD != static_cast<double>(fileSize))
        bad("expects " + std::to_string(static_cast<uint64_t>(bytesD)) + " bytes, the file has " +
            std::to_string(fileSize));
    const int64_t nFloats = static_cast<int64_t>(expectD);

    at::Tensor all = at::empty({nFloats}, at::kFloat);
    in.read(reinterpret_cast<char*>(all.data_ptr<float>()), nFloats * 4);
    if (!in)
        fail(where, "short read");
    if (!at::isfinite(all).all().item<bool>())
        fail(where, "contains NaN or infinite weights");

    int64_t off = 0;
    auto next = [&](std::vector<int64_t> shape) {
        int64_t n = 1;
        for (auto s : shape)
            n *= s;
        at::Tensor t = all.narrow(0, off, n).view(shape);
        off += n;
        return t;
    };
    auto emb = next({V, dim});
    auto rmsAtt = next({L, dim});
    auto wq = next({L, dim, dim});
    auto wk = next({L, kvDim, dim});
    auto wv = next({L, kvDim, dim});
    auto wo = next({L, dim, dim});
    auto rmsFfn = next({L, dim});
    auto w1 = next({L, hidden, dim});
    auto w2 = next({L, dim, hidden});
    auto w3 = next({L, hidden, dim});
    auto rmsFinal = next({dim});
    off += seqLen * hs; // freq_cis_real + freq_cis_imag: RoPE tables, recomputed by the engine
    at::Tensor wcls = shared ? at::Tensor() : next({V, dim});

    Llama2cModel m;
    ModelConfig& c = m.config;
    c.architecture = "LlamaForCausalLM";
    c.model_type = "llama";
    c.vocab_size = V;
    c.hidden_size = dim;
    c.intermediate_size = hidden;
    c.num_hidden_layers = L;
    c.num_attention_heads = nH;
    c.num_key_value_heads = nKV;
    c.head_dim = hs;
    c.max_position_embeddings = seqLen;
    c.rms_norm_eps = 1e-5;
    c.rope_theta = 10000.0;
    c.tie_word_embeddings = shared;
    c.bos_token_id = 1;
    c.eos_token_ids = {2};
    c.torch_dtype = "float32";

    auto& t = m.tensors;
    t.emplace_back("model.embed_tokens.weight", emb.clone());
    for (int64_t i = 0; i < L; ++i) {
        const std::string p = "model.layers." + std::to_string(i);
        t.emplace_back(p + ".input_layernorm.weight", rmsAtt[i].clone());
        t.emplace_back(p + ".self_attn.q_proj.weight", permuteRope(wq[i], nH));
        t.emplace_back(p + ".self_attn.k_proj.weight", permuteRope(wk[i], nKV));
        t.emplace_back(p + ".self_attn.v_proj.weight", wv[i].clone());
        t.emplace_back(p + ".self_attn.o_proj.weight", wo[i].clone());
        t.emplace_back(p + ".post_attention_layernorm.weight", rmsFfn[i].clone());
        t.emplace_back(p + ".mlp.gate_proj.weight", w1[i].clone());
        t.emplace_back(p + ".mlp.up_proj.weight", w3[i].clone());
        t.emplace_back(p + ".mlp.down_proj.weight", w2[i].clone());
    }
    t.emplace_back("model.norm.weight", rmsFinal.clone());
    if (!shared)
        t.emplace_back("lm_head.weight", wcls.clone());
    return m;
}

} // namespace qb
