#include "core/model/config.h"

#include "core/model/safetensors.h"
#include "core/util/error.h"
#include "core/util/read_file.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>

namespace qb {

namespace {

using json = nlohmann::json;

struct ArchRow {
    const char* architecture;
    const char* model_type;
};
constexpr ArchRow kArchs[] = {
    {"LlamaForCausalLM", "llama"},
    {"MistralForCausalLM", "mistral"},
    {"Qwen2ForCausalLM", "qwen2"},
    {"Qwen3ForCausalLM", "qwen3"},
};

// Typed access to config keys; every error names the file and the key.
class Reader {
public:
    Reader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

    const json* get(const std::string& key) const
    {
        auto it = j_.find(key);
        return (it == j_.end() || it->is_null()) ? nullptr : &*it;
    }
    [[noreturn]] void bad(const std::string& key, const std::string& what) const
    {
        fail(where_, "key '" + key + "': " + what);
    }
    [[noreturn]] void badType(const std::string& key, const char* expected, const json& v) const
    {
        bad(key, std::string("expected ") + expected + ", got " + v.type_name() + " " + v.dump());
    }

    int64_t integer(const std::string& key, std::optional<int64_t> def = std::nullopt) const
    {
        const json* v = get(key);
        if (!v) {
            if (!def)
                bad(key, "missing (required)");
            return *def;
        }
        return asInt(key, *v);
    }
    int64_t positive(const std::string& key, std::optional<int64_t> def = std::nullopt) const
    {
        int64_t x = integer(key, def);
        if (x <= 0)
            bad(key, "must be positive, got " + std::to_string(x));
        return x;
    }
    // A positive integer no larger than `max`: every dimension is bounded before anything is sized
    // from it (a config claiming 2^40 layers must fail here, not in an allocation).
    int64_t dimension(const std::string& key, int64_t max, std::optional<int64_t> def = std::nullopt) const
    {
        int64_t x = positive(key, def);
        if (x > max)
            bad(key, std::to_string(x) + " is beyond the supported limit " + std::to_string(max));
        return x;
    }
    int64_t asInt(const std::string& key, const json& v) const
    {
        if (!v.is_number_integer())
            badType(key, "an integer", v);
        if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
            bad(key, "integer too large");
        return v.get<int64_t>();
    }
    double number(const std::string& key, double def) const
    {
        const json* v = get(key);
        if (!v)
            return def;
        if (!v->is_number())
            badType(key, "a number", *v);
        double x = v->get<double>();
        if (!std::isfinite(x))
            bad(key, "not finite");
        return x;
    }
    bool boolean(const std::string& key, bool def) const
    {
        const json* v = get(key);
        if (!v)
            return def;
        if (!v->is_boolean())
            badType(key, "true or false", *v);
        return v->get<bool>();
    }
    std::string string(const std::string& key, const std::string& def) const
    {
        const json* v = get(key);
        if (!v)
            return def;
        if (!v->is_string())
            badType(key, "a string", *v);
        return v->get<std::string>();
    }

private:
    const json& j_;
    std::string where_;
};

RopeScaling parseRopeScaling(const json& rs, const std::string& where)
{
    RopeScaling r;
    if (!rs.is_object())
        fail(where, std::string("key 'rope_scaling': expected an object or null, got ") + rs.type_name());
    Reader sub(rs, where);
    std::string type;
    if (sub.get("rope_type"))
        type = sub.string("rope_type", "");
    else if (sub.get("type"))
        type = sub.string("type", "");
    else
        fail(where, "key 'rope_scaling.rope_type': missing");
    auto num = [&](const char* k, std::optional<double> def) {
        if (!sub.get(k)) {
            if (!def)
                fail(where, std::string("key 'rope_scaling.") + k + "': missing (required for " + type + ")");
            return *def;
        }
        const json& v = rs.at(k);
        if (!v.is_number() || !std::isfinite(v.get<double>()))
            fail(where, std::string("key 'rope_scaling.") + k + "': expected a number, got " + v.dump());
        return v.get<double>();
    };
    if (type == "default") {
        r.type = "none";
    } else if (type == "linear") {
        r.type = "linear";
        r.factor = num("factor", std::nullopt);
    } else if (type == "llama3") {
        r.type = "llama3";
        r.factor = num("factor", std::nullopt);
        r.low_freq_factor = num("low_freq_factor", std::nullopt);
        r.high_freq_factor = num("high_freq_factor", std::nullopt);
        double o = num("original_max_position_embeddings", std::nullopt);
        if (o <= 0 || o != std::floor(o))
            fail(where, "key 'rope_scaling.original_max_position_embeddings': expected a positive integer");
        if (o > double(kMaxPositions))
            fail(where, "key 'rope_scaling.original_max_position_embeddings': beyond the supported limit " +
                            std::to_string(kMaxPositions));
        r.original_max_position_embeddings = static_cast<int64_t>(o);
        if (r.high_freq_factor <= r.low_freq_factor)
            fail(where, "key 'rope_scaling.high_freq_factor': must exceed low_freq_factor");
    } else {
        fail(where, "key 'rope_scaling.rope_type': '" + type +
                        "' is not supported (supported: default, linear, llama3)");
    }
    if (r.type != "none" && !(r.factor > 0))
        fail(where, "key 'rope_scaling.factor': must be positive");
    return r;
}

} // namespace

ModelConfig ModelConfig::fromJson(const json& j, const std::string& where)
{
    if (!j.is_object())
        fail(where, std::string("config is not a JSON object (got ") + j.type_name() + ")");
    Reader r(j, where);
    ModelConfig c;

    // Architecture: the first entry of `architectures`, or model_type when that key is absent.
    if (const json* a = r.get("architectures")) {
        if (!a->is_array() || a->empty() || !(*a)[0].is_string())
            r.badType("architectures", "a non-empty array of strings", *a);
        c.architecture = (*a)[0].get<std::string>();
    } else {
        std::string mt = r.string("model_type", "");
        for (const auto& row : kArchs)
            if (mt == row.model_type)
                c.architecture = row.architecture;
        if (c.architecture.empty())
            r.bad("architectures", "missing, and model_type '" + mt + "' does not name a supported model");
    }
    for (const auto& row : kArchs)
        if (c.architecture == row.architecture)
            c.model_type = row.model_type;
    if (c.model_type.empty())
        r.bad("architectures", "unsupported architecture '" + c.architecture +
                                   "' (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, "
                                   "Qwen3ForCausalLM)");
    const bool llama = c.model_type == "llama", mistral = c.model_type == "mistral";
    const bool qwen2 = c.model_type == "qwen2", qwen3 = c.model_type == "qwen3";

    if (r.get("quantization_config"))
        r.bad("quantization_config", "pre-quantized checkpoints are not supported; use the original weights");

    c.vocab_size = r.dimension("vocab_size", kMaxVocabSize);
    c.hidden_size = r.dimension("hidden_size", kMaxHiddenSize);
    c.intermediate_size = r.dimension("intermediate_size", kMaxIntermediateSize);
    c.num_hidden_layers = r.dimension("num_hidden_layers", kMaxLayers);
    c.num_attention_heads = r.dimension("num_attention_heads", kMaxHeads);
    c.num_key_value_heads = r.dimension("num_key_value_heads", kMaxHeads, c.num_attention_heads);
    if (c.num_attention_heads % c.num_key_value_heads != 0)
        r.bad("num_key_value_heads", std::to_string(c.num_key_value_heads) + " does not divide num_attention_heads " +
                                         std::to_string(c.num_attention_heads));
    if (r.get("head_dim")) {
        c.head_dim = r.dimension("head_dim", kMaxHeadDim);
    } else {
        if (c.hidden_size % c.num_attention_heads != 0)
            r.bad("hidden_size", std::to_string(c.hidden_size) + " is not divisible by num_attention_heads " +
                                     std::to_string(c.num_attention_heads) + " and head_dim is not given");
        c.head_dim = c.hidden_size / c.num_attention_heads;
        if (c.head_dim > kMaxHeadDim)
            r.bad("hidden_size", "implies head_dim " + std::to_string(c.head_dim) + ", beyond the supported limit " +
                                     std::to_string(kMaxHeadDim));
    }
    if (c.head_dim % 2 != 0)
        r.bad("head_dim", "must be even for rotary embeddings, got " + std::to_string(c.head_dim));
    c.max_position_embeddings = r.dimension("max_position_embeddings", kMaxPositions, c.max_position_embeddings);
    c.rms_norm_eps = r.number("rms_norm_eps", c.rms_norm_eps);
    if (!(c.rms_norm_eps > 0))
        r.bad("rms_norm_eps", "must be positive");

    // Rope: classic keys, or transformers v5's `rope_parameters` {rope_theta, rope_type, ...}.
    c.rope_theta = r.number("rope_theta", c.rope_theta);
    if (const json* rs = r.get("rope_scaling"))
        c.rope_scaling = parseRopeScaling(*rs, where);
    if (const json* rp = r.get("rope_parameters")) {
        if (!rp->is_object())
            r.badType("rope_parameters", "an object", *rp);
        Reader sub(*rp, where);
        if (sub.get("rope_theta"))
            c.rope_theta = sub.number("rope_theta", c.rope_theta);
        if (sub.get("rope_type") || sub.get("type"))
            c.rope_scaling = parseRopeScaling(*rp, where);
    }
    if (!(c.rope_theta > 0))
        r.bad("rope_theta", "must be positive");

    std::string act = r.string("hidden_act", "silu");
    if (act != "silu")
        r.bad("hidden_act", "'" + act + "' is not supported (only silu)");

    if (qwen2)
        c.attention_bias = true; // Qwen2 always has q/k/v biases (and none on o_proj)
    else if (!mistral)
        c.attention_bias = r.boolean("attention_bias", false);
    if (r.boolean("mlp_bias", false))
        r.bad("mlp_bias", "MLP biases are not supported");
    c.qk_norm = qwen3;
    c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);

    if (const json* b = r.get("bos_token_id"))
        c.bos_token_id = r.asInt("bos_token_id", *b);
    if (const json* e = r.get("eos_token_id")) {
        if (e->is_array()) {
            if (e->size() > 1024)
                r.bad("eos_token_id", std::to_string(e->size()) + " entries, more than the supported 1024");
            for (const auto& x : *e)
                c.eos_token_ids.push_back(r.asInt("eos_token_id", x));
        } else {
            c.eos_token_ids.push_back(r.asInt("eos_token_id", *e));
        }
    }
    c.torch_dtype = r.get("torch_dtype") ? r.string("torch_dtype", c.torch_dtype) : r.string("dtype", c.torch_dtype);

    // Sliding-window attention. Qwen2/3 only use it when use_sliding_window is true: refused.
    // Mistral's window is recorded; the engine refuses sequences longer than it.
    if (qwen2 || qwen3) {
        if (r.boolean("use_sliding_window", false) && r.get("sliding_window"))
            r.bad("use_sliding_window", "sliding-window attention is not supported");
    } else if (mistral) {
        if (r.get("sliding_window"))
            c.sliding_window = r.dimension("sliding_window", kMaxPositions);
    }
    (void)llama;
    return c;
}

json ModelConfig::toJson() const
{
    json j;
    j["architectures"] = {architecture};
    j["model_type"] = model_type;
    j["vocab_size"] = vocab_size;
    j["hidden_size"] = hidden_size;
    j["intermediate_size"] = intermediate_size;
    j["num_hidden_layers"] = num_hidden_layers;
    j["num_attention_heads"] = num_attention_heads;
    j["num_key_value_heads"] = num_key_value_heads;
    j["head_dim"] = head_dim;
    j["max_position_embeddings"] = max_position_embeddings;
    j["rms_norm_eps"] = rms_norm_eps;
    j["rope_theta"] = rope_theta;
    if (rope_scaling.type == "none") {
        j["rope_scaling"] = nullptr;
    } else if (rope_scaling.type == "linear") {
        j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", rope_scaling.factor}};
    } else {
        j["rope_scaling"] = {{"rope_type", "llama3"},
                             {"factor", rope_scaling.factor},
                             {"low_freq_factor", rope_scaling.low_freq_factor},
                             {"high_freq_factor", rope_scaling.high_freq_factor},
                             {"original_max_position_embeddings", rope_scaling.original_max_position_embeddings}};
    }
    j["hidden_act"] = "silu";
    if (model_type == "llama" || model_type == "qwen3")
        j["attention_bias"] = attention_bias;
    if (model_type == "llama")
        j["mlp_bias"] = false;
    if (model_type == "qwen2" || model_type == "qwen3")
        j["use_sliding_window"] = false;
    if (model_type == "mistral")
        j["sliding_window"] = sliding_window > 0 ? json(sliding_window) : json(nullptr);
    j["tie_word_embeddings"] = tie_word_embeddings;
    j["bos_token_id"] = bos_token_id >= 0 ? json(bos_token_id) : json(nullptr);
    if (eos_token_ids.empty())
        j["eos_token_id"] = nullptr;
    else if (eos_token_ids.size() == 1)
        j["eos_token_id"] = eos_token_ids[0];
    else
        j["eos_token_id"] = eos_token_ids;
    j["torch_dtype"] = torch_dtype;
    j["initializer_range"] = 0.02;
    j["use_cache"] = true;
    return j;
}

int64_t ModelConfig::parameterCount() const
{
    int64_t n = 0;
    for (const auto& [name, shape] : expectedTensors(*this)) {
        int64_t k = 1;
        for (int64_t d : shape)
            k *= d;
        n += k;
    }
    return n;
}

ModelConfig loadConfig(const std::filesystem::path& configJson)
{
    const std::string where = configJson.string();
    const std::string text = readFileBounded(configJson, kConfigJsonCap, "config.json");
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        fail(where, std::string("not valid JSON: ") + e.what());
    }
    return ModelConfig::fromJson(j, where);
}

std::vector<std::pair<std::string, std::vector<int64_t>>> expectedTensors(const ModelConfig& c)
{
    const int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
    const int64_t q = c.num_attention_heads * D, kv = c.num_key_value_heads * D;
    std::vector<std::pair<std::string, std::vector<int64_t>>> t;
    t.push_back({"model.embed_tokens.weight", {c.vocab_size, H}});
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        t.push_back({p + "input_layernorm.weight", {H}});
        t.push_back({p + "self_attn.q_proj.weight", {q, H}});
        t.push_back({p + "self_attn.k_proj.weight", {kv, H}});
        t.push_back({p + "self_attn.v_proj.weight", {kv, H}});
        if (c.attention_bias) {
            t.push_back({p + "self_attn.q_proj.bias", {q}});
            t.push_back({p + "self_attn.k_proj.bias", {kv}});
            t.push_back({p + "self_attn.v_proj.bias", {kv}});
        }
        if (c.qk_norm) {
            t.push_back({p + "self_attn.q_norm.weight", {D}});
            t.push_back({p + "self_attn.k_norm.weight", {D}});
        }
        t.push_back({p + "self_attn.o_proj.weight", {H, q}});
        t.push_back({p + "post_attention_layernorm.weight", {H}});
        t.push_back({p + "mlp.gate_proj.weight", {I, H}});
        t.push_back({p + "mlp.up_proj.weight", {I, H}});
        t.push_back({p + "mlp.down_proj.weight", {H, I}});
    }
    t.push_back({"model.norm.weight", {H}});
    if (!c.tie_word_embeddings)
        t.push_back({"lm_head.weight", {c.vocab_size, H}});
    return t;
}

void checkConfigAgainstCheckpoint(const ModelConfig& c, const Checkpoint& ckpt, const std::string& configWhere)
{
    // Layers the checkpoint holds: 1 + the largest N of "model.layers.N.".
    int64_t layers = 0;
    const std::string prefix = "model.layers.";
    for (const auto& n : ckpt.names()) {
        if (n.compare(0, prefix.size(), prefix) != 0)
            continue;
        const size_t dot = n.find('.', prefix.size());
        const std::string num = n.substr(prefix.size(), dot == std::string::npos ? std::string::npos : dot - prefix.size());
        if (num.empty() || num.size() > 9 || num.find_first_not_of("0123456789") != std::string::npos)
            continue;
        layers = std::max<int64_t>(layers, std::stoll(num) + 1);
    }
    auto bad = [&](const char* key, int64_t cfg, const std::string& held) {
        fail(configWhere, std::string("key '") + key + "': " + std::to_string(cfg) + " but the checkpoint holds " + held);
    };
    if (c.num_hidden_layers != layers)
        bad("num_hidden_layers", c.num_hidden_layers, std::to_string(layers) + " layers");
    const std::string embed = embeddingTensorName(c, ckpt);
    auto dims = [&](const std::string& name) -> const std::vector<int64_t>* {
        if (!ckpt.has(name))
            return nullptr;
        const auto& s = ckpt.info(name).shape;
        return s.size() == 2 ? &s : nullptr;
    };
    if (const auto* e = dims(embed)) {
        if ((*e)[0] != c.vocab_size)
            bad("vocab_size", c.vocab_size, embed + " with " + std::to_string((*e)[0]) + " rows");
        if ((*e)[1] != c.hidden_size)
            bad("hidden_size", c.hidden_size, embed + " of width " + std::to_string((*e)[1]));
    }
    if (const auto* g = dims("model.layers.0.mlp.gate_proj.weight"); g && (*g)[0] != c.intermediate_size)
        bad("intermediate_size", c.intermediate_size, "model.layers.0.mlp.gate_proj.weight with " + std::to_string((*g)[0]) + " rows");
    if (const auto* q = dims("model.layers.0.self_attn.q_proj.weight"); q && (*q)[0] != c.num_attention_heads * c.head_dim)
        bad("num_attention_heads", c.num_attention_heads,
            "model.layers.0.self_attn.q_proj.weight with " + std::to_string((*q)[0]) + " rows (" + std::to_string(c.num_attention_heads) + " heads x head_dim " +
                std::to_string(c.head_dim) + " would be " + std::to_string(c.num_attention_heads * c.head_dim) + ")");
    if (const auto* k = dims("model.layers.0.self_attn.k_proj.weight"); k && (*k)[0] != c.num_key_value_heads * c.head_dim)
        bad("num_key_value_heads", c.num_key_value_heads,
            "model.layers.0.self_attn.k_proj.weight with " + std::to_string((*k)[0]) + " rows (head_dim " + std::to_string(c.head_dim) + ")");
}

std::string embeddingTensorName(const ModelConfig& c, const Checkpoint& ckpt)
{
    const std::string embed = "model.embed_tokens.weight", head = "lm_head.weight";
    if (c.tie_word_embeddings && !ckpt.has(embed) && ckpt.has(head))
        return head;
    return embed;
}

void validateCheckpoint(const ModelConfig& c, const Checkpoint& ckpt, const std::string& where)
{
    checkConfigAgainstCheckpoint(c, ckpt, (std::filesystem::path(where) / "config.json").string());
    auto str = [](const std::vector<int64_t>& s) {
        std::string r = "[";
        for (size_t i = 0; i < s.size(); ++i)
            r += (i ? ", " : "") + std::to_string(s[i]);
        return r + "]";
    };
    const std::string embed = embeddingTensorName(c, ckpt);
    for (const auto& [expected, shape] : expectedTensors(c)) {
        const std::string& name = expected == "model.embed_tokens.weight" ? embed : expected;
        if (!ckpt.has(name))
            fail(where, "tensor '" + name + "': missing (config implies shape " + str(shape) + ")" +
                            (expected == "model.embed_tokens.weight" && c.tie_word_embeddings
                                 ? "; with tie_word_embeddings, 'lm_head.weight' would also do"
                                 : ""));
        const StTensorInfo& t = ckpt.info(name);
        const std::string file = ckpt.fileOf(name).string();
        if (t.shape != shape)
            fail(file, "tensor '" + name + "': shape " + str(t.shape) + " but config implies " + str(shape));
        if (!stDTypeIsFloat(t.dtype))
            fail(file, "tensor '" + name + "': dtype " + stDTypeName(t.dtype) +
                           " is not a float type (F32, F16, BF16 or F64)");
    }
}

} // namespace qb
