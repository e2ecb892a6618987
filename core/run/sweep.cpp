#include "core/run/sweep.h"

#include "core/data/sha256.h"
#include "core/util/atomic_write.h"
#include "core/util/error.h"
#include "core/util/json_number.h"
#include "core/util/read_file.h"

#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace qb {

using nlohmann::json;

static std::string lowerStr(std::string s)
{
    for (auto& c : s)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

static QDType parseDtype(const std::string& s, const std::string& where)
{
    std::string l = lowerStr(s);
    if (l == "int8")
        return QDType::INT8;
    if (l == "fp8" || l == "fp8_e4m3" || l == "fp8-e4m3" || l == "e4m3")
        return QDType::FP8_E4M3;
    fail(where, "unknown dtype \"" + s + "\" (INT8 or FP8)");
}

// A number field of an object, or def where absent; a wrong type or an out-of-range value is
// an error naming the key (see core/util/json_number.h for why get<int>() is not enough).
template <class T> static T num(const json& o, const char* key, T def, const std::string& where)
{
    if (!o.is_object() || !o.contains(key))
        return def;
    T v{};
    if (!jsonNumber(o[key], v))
        fail(where, std::string("\"") + key + "\" is not a number in range: " + o[key].dump());
    return v;
}

static std::pair<Granularity, int> parseGranularity(const json& g, const std::string& where)
{
    if (g.is_number()) {
        int gs = 0;
        if (!jsonNumber(g, gs))
            fail(where, "group size is not an integer in range: " + g.dump());
        return {Granularity::PerGroup, gs};
    }
    if (!g.is_string())
        fail(where, "granularity must be a string or a group size: " + g.dump());
    std::string l = lowerStr(g.get<std::string>());
    for (const char* p : {"per_", "per-"})
        if (l.rfind(p, 0) == 0)
            l = l.substr(4);
    if (l == "tensor")
        return {Granularity::PerTensor, 0};
    if (l == "row" || l == "channel")
        return {Granularity::PerRow, 0};
    for (const char* p : {"group_", "group-", "group"})
        if (l.rfind(p, 0) == 0) {
            std::string n = l.substr(std::string(p).size());
            try {
                size_t used = 0;
                int v = std::stoi(n, &used);
                if (used == n.size() && v > 0)
                    return {Granularity::PerGroup, v};
            } catch (const std::exception&) {
            }
        }
    fail(where, "unknown granularity \"" + g.get<std::string>() + "\" (tensor, row, group64, ...)");
}

std::vector<QuantScheme> expandSchemes(const json& j, const std::string& baselineDtype, const std::string& where)
{
    std::vector<QuantScheme> out;
    auto one = [&](const json& e, const std::string& w) {
        QuantScheme s;
        if (e.is_string()) {
            try {
                s = QuantScheme::parse(e.get<std::string>());
            } catch (const Error& err) {
                fail(w, err.what()); // a bad name is reported with the file and the entry
            }
        } else {
            s = QuantScheme::fromJson(e, w);
        }
        if (s.isBaseline())
            return; // the baseline is always evaluated first anyway
        s.baseline_dtype = baselineDtype;
        if (auto why = s.validate(); !why.empty())
            fail(w, s.name() + ": " + why);
        out.push_back(s);
    };
    if (j.is_null())
        return out;
    if (j.is_array()) {
        for (size_t i = 0; i < j.size(); ++i)
            one(j[i], where + ": schemes[" + std::to_string(i) + "]");
    } else if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it)
            if (it.key() != "matrix" && it.key() != "smoothquant" && it.key() != "extra")
                fail(where, "schemes: unknown key \"" + it.key() + "\" (matrix, smoothquant, extra)");
        if (j.contains("matrix")) {
            const json& m = j["matrix"];
            std::string w = where + ": schemes.matrix";
            if (!m.is_object())
                fail(w, "must be an object {\"dtypes\", \"granularities\", \"modes\", \"activation\"}, not " +
                            std::string(m.type_name()));
            std::vector<QDType> dts;
            std::vector<std::pair<Granularity, int>> grs;
            std::vector<QuantMode> modes;
            for (const auto& d : m.value("dtypes", json::array({"INT8", "FP8"})))
                dts.push_back(parseDtype(d.get<std::string>(), w));
            for (const auto& g : m.value("granularities", json::array({"row"})))
                grs.push_back(parseGranularity(g, w));
            for (const auto& md : m.value("modes", json::array({"real"}))) {
                std::string l = lowerStr(md.get<std::string>());
                if (l == "fake")
                    modes.push_back(QuantMode::Fake);
                else if (l == "real")
                    modes.push_back(QuantMode::Real);
                else
                    fail(w, "unknown mode \"" + md.get<std::string>() + "\" (fake or real)");
            }
            ActQuant act = ActQuant::None;
            std::string a = lowerStr(m.value("activation", std::string("none")));
            if (a == "per_token" || a == "token")
                act = ActQuant::PerToken;
            else if (a == "per_tensor" || a == "tensor")
                act = ActQuant::PerTensor;
            else if (a != "none")
                fail(w, "unknown activation \"" + a + "\" (none, per_token, per_tensor)");
            for (auto s : schemeMatrix(dts, grs, modes, act, num(m, "int8_divisor", 127.0, w)))
                one(s.toJson(), w);
        }
        if (j.contains("smoothquant"))
            for (const auto& e : j["smoothquant"]) {
                std::string w = where + ": schemes.smoothquant";
                if (e.is_string()) {
                    one(e, w);
                    continue;
                }
                if (!e.is_object())
                    fail(w, "each entry is a scheme name or {\"dtype\", \"alpha\", \"mode\"}");
                QuantMode mode = lowerStr(e.value("mode", std::string("real"))) == "fake" ? QuantMode::Fake : QuantMode::Real;
                const QDType dt = parseDtype(e.value("dtype", std::string("INT8")), w);
                // An alpha list is the alpha sweep: one config per alpha, one calibration for all.
                if (e.contains("alpha") && e["alpha"].is_array()) {
                    if (e["alpha"].empty())
                        fail(w, "\"alpha\" list is empty");
                    for (const auto& a : e["alpha"]) {
                        double v = 0;
                        if (!jsonNumber(a, v))
                            fail(w, "\"alpha\" list holds a non-number: " + a.dump());
                        one(QuantScheme::smoothQuant(dt, v, mode).toJson(), w);
                    }
                } else {
                    one(QuantScheme::smoothQuant(dt, num(e, "alpha", 0.5, w), mode).toJson(), w);
                }
            }
        if (j.contains("extra"))
            for (const auto& e : j["extra"])
                one(e, where + ": schemes.extra");
    } else {
        fail(where, "\"schemes\" must be a list or an object with \"matrix\"");
    }
    // drop duplicates, keep first
    std::vector<QuantScheme> uniq;
    std::set<std::string> seen;
    for (auto& s : out)
        if (seen.insert(s.name()).second)
            uniq.push_back(s);
    return uniq;
}

std::vector<QuantScheme> SweepSpec::configs() const
{
    std::vector<QuantScheme> c{QuantScheme::baseline(baseline_dtype)};
    c.insert(c.end(), schemes.begin(), schemes.end());
    return c;
}

json SweepSpec::toJson() const
{
    return {{"name", name},
            {"model", model},
            {"baseline_dtype", baseline_dtype},
            {"device", device},
            {"schemes", schemes_json.is_null() ? [&] {
                 json a = json::array();
                 for (const auto& s : schemes)
                     a.push_back(s.name());
                 return a;
             }()
                                               : schemes_json},
            {"tasks", tasks.toJson()},
            {"datasets", {{"ppl_text", ppl_text}, {"mmlu", mmlu}, {"calibration_text", calibration_text}}},
            {"calibration", {{"sequences", calib_sequences}, {"length", calib_length}}},
            {"seed", seed}};
}

SweepSpec SweepSpec::fromJson(const json& j, const std::string& where, const fs::path& baseDir)
{
    if (!j.is_object())
        fail(where, "a sweep file must hold a JSON object");
    static const std::set<std::string> keys = {"name", "model", "baseline_dtype", "device", "schemes", "tasks",
                                               "datasets", "calibration", "seed", "comment"};
    for (auto it = j.begin(); it != j.end(); ++it)
        if (!keys.count(it.key()))
            fail(where, "unknown key \"" + it.key() + "\"");
    auto resolve = [&](const std::string& p) -> std::string {
        if (p.empty() || fs::path(p).is_absolute() || baseDir.empty())
            return p;
        return (baseDir / p).lexically_normal().string();
    };
    SweepSpec s;
    try {
        s.name = j.value("name", s.name);
        s.model = resolve(j.value("model", std::string()));
        s.baseline_dtype = j.value("baseline_dtype", s.baseline_dtype);
        s.device = j.value("device", s.device);
        s.seed = num(j, "seed", s.seed, where);
        if (j.contains("datasets")) {
            const json& d = j["datasets"];
            for (auto it = d.begin(); it != d.end(); ++it)
                if (it.key() != "ppl_text" && it.key() != "mmlu" && it.key() != "calibration_text")
                    fail(where, "datasets: unknown key \"" + it.key() + "\"");
            s.ppl_text = resolve(d.value("ppl_text", std::string()));
            s.mmlu = resolve(d.value("mmlu", std::string()));
            s.calibration_text = resolve(d.value("calibration_text", std::string()));
        }
        if (j.contains("calibration")) {
            s.calib_sequences = num(j["calibration"], "sequences", s.calib_sequences, where + ": calibration");
            s.calib_length = num(j["calibration"], "length", s.calib_length, where + ": calibration");
        }
        if (s.baseline_dtype != "FP32" && s.baseline_dtype != "BF16" && s.baseline_dtype != "FP16")
            fail(where, "baseline_dtype \"" + s.baseline_dtype + "\" is not FP32, BF16 or FP16");
        // The scheme and task sections are parsed inside the same guard: a number where an object
        // belongs ("matrix": 28) is a wrong value type, not an uncaught library exception.
        s.schemes_json = j.value("schemes", json(nullptr));
        s.schemes = expandSchemes(s.schemes_json, s.baseline_dtype, where);
        s.tasks = j.contains("tasks") ? TaskSettings::fromJson(j["tasks"], where) : TaskSettings{};
    } catch (const json::exception& e) {
        fail(where, std::string("wrong value type: ") + e.what());
    }
    if (s.model.empty())
        fail(where, "\"model\" is missing");
    return s;
}

SweepSpec SweepSpec::load(const fs::path& file)
{
    json j = json::parse(readFileBounded(file, kSweepJsonCap, "sweep file"), nullptr, false);
    if (j.is_discarded())
        fail(file.string(), "not valid JSON");
    return fromJson(j, file.string(), fs::absolute(file).parent_path());
}

void SweepSpec::save(const fs::path& file) const
{
    writeFileAtomic(file, toJson().dump(2) + "\n", "sweep file");
}

std::string SweepSpec::protocolHash() const
{
    json j = toJson();
    j.erase("device"); // where it runs is provenance, not protocol (a CPU rerun may resume a GPU run)
    return sha256Hex(j.dump());
}

} // namespace qb
