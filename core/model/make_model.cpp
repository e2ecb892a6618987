#include "core/model/make_model.h"

#include "core/model/safetensors.h"
#include "core/util/error.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstring>
#include <fstream>

namespace fs = std::filesystem;

namespace qb {

namespace {

ModelConfig base(const char* arch, const char* type)
{
    ModelConfig c;
    c.architecture = arch;
    c.model_type = type;
    c.torch_dtype = "bfloat16";
    return c;
}

// Real configs as published on the Hugging Face hub (config.json of each repository).
ModelConfig qwen25_05b()
{
    ModelConfig c = base("Qwen2ForCausalLM", "qwen2");
    c.vocab_size = 151936;
    c.hidden_size = 896;
    c.intermediate_size = 4864;
    c.num_hidden_layers = 24;
    c.num_attention_heads = 14;
    c.num_key_value_heads = 2;
    c.head_dim = 64;
    c.max_position_embeddings = 32768;
    c.rms_norm_eps = 1e-6;
    c.rope_theta = 1000000.0;
    c.attention_bias = true;
    c.tie_word_embeddings = true;
    c.bos_token_id = 151643;
    c.eos_token_ids = {151643};
    return c;
}

ModelConfig qwen3_06b()
{
    ModelConfig c = base("Qwen3ForCausalLM", "qwen3");
    c.vocab_size = 151936;
    c.hidden_size = 1024;
    c.intermediate_size = 3072;
    c.num_hidden_layers = 28;
    c.num_attention_heads = 16;
    c.num_key_value_heads = 8;
    c.head_dim = 128;
    c.max_position_embeddings = 40960;
    c.rms_norm_eps = 1e-6;
    c.rope_theta = 1000000.0;
    c.qk_norm = true;
    c.tie_word_embeddings = true;
    c.bos_token_id = 151643;
    c.eos_token_ids = {151645};
    return c;
}

ModelConfig llama32_1b()
{
    ModelConfig c = base("LlamaForCausalLM", "llama");
    c.vocab_size = 128256;
    c.hidden_size = 2048;
    c.intermediate_size = 8192;
    c.num_hidden_layers = 16;
    c.num_attention_heads = 32;
    c.num_key_value_heads = 8;
    c.head_dim = 64;
    c.max_position_embeddings = 131072;
    c.rms_norm_eps = 1e-5;
    c.rope_theta = 500000.0;
    c.rope_scaling.type = "llama3";
    c.rope_scaling.factor = 32.0;
    c.rope_scaling.low_freq_factor = 1.0;
    c.rope_scaling.high_freq_factor = 4.0;
    c.rope_scaling.original_max_position_embeddings = 8192;
    c.tie_word_embeddings = true;
    c.bos_token_id = 128000;
    c.eos_token_ids = {128001};
    return c;
}

// Tiny variants: the structural features of the real model at hidden 64, 2 layers, vocab 512.
ModelConfig tiny(ModelConfig c, int64_t heads, int64_t kv, int64_t headDim, int64_t inter)
{
    c.vocab_size = 512;
    c.hidden_size = 64;
    c.intermediate_size = inter;
    c.num_hidden_layers = 2;
    c.num_attention_heads = heads;
    c.num_key_value_heads = kv;
    c.head_dim = headDim;
    c.bos_token_id = 1;
    c.eos_token_ids = {2};
    return c;
}

uint64_t splitmix64(uint64_t& s)
{
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned char ch : s)
        h = (h ^ ch) * 0x100000001B3ull;
    return h;
}

// Standard normals from a counter-based stream: block b of a tensor always gets the same
// numbers, whatever the thread count.
void normals(uint64_t seed, float* out, int64_t n)
{
    uint64_t s = seed;
    for (int64_t i = 0; i < n; i += 2) {
        double u1 = (double((splitmix64(s) >> 11) + 1)) * 0x1.0p-53; // (0, 1]
        double u2 = double(splitmix64(s) >> 11) * 0x1.0p-53;
        double r = std::sqrt(-2.0 * std::log(u1));
        out[i] = float(r * std::cos(2.0 * M_PI * u2));
        if (i + 1 < n)
            out[i + 1] = float(r * std::sin(2.0 * M_PI * u2));
    }
}

uint16_t toBf16(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7FFF + ((u >> 16) & 1); // round to nearest even (inputs are finite)
    return uint16_t(u >> 16);
}

bool isNorm(const std::string& name)
{
    auto ends = [&](const char* s) {
        size_t n = std::strlen(s);
        return name.size() >= n && name.compare(name.size() - n, n, s) == 0;
    };
    return ends("norm.weight") || ends("layernorm.weight");
}

void copyFile(const fs::path& from, const fs::path& to, std::vector<fs::path>& written)
{
    std::error_code ec;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec)
        fail(from.string(), "cannot copy to " + to.string() + ": " + ec.message());
    written.push_back(to);
}

} // namespace

std::vector<std::string> presetNames()
{
    return {"qwen2.5-0.5b", "qwen3-0.6b", "llama-3.2-1b", "tiny-qwen2.5", "tiny-qwen3", "tiny-llama3",
            "tiny-llama-untied", "tiny-mistral"};
}

ModelConfig presetConfig(const std::string& name)
{
    if (name == "qwen2.5-0.5b")
        return qwen25_05b();
    if (name == "qwen3-0.6b")
        return qwen3_06b();
    if (name == "llama-3.2-1b")
        return llama32_1b();
    if (name == "tiny-qwen2.5") // GQA 4:2, q/k/v bias, tied
        return tiny(qwen25_05b(), 4, 2, 16, 128);
    if (name == "tiny-qwen3") { // head_dim 16 with 8 heads: 8*16 = 128 != hidden 64, as in Qwen3
        ModelConfig c = tiny(qwen3_06b(), 8, 4, 16, 128);
        return c;
    }
    if (name == "tiny-llama3") // GQA 4:2, llama3 rope scaling, tied
        return tiny(llama32_1b(), 4, 2, 16, 128);
    if (name == "tiny-llama-untied") { // stories260K-like: MHA-ish 8:4, untied lm_head, plain rope
        ModelConfig c = tiny(base("LlamaForCausalLM", "llama"), 8, 4, 8, 172);
        c.max_position_embeddings = 512;
        c.rms_norm_eps = 1e-5;
        c.rope_theta = 10000.0;
        c.tie_word_embeddings = false;
        return c;
    }
    if (name == "tiny-mistral") { // untied, sliding_window recorded
        ModelConfig c = tiny(base("MistralForCausalLM", "mistral"), 4, 2, 16, 128);
        c.max_position_embeddings = 32768;
        c.rms_norm_eps = 1e-5;
        c.rope_theta = 10000.0;
        c.sliding_window = 4096;
        return c;
    }
    std::string known;
    for (const auto& n : presetNames())
        known += (known.empty() ? "" : ", ") + n;
    fail("make-model", "unknown model '" + name + "' (known: " + known + ")");
}

std::vector<int64_t> plantedOutlierChannels(int64_t hidden, int64_t n)
{
    std::vector<int64_t> out;
    n = std::max<int64_t>(1, std::min(n, hidden));
    for (int64_t i = 0; i < n; ++i)
        out.push_back(std::min(hidden - 1, hidden / n * i + 1));
    return out;
}

MakeModelResult makeModel(const MakeModelOptions& opts)
{
    MakeModelResult r;
    ModelConfig c = presetConfig(opts.like);
    if (opts.layers > 0)
        c.num_hidden_layers = opts.layers;
    if (opts.outlier_layer >= c.num_hidden_layers)
        fail("make-model", "outlier layer " + std::to_string(opts.outlier_layer) + " does not exist (" +
                               std::to_string(c.num_hidden_layers) + " layers)");
    if (opts.outlier_layer >= 0 && !(opts.outlier_factor > 0 && std::isfinite(opts.outlier_factor)))
        fail("make-model", "outlier factor must be a positive number");
    StDType dt;
    if (opts.dtype == "bf16" || opts.dtype == "bfloat16") {
        dt = StDType::BF16;
        c.torch_dtype = "bfloat16";
    } else if (opts.dtype == "f32" || opts.dtype == "float32") {
        dt = StDType::F32;
        c.torch_dtype = "float32";
    } else {
        fail("make-model", "--dtype must be bf16 or f32, got '" + opts.dtype + "'");
    }
    if (opts.out.empty())
        fail("make-model", "no output folder");
    std::error_code ec;
    fs::create_directories(opts.out, ec);
    if (ec)
        fail(opts.out.string(), "cannot create folder: " + ec.message());

    const auto expected = expectedTensors(c);
    std::vector<StTensorSpec> specs;
    for (const auto& [name, shape] : expected)
        specs.push_back({name, dt, shape});

    constexpr int64_t kBlock = 1 << 16;  // elements per RNG stream
    constexpr int64_t kChunk = 1 << 22;  // elements generated per write
    std::vector<float> f(kChunk);
    std::vector<uint16_t> h(dt == StDType::BF16 ? kChunk : 0);
    const fs::path weights = opts.out / "model.safetensors";
    writeSafetensorsStreamed(weights, specs, [&](size_t i, const StWriteFn& write) {
        int64_t n = 1;
        for (int64_t d : specs[i].shape)
            n *= d;
        const uint64_t tseed = fnv1a(specs[i].name) ^ (opts.seed * 0xD6E8FEB86659FD93ull);
        const bool norm = isNorm(specs[i].name);
        std::vector<uint8_t> planted;
        if (opts.outlier_layer >= 0 &&
            specs[i].name == "model.layers." + std::to_string(opts.outlier_layer) + ".input_layernorm.weight") {
            planted.assign(size_t(n), 0);
            for (int64_t ch : plantedOutlierChannels(n, opts.outlier_channels))
                planted[size_t(ch)] = 1;
        }
        for (int64_t start = 0; start < n; start += kChunk) {
            const int64_t len = std::min(kChunk, n - start);
            at::parallel_for(0, (len + kBlock - 1) / kBlock, 1, [&](int64_t b0, int64_t b1) {
                for (int64_t b = b0; b < b1; ++b) {
                    const int64_t off = b * kBlock, m = std::min(kBlock, len - off);
                    uint64_t s = tseed + uint64_t((start + off) / kBlock) * 0x9E3779B97F4A7C15ull;
                    normals(splitmix64(s), f.data() + off, m);
                    for (int64_t k = off; k < off + m; ++k)
                        f[k] = (norm ? 1.0f : 0.0f) + 0.02f * f[k];
                    if (!planted.empty())
                        for (int64_t k = off; k < off + m; ++k)
                            if (planted[size_t(start + k)])
                                f[k] *= opts.outlier_factor;
                    if (dt == StDType::BF16)
                        for (int64_t k = off; k < off + m; ++k)
                            h[k] = toBf16(f[k]);
                }
            });
            if (dt == StDType::BF16)
                write(h.data(), size_t(len) * 2);
            else
                write(f.data(), size_t(len) * 4);
        }
    }, {{"format", "pt"}, {"generator", "quantbench make-model " + opts.like + " seed " + std::to_string(opts.seed)}});
    r.files.push_back(weights);

    const fs::path cfg = opts.out / "config.json";
    {
        const fs::path tmp = cfg.string() + ".tmp";
        std::ofstream o(tmp, std::ios::binary);
        o << c.toJson().dump(2) << '\n';
        o.close();
        if (!o)
            fail(tmp.string(), "write failed");
        fs::rename(tmp, cfg, ec);
        if (ec)
            fail(cfg.string(), "cannot rename: " + ec.message());
    }
    r.files.push_back(cfg);

    if (!opts.tokenizer.empty()) {
        fs::path tok = opts.tokenizer;
        fs::path folder = fs::is_directory(tok, ec) ? tok : tok.parent_path();
        if (fs::is_directory(tok, ec))
            tok /= "tokenizer.json";
        if (!fs::is_regular_file(tok, ec))
            fail(tok.string(), "tokenizer.json not found");
        copyFile(tok, opts.out / "tokenizer.json", r.files);
        if (fs::is_regular_file(folder / "tokenizer_config.json", ec))
            copyFile(folder / "tokenizer_config.json", opts.out / "tokenizer_config.json", r.files);
    }

    r.dir = opts.out;
    r.config = c;
    r.parameters = c.parameterCount();
    for (const auto& p : r.files)
        r.bytes += fs::file_size(p, ec);
    return r;
}

} // namespace qb
