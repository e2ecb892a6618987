#include "core/eval/tasks.h"

#include "core/quant/scheme.h"
#include "core/results/record.h"
#include "core/util/error.h"
#include "core/util/json_number.h"

#include <set>

namespace qb {

using nlohmann::json;

const char* const kPplProtocol =
    "token-level PPL = exp(mean NLL) over disjoint windows of ctx tokens (first token of a window is context "
    "only); stderr by the delta method; KL(baseline || quantized), delta p of the correct token "
    "and top-1 agreement on the first kl_windows windows (0 = all) from the baseline's top-k log-probs plus one "
    "tail bucket (a lower bound of the full KL, exact when k >= vocab); per-token NLL kept in a float32 sidecar "
    "for paired comparisons on the same tokens (token_hash)";
const char* const kMmluDirectProtocol =
    "Hendrycks prompt, k-shot from the first k dev rows of the subject (shots dropped when the prompt does not "
    "fit the context), answer = argmax of next-token logits of the last token of encode(' A'..' D', no special "
    "tokens); micro accuracy, stderr sqrt(p(1-p)/n)";
const char* const kMmluGenerateProtocol =
    "Hendrycks prompt as mmlu_direct, greedy generation of gen_tokens tokens, answer = first standalone letter "
    "A-D (not part of a word), none = unparseable (counted wrong)";
const char* const kThroughputProtocol =
    "prefill: forward of a batch of prefill_batch random-token prompts of prefill_len tokens (last-position "
    "logits), samples/s; decode: decode_batch rows, prompt of decode_prompt tokens, then decode_tokens greedy "
    "steps with a KV cache, tokens/s; warm-up runs then median of repeats (min/max kept); peak memory: CPU VmHWM";
const char* const kMatmulProtocol =
    "each decoder linear's quantized op vs float32 x W^T on activations captured from the baseline "
    "(windows x len tokens of the PPL text, max_rows rows per layer); pooled relative Frobenius error, SQNR dB, "
    "mean cosine, max abs error";

const char* const kSensitivityProtocol =
    "one unit (a decoder linear, or a decoder layer in layer mode) quantized with the scheme, every other linear "
    "in the baseline dtype; KL(baseline || unit-quantized), p99 KL, top-1 agreement and delta NLL on `windows` "
    "windows of `len` tokens of the calibration text (PPL text when none) from the baseline's top-k log-probs plus "
    "a tail bucket; matmul SQNR per linear on captured activations (max_rows rows); units ranked by KL; "
    "mixed-precision curve measured with the whole scheme applied and the k most sensitive units kept in the "
    "baseline dtype at k = 0, 1, 2, 4, ..., N, refined by bisection around the budget; recommendation = the "
    "smallest measured k with KL <= budget_kl and delta PPL <= budget_dppl (a negative budget is not used)";
const char* const kOutliersProtocol =
    "per input channel max |x| of the activations feeding each linear group (attn: q/k/v, o, mlp: gate/up, down) "
    "over the calibration windows, the weight's per-column max |W| over the group's linears, and for SmoothQuant "
    "the smoothed values for its alpha (x / s, W * s); heat value = max / median of the per-channel max; arrays "
    "rounded to 4 significant digits";

bool TaskSettings::applies(const QuantScheme& scheme, const std::string& t) const
{
    if (t == task::Sensitivity) {
        if (scheme.isBaseline())
            return false;
        if (sensitivity.schemes.empty())
            return true;
        const std::string n = scheme.name();
        for (const auto& s : sensitivity.schemes)
            if (s == n)
                return true;
        return false;
    }
    if (t == task::Outliers)
        return scheme.isBaseline() || scheme.smoothing == Smoothing::SmoothQuant;
    return true;
}

void EvalHooks::check() const
{
    if (cancelled())
        throw Cancelled();
}

std::vector<std::string> TaskSettings::enabledTasks() const
{
    std::vector<std::string> t;
    if (ppl.enabled)
        t.push_back(task::Ppl);
    if (mmlu.direct)
        t.push_back(task::MmluDirect);
    if (mmlu.generate)
        t.push_back(task::MmluGenerate);
    if (throughput.enabled)
        t.push_back(task::Throughput);
    if (matmul.enabled)
        t.push_back(task::Matmul);
    if (outliers.enabled)
        t.push_back(task::Outliers);
    if (sensitivity.enabled)
        t.push_back(task::Sensitivity);
    return t;
}

json TaskSettings::toJson() const
{
    return {{"ppl", {{"enabled", ppl.enabled}, {"ctx", ppl.ctx}, {"max_windows", ppl.max_windows},
                     {"kl_windows", ppl.kl_windows}, {"kl_topk", ppl.kl_topk}}},
            {"mmlu", {{"direct", mmlu.direct}, {"generate", mmlu.generate}, {"shots", mmlu.shots},
                      {"max_questions", mmlu.max_questions}, {"batch", mmlu.batch}, {"gen_tokens", mmlu.gen_tokens},
                      {"subjects", mmlu.subjects}}},
            {"throughput", {{"enabled", throughput.enabled}, {"prefill_batch", throughput.prefill_batch},
                            {"prefill_len", throughput.prefill_len}, {"decode_batch", throughput.decode_batch},
                            {"decode_prompt", throughput.decode_prompt}, {"decode_tokens", throughput.decode_tokens},
                            {"warmup", throughput.warmup}, {"repeats", throughput.repeats}}},
            {"matmul_accuracy", {{"enabled", matmul.enabled}, {"windows", matmul.windows}, {"len", matmul.len},
                                 {"max_rows", matmul.max_rows}}},
            {"sensitivity", {{"enabled", sensitivity.enabled}, {"mode", sensitivity.mode},
                             {"windows", sensitivity.windows}, {"len", sensitivity.len}, {"topk", sensitivity.topk},
                             {"max_rows", sensitivity.max_rows}, {"budget_kl", sensitivity.budget_kl},
                             {"budget_dppl", sensitivity.budget_dppl}, {"schemes", sensitivity.schemes}}},
            {"outliers", {{"enabled", outliers.enabled}}}};
}

namespace {

template <class T> void get(const json& o, const char* key, T& v, const std::string& where)
{
    if (!o.contains(key))
        return;
    try {
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
            if (!jsonNumber(o.at(key), v))
                fail(where, std::string("\"") + key + "\" is not a number in range: " + o.at(key).dump());
        } else {
            v = o.at(key).get<T>();
        }
    } catch (const nlohmann::json::exception&) {
        fail(where, std::string("\"") + key + "\" has the wrong type: " + o.at(key).dump());
    }
}

void checkKeys(const json& o, std::initializer_list<const char*> keys, const std::string& where)
{
    if (!o.is_object())
        fail(where, "expected an object");
    std::set<std::string> k(keys.begin(), keys.end());
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!k.count(it.key()))
            fail(where, "unknown key \"" + it.key() + "\"");
}

void positive(int64_t v, const char* name, const std::string& where)
{
    if (v <= 0)
        fail(where, std::string("\"") + name + "\" must be > 0");
}

} // namespace

TaskSettings TaskSettings::fromJson(const json& j, const std::string& where)
{
    TaskSettings t;
    if (j.is_null())
        return t;
    checkKeys(j, {"ppl", "mmlu", "throughput", "matmul_accuracy", "sensitivity", "outliers"}, where + ": tasks");
    // A task absent from the object is disabled: the file lists what it wants run.
    t.ppl.enabled = t.throughput.enabled = t.matmul.enabled = false;
    t.mmlu.direct = t.mmlu.generate = false;
    if (j.contains("ppl")) {
        const auto& o = j["ppl"];
        std::string w = where + ": tasks.ppl";
        checkKeys(o, {"enabled", "ctx", "max_windows", "kl_windows", "kl_topk"}, w);
        t.ppl.enabled = true;
        get(o, "enabled", t.ppl.enabled, w);
        get(o, "ctx", t.ppl.ctx, w);
        get(o, "max_windows", t.ppl.max_windows, w);
        get(o, "kl_windows", t.ppl.kl_windows, w);
        get(o, "kl_topk", t.ppl.kl_topk, w);
        positive(t.ppl.ctx - 1, "ctx (>= 2)", w);
        positive(t.ppl.kl_topk, "kl_topk", w);
    }
    if (j.contains("mmlu")) {
        const auto& o = j["mmlu"];
        std::string w = where + ": tasks.mmlu";
        checkKeys(o, {"direct", "generate", "shots", "max_questions", "batch", "gen_tokens", "subjects"}, w);
        t.mmlu.direct = true;
        t.mmlu.generate = true;
        get(o, "direct", t.mmlu.direct, w);
        get(o, "generate", t.mmlu.generate, w);
        get(o, "shots", t.mmlu.shots, w);
        get(o, "max_questions", t.mmlu.max_questions, w);
        get(o, "batch", t.mmlu.batch, w);
        get(o, "gen_tokens", t.mmlu.gen_tokens, w);
        get(o, "subjects", t.mmlu.subjects, w);
        if (t.mmlu.shots < 0)
            fail(w, "\"shots\" must be >= 0");
        positive(t.mmlu.batch, "batch", w);
        positive(t.mmlu.gen_tokens, "gen_tokens", w);
    }
    if (j.contains("throughput")) {
        const auto& o = j["throughput"];
        std::string w = where + ": tasks.throughput";
        checkKeys(o, {"enabled", "prefill_batch", "prefill_len", "decode_batch", "decode_prompt", "decode_tokens",
                      "warmup", "repeats"},
                  w);
        auto& s = t.throughput;
        s.enabled = true;
        get(o, "enabled", s.enabled, w);
        get(o, "prefill_batch", s.prefill_batch, w);
        get(o, "prefill_len", s.prefill_len, w);
        get(o, "decode_batch", s.decode_batch, w);
        get(o, "decode_prompt", s.decode_prompt, w);
        get(o, "decode_tokens", s.decode_tokens, w);
        get(o, "warmup", s.warmup, w);
        get(o, "repeats", s.repeats, w);
        for (auto [v, n] : std::initializer_list<std::pair<int64_t, const char*>>{{s.prefill_batch, "prefill_batch"},
                            {s.prefill_len, "prefill_len"}, {s.decode_batch, "decode_batch"},
                            {s.decode_prompt, "decode_prompt"}, {s.decode_tokens, "decode_tokens"},
                            {s.repeats, "repeats"}})
            positive(v, n, w);
    }
    if (j.contains("matmul_accuracy")) {
        const auto& o = j["matmul_accuracy"];
        std::string w = where + ": tasks.matmul_accuracy";
        checkKeys(o, {"enabled", "windows", "len", "max_rows"}, w);
        t.matmul.enabled = true;
        get(o, "enabled", t.matmul.enabled, w);
        get(o, "windows", t.matmul.windows, w);
        get(o, "len", t.matmul.len, w);
        get(o, "max_rows", t.matmul.max_rows, w);
        positive(t.matmul.windows, "windows", w);
        positive(t.matmul.len, "len", w);
        positive(t.matmul.max_rows, "max_rows", w);
    }
    if (j.contains("sensitivity")) {
        const auto& o = j["sensitivity"];
        std::string w = where + ": tasks.sensitivity";
        checkKeys(o, {"enabled", "mode", "windows", "len", "topk", "max_rows", "budget_kl", "budget_dppl", "schemes"}, w);
        auto& s = t.sensitivity;
        s.enabled = true;
        get(o, "enabled", s.enabled, w);
        get(o, "mode", s.mode, w);
        get(o, "windows", s.windows, w);
        get(o, "len", s.len, w);
        get(o, "topk", s.topk, w);
        get(o, "max_rows", s.max_rows, w);
        get(o, "budget_kl", s.budget_kl, w);
        get(o, "budget_dppl", s.budget_dppl, w);
        get(o, "schemes", s.schemes, w);
        for (auto& n : s.schemes) {
            try {
                n = QuantScheme::parse(n).name(); // canonical, so the filter matches the config names
            } catch (const std::exception& e) {
                fail(w, std::string("schemes: ") + e.what());
            }
        }
        if (s.mode != "linear" && s.mode != "layer")
            fail(w, "\"mode\" must be \"linear\" or \"layer\", not \"" + s.mode + "\"");
        positive(s.windows, "windows", w);
        positive(s.len - 1, "len (>= 2)", w);
        positive(s.topk, "topk", w);
        positive(s.max_rows, "max_rows", w);
    }
    if (j.contains("outliers")) {
        const auto& o = j["outliers"];
        std::string w = where + ": tasks.outliers";
        checkKeys(o, {"enabled"}, w);
        t.outliers.enabled = true;
        get(o, "enabled", t.outliers.enabled, w);
    }
    return t;
}

json TaskSettings::recordSettings(const std::string& t) const
{
    json all = toJson();
    if (t == task::Ppl)
        return {{"task", all["ppl"]}, {"protocol", kPplProtocol}};
    if (t == task::MmluDirect)
        return {{"task", all["mmlu"]}, {"protocol", kMmluDirectProtocol}};
    if (t == task::MmluGenerate)
        return {{"task", all["mmlu"]}, {"protocol", kMmluGenerateProtocol}};
    if (t == task::Throughput)
        return {{"task", all["throughput"]}, {"protocol", kThroughputProtocol}};
    if (t == task::Matmul)
        return {{"task", all["matmul_accuracy"]}, {"protocol", kMatmulProtocol}};
    if (t == task::Sensitivity)
        return {{"task", all["sensitivity"]}, {"protocol", kSensitivityProtocol}};
    if (t == task::Outliers)
        return {{"task", all["outliers"]}, {"protocol", kOutliersProtocol}};
    return json::object();
}

} // namespace qb
