#include "core/quant/scheme.h"

#include "core/util/error.h"
#include "core/util/json_number.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

namespace qb {

const char* toString(QDType t)
{
    switch (t) {
    case QDType::None: return "none";
    case QDType::INT8: return "int8";
    case QDType::FP8_E4M3: return "fp8_e4m3";
    }
    return "?";
}

const char* toString(Granularity g)
{
    switch (g) {
    case Granularity::PerTensor: return "per_tensor";
    case Granularity::PerRow: return "per_row";
    case Granularity::PerGroup: return "per_group";
    }
    return "?";
}

const char* toString(ActQuant a)
{
    switch (a) {
    case ActQuant::None: return "none";
    case ActQuant::PerToken: return "dynamic_per_token";
    case ActQuant::PerTensor: return "dynamic_per_tensor";
    }
    return "?";
}

const char* toString(QuantMode m) { return m == QuantMode::Fake ? "fake" : "real"; }

static std::string fmtNumber(double v)
{
    std::ostringstream os;
    os << v; // shortest natural form: 0.5, 0.75, 127.5
    return os.str();
}

std::string QuantScheme::name() const
{
    if (isBaseline())
        return baseline_dtype;
    std::string dt = dtype == QDType::INT8 ? "INT8" : "FP8";
    std::string n;
    if (smoothing == Smoothing::SmoothQuant) {
        n = "SmoothQuant_" + dt + "_W8A8";
        if (activation == ActQuant::PerTensor)
            n += "_TensorAct";
        if (std::abs(alpha - 0.5) > 1e-12)
            n += "_Alpha" + fmtNumber(alpha);
    } else {
        n = dt;
        switch (granularity) {
        case Granularity::PerTensor: n += "_Per_Tensor"; break;
        case Granularity::PerRow: n += "_Per_Row"; break;
        case Granularity::PerGroup: n += "_Per_Group_" + std::to_string(group_size); break;
        }
        if (activation == ActQuant::PerToken)
            n += "_W8A8";
        else if (activation == ActQuant::PerTensor)
            n += "_W8A8_TensorAct";
    }
    if (dtype == QDType::INT8 && std::abs(int8_divisor - 127.0) > 1e-12)
        n += "_Div" + fmtNumber(int8_divisor);
    if (lm_head)
        n += "_LmHead";
    if (mode == QuantMode::Fake)
        n += "_Fake";
    if (!keep.empty()) {
        n += "+keep:";
        for (size_t i = 0; i < keep.size(); ++i)
            n += (i ? "," : "") + shortLinearName(keep[i]);
    }
    return n;
}

namespace {
constexpr const char* kSlots[][2] = {{"q", "self_attn.q_proj"}, {"k", "self_attn.k_proj"}, {"v", "self_attn.v_proj"},
                                     {"o", "self_attn.o_proj"}, {"gate", "mlp.gate_proj"}, {"up", "mlp.up_proj"},
                                     {"down", "mlp.down_proj"}};
constexpr const char* kLayerPrefix = "model.layers.";

} // namespace

const char* slotShortName(int slot) { return slot >= 0 && slot < kDecoderSlots ? kSlots[slot][0] : "?"; }

std::string decoderLinearName(int64_t layer, int slot)
{
    return kLayerPrefix + std::to_string(layer) + "." + kSlots[slot][1];
}

bool splitDecoderLinear(const std::string& n, int64_t* layer, int* slot)
{
    const size_t pl = std::strlen(kLayerPrefix);
    if (n.compare(0, pl, kLayerPrefix) != 0)
        return false;
    size_t dot = n.find('.', pl);
    if (dot == std::string::npos || dot == pl || dot - pl > 6)
        return false;
    for (size_t i = pl; i < dot; ++i)
        if (n[i] < '0' || n[i] > '9')
            return false;
    const std::string rest = n.substr(dot + 1);
    for (int s = 0; s < kDecoderSlots; ++s)
        if (rest == kSlots[s][1]) {
            *layer = std::stoll(n.substr(pl, dot - pl));
            *slot = s;
            return true;
        }
    return false;
}

std::string shortLinearName(const std::string& full)
{
    int64_t layer = 0;
    int slot = 0;
    if (!splitDecoderLinear(full, &layer, &slot))
        return full;
    return "L" + std::to_string(layer) + "." + kSlots[slot][0];
}

std::string fullLinearName(const std::string& n, const std::string& where)
{
    int64_t layer = 0;
    int slot = 0;
    if (splitDecoderLinear(n, &layer, &slot))
        return n;
    size_t dot = n.find('.');
    if (n.size() > 1 && n[0] == 'L' && dot != std::string::npos && dot > 1 && dot <= 7) {
        bool digits = true;
        for (size_t i = 1; i < dot; ++i)
            digits &= n[i] >= '0' && n[i] <= '9';
        const std::string s = n.substr(dot + 1);
        if (digits)
            for (const auto& sl : kSlots)
                if (s == sl[0])
                    return kLayerPrefix + std::to_string(std::stoll(n.substr(1, dot - 1))) + "." + sl[1];
    }
    throw Error(where + ": '" + n + "' is not a decoder linear (expected L<layer>.q|k|v|o|gate|up|down or "
                "model.layers.<layer>.self_attn.q_proj ...)");
}

std::vector<std::string> canonicalKeepList(const std::vector<std::string>& names, const std::string& where)
{
    std::vector<std::pair<std::pair<int64_t, int>, std::string>> v;
    for (const auto& n : names) {
        std::string f = fullLinearName(n, where);
        int64_t layer = 0;
        int slot = 0;
        splitDecoderLinear(f, &layer, &slot);
        v.push_back({{layer, slot}, f});
    }
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    std::vector<std::string> out;
    for (auto& e : v)
        out.push_back(std::move(e.second));
    return out;
}

static std::vector<std::string> splitUnderscore(const std::string& s)
{
    std::vector<std::string> parts;
    std::string cur;
    for (char c : s) {
        if (c == '_') {
            parts.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    parts.push_back(cur);
    return parts;
}

static double parseNumber(const std::string& text, const std::string& name)
{
    try {
        size_t used = 0;
        double v = std::stod(text, &used);
        if (used != text.size())
            throw std::invalid_argument(text);
        return v;
    } catch (const std::exception&) {
        throw Error("scheme name '" + name + "': '" + text + "' is not a number");
    }
}

QuantScheme QuantScheme::baseline(const std::string& dtypeName)
{
    QuantScheme s;
    s.dtype = QDType::None;
    s.baseline_dtype = dtypeName;
    return s;
}

QuantScheme QuantScheme::smoothQuant(QDType dt, double alpha, QuantMode mode)
{
    QuantScheme s;
    s.dtype = dt;
    s.granularity = Granularity::PerRow;
    s.activation = ActQuant::PerToken;
    s.smoothing = Smoothing::SmoothQuant;
    s.alpha = alpha;
    s.mode = mode;
    return s;
}

QuantScheme QuantScheme::parse(const std::string& fullName)
{
    // Mixed precision: "<scheme>+keep:L0.down,L3.q"
    std::string name = fullName;
    std::vector<std::string> keepList;
    if (size_t plus = fullName.find('+'); plus != std::string::npos) {
        const std::string tail = fullName.substr(plus + 1);
        name = fullName.substr(0, plus);
        if (tail.rfind("keep:", 0) != 0)
            throw Error("scheme name '" + fullName + "': unknown suffix '+" + tail + "' (expected +keep:L0.down,L3.q)");
        std::string list = tail.substr(5), cur;
        std::vector<std::string> items;
        for (char c : list + ",") {
            if (c == ',') {
                if (cur.empty())
                    throw Error("scheme name '" + fullName + "': empty entry in the keep list");
                items.push_back(cur);
                cur.clear();
            } else {
                cur += c;
            }
        }
        keepList = canonicalKeepList(items, "scheme name '" + fullName + "'");
    }
    QuantScheme parsed = parseBase(name);
    if (!keepList.empty()) {
        if (parsed.isBaseline())
            throw Error("scheme name '" + fullName + "': a baseline keeps every linear already");
        parsed.keep = std::move(keepList);
    }
    return parsed;
}

QuantScheme QuantScheme::parseBase(const std::string& name)
{
    if (name == "BF16" || name == "FP32" || name == "FP16" || name == "F32" || name == "Baseline")
        return baseline(name == "F32" ? "FP32" : name);
    auto parts = splitUnderscore(name);
    size_t i = 0;
    auto bad = [&](const std::string& why) -> Error {
        return Error("scheme name '" + name + "': " + why +
                     " (expected e.g. INT8_Per_Row, FP8_Per_Group_128_Fake, SmoothQuant_INT8_W8A8)");
    };
    QuantScheme s;
    bool smooth = false;
    if (i < parts.size() && parts[i] == "SmoothQuant") {
        smooth = true;
        ++i;
    }
    if (i >= parts.size())
        throw bad("missing dtype");
    if (parts[i] == "INT8")
        s.dtype = QDType::INT8;
    else if (parts[i] == "FP8" || parts[i] == "FP8E4M3")
        s.dtype = QDType::FP8_E4M3;
    else
        throw bad("unknown dtype '" + parts[i] + "'");
    ++i;
    if (smooth) {
        s = smoothQuant(s.dtype);
        if (i >= parts.size() || parts[i] != "W8A8")
            throw bad("SmoothQuant schemes are W8A8");
        ++i;
    } else {
        if (i + 1 >= parts.size() || parts[i] != "Per")
            throw bad("missing granularity (Per_Tensor, Per_Row, Per_Group_G)");
        const std::string& g = parts[i + 1];
        i += 2;
        if (g == "Tensor") {
            s.granularity = Granularity::PerTensor;
        } else if (g == "Row" || g == "Channel") {
            s.granularity = Granularity::PerRow;
        } else if (g == "Group") {
            if (i >= parts.size())
                throw bad("Per_Group needs a group size");
            double gs = parseNumber(parts[i], name);
            if (gs < 1 || gs != std::floor(gs) || gs > (1 << 20))
                throw bad("group size must be a positive integer");
            s.granularity = Granularity::PerGroup;
            s.group_size = static_cast<int>(gs);
            ++i;
        } else {
            throw bad("unknown granularity '" + g + "'");
        }
        if (i < parts.size() && parts[i] == "W8A8") {
            s.activation = ActQuant::PerToken;
            ++i;
        }
    }
    for (; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (p == "TensorAct" && s.activation != ActQuant::None)
            s.activation = ActQuant::PerTensor;
        else if (p == "Fake")
            s.mode = QuantMode::Fake;
        else if (p == "Real")
            s.mode = QuantMode::Real;
        else if (p.rfind("Alpha", 0) == 0 && smooth)
            s.alpha = parseNumber(p.substr(5), name);
        else if (p.rfind("Div", 0) == 0 && s.dtype == QDType::INT8)
            s.int8_divisor = parseNumber(p.substr(3), name);
        else if (p == "LmHead")
            s.lm_head = true;
        else
            throw bad("unexpected part '" + p + "'");
    }
    if (auto why = s.validate(); !why.empty())
        throw bad(why);
    return s;
}

std::string QuantScheme::validate() const
{
    if (isBaseline())
        return {};
    if (granularity == Granularity::PerGroup && group_size <= 0)
        return "per-group granularity needs a group size > 0";
    if (granularity != Granularity::PerGroup && group_size != 0)
        return "group size is only meaningful for per-group granularity";
    if (smoothing == Smoothing::SmoothQuant) {
        if (granularity != Granularity::PerRow)
            return "SmoothQuant uses per-row weight scales";
        if (activation == ActQuant::None)
            return "SmoothQuant quantizes activations (W8A8)";
        if (!(alpha >= 0.0 && alpha <= 1.0))
            return "SmoothQuant alpha must lie in [0, 1]";
    }
    if (dtype == QDType::INT8 && int8_divisor != 127.0 && int8_divisor != 127.5)
        return "INT8 divisor must be 127 or 127.5";
    return {};
}

nlohmann::json QuantScheme::toJson() const
{
    nlohmann::json j;
    j["name"] = name();
    if (isBaseline()) {
        j["baseline"] = true;
        j["dtype"] = baseline_dtype;
        return j;
    }
    j["weight"] = {{"dtype", toString(dtype)}, {"granularity", toString(granularity)},
                   {"group_size", group_size}};
    if (dtype == QDType::INT8)
        j["weight"]["int8_divisor"] = int8_divisor;
    j["activation"] = toString(activation);
    j["mode"] = toString(mode);
    j["smoothing"] = smoothing == Smoothing::SmoothQuant
                         ? nlohmann::json{{"method", "smoothquant"}, {"alpha", alpha}}
                         : nlohmann::json{{"method", "none"}};
    j["baseline_dtype"] = baseline_dtype;
    if (lm_head)
        j["lm_head"] = true;
    if (!keep.empty())
        j["keep"] = keep;
    return j;
}

QuantScheme QuantScheme::fromJson(const nlohmann::json& j, const std::string& where)
{
    try {
        if (j.is_string())
            return parse(j.get<std::string>());
        if (!j.is_object())
            fail(where, "scheme must be a name or an object");
        if (j.value("baseline", false))
            return baseline(j.value("dtype", std::string("BF16")));
        // Structured form wins over the name, which is derived.
        if (!j.contains("weight")) {
            if (j.contains("name"))
                return parse(j.at("name").get<std::string>());
            fail(where, "scheme object needs 'weight' or 'name'");
        }
        QuantScheme s;
        const auto& w = j.at("weight");
        std::string dt = w.at("dtype").get<std::string>();
        if (dt == "int8")
            s.dtype = QDType::INT8;
        else if (dt == "fp8_e4m3" || dt == "fp8")
            s.dtype = QDType::FP8_E4M3;
        else
            fail(where, "weight.dtype '" + dt + "' is not int8 or fp8_e4m3");
        std::string g = w.at("granularity").get<std::string>();
        if (g == "per_tensor")
            s.granularity = Granularity::PerTensor;
        else if (g == "per_row")
            s.granularity = Granularity::PerRow;
        else if (g == "per_group")
            s.granularity = Granularity::PerGroup;
        else
            fail(where, "weight.granularity '" + g + "' is unknown");
        if (w.contains("group_size") && !jsonNumber(w["group_size"], s.group_size))
            fail(where, "weight.group_size is not an integer in range: " + w["group_size"].dump());
        if (w.contains("int8_divisor") && !jsonNumber(w["int8_divisor"], s.int8_divisor))
            fail(where, "weight.int8_divisor is not a finite number: " + w["int8_divisor"].dump());
        std::string a = j.value("activation", std::string("none"));
        if (a == "none")
            s.activation = ActQuant::None;
        else if (a == "dynamic_per_token" || a == "per_token")
            s.activation = ActQuant::PerToken;
        else if (a == "dynamic_per_tensor" || a == "per_tensor")
            s.activation = ActQuant::PerTensor;
        else
            fail(where, "activation '" + a + "' is unknown");
        s.mode = j.value("mode", std::string("real")) == "fake" ? QuantMode::Fake : QuantMode::Real;
        s.lm_head = j.value("lm_head", false);
        if (j.contains("smoothing") && j["smoothing"].value("method", std::string("none")) == "smoothquant") {
            s.smoothing = Smoothing::SmoothQuant;
            const nlohmann::json& sm = j["smoothing"];
            if (sm.contains("alpha") && !jsonNumber(sm["alpha"], s.alpha))
                fail(where, "smoothing.alpha is not a finite number: " + sm["alpha"].dump());
        }
        s.baseline_dtype = j.value("baseline_dtype", std::string("BF16"));
        if (j.contains("keep")) {
            if (!j["keep"].is_array())
                fail(where, "scheme 'keep' must be a list of linear names");
            std::vector<std::string> k;
            for (const auto& e : j["keep"]) {
                if (!e.is_string())
                    fail(where, "scheme 'keep' must be a list of linear names, not " + e.dump());
                k.push_back(e.get<std::string>());
            }
            s.keep = canonicalKeepList(k, where + ": scheme keep");
        }
        if (auto why = s.validate(); !why.empty())
            fail(where, "scheme: " + why);
        return s;
    } catch (const nlohmann::json::exception& e) {
        fail(where, std::string("malformed scheme: ") + e.what());
    }
}

std::string QuantScheme::describe() const
{
    if (isBaseline())
        return "Baseline: the unquantized model in " + baseline_dtype + ".";
    std::ostringstream os;
    std::string dt = dtype == QDType::INT8 ? "INT8 (symmetric, scale = amax/" + fmtNumber(int8_divisor) + ")"
                                           : "FP8 E4M3 (scale = amax/448)";
    if (smoothing == Smoothing::SmoothQuant)
        os << "SmoothQuant (alpha " << fmtNumber(alpha) << "): activation outliers migrated into the weights, then ";
    os << "weights in " << dt << " with ";
    switch (granularity) {
    case Granularity::PerTensor: os << "one scale per tensor"; break;
    case Granularity::PerRow: os << "one scale per output row"; break;
    case Granularity::PerGroup: os << "one scale per " << group_size << " input columns of each row"; break;
    }
    if (activation == ActQuant::PerToken)
        os << "; activations quantized per token at run time";
    else if (activation == ActQuant::PerTensor)
        os << "; activations quantized per tensor at run time";
    else
        os << "; activations stay in the baseline dtype";
    os << (mode == QuantMode::Fake ? ". Fake: quantize then dequantize, run in the baseline dtype."
                                   : ". Real: 8-bit codes + scales in memory, kernels consume the codes.");
    if (!keep.empty())
        os << " Mixed precision: " << keep.size() << (keep.size() == 1 ? " linear stays" : " linears stay")
           << " in the baseline dtype.";
    return os.str();
}

std::vector<QuantScheme> schemeMatrix(const std::vector<QDType>& dtypes,
                                      const std::vector<std::pair<Granularity, int>>& granularities,
                                      const std::vector<QuantMode>& modes, ActQuant act, double int8Divisor)
{
    std::vector<QuantScheme> out;
    for (auto mode : modes)
        for (auto dt : dtypes)
            for (const auto& [g, gs] : granularities) {
                QuantScheme s;
                s.dtype = dt;
                s.granularity = g;
                s.group_size = g == Granularity::PerGroup ? gs : 0;
                s.activation = act;
                s.mode = mode;
                s.int8_divisor = int8Divisor;
                out.push_back(s);
            }
    return out;
}

} // namespace qb
