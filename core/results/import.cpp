#include "core/results/import.h"

#include "core/quant/scheme.h"
#include "core/util/error.h"
#include "core/util/read_file.h"

#include <set>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace qb {
namespace {

using nlohmann::json;

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

bool has(const std::string& s, const char* w) { return s.find(w) != std::string::npos; }

struct FileKind {
    std::string task;       // fixed task from the name, or "" (keys decide)
    std::string config;     // config from the name, or "" (keys of the object are configs)
    std::string experiment; // "Task 3.1" from "task_31_...", "" when the name has no task number
    std::string flatDtype;  // "INT8" / "FP8": task_NN_<int8|fp8>_results.json, one flat object
};

// "task_31" -> "Task 3.1", "task_4" -> "Task 4", "task_123" -> "Task 12.3" (the study's numbering:
// chapter digit(s), then the task's digit).
std::string experimentName(const std::string& digits)
{
    if (digits.size() < 2)
        return "Task " + digits;
    return "Task " + digits.substr(0, digits.size() - 1) + "." + digits.substr(digits.size() - 1);
}

FileKind classifyName(const std::string& file)
{
    static const std::regex num(R"(^task_(\d+)_.*)", std::regex::icase);
    static const std::regex ppl(R"(^task_\d+_ppl_(.+)\.json$)", std::regex::icase);
    static const std::regex mmluAll(R"(^task_\d+_mmlu_.*results\.json$)", std::regex::icase);
    static const std::regex mmlu(R"(^task_\d+_mmlu_(.+)_(direct|generate)\.json$)", std::regex::icase);
    static const std::regex thr(R"(^task_\d+_throughput.*\.json$)", std::regex::icase);
    static const std::regex mat(R"(^task_\d+_matmul.*\.json$)", std::regex::icase);
    static const std::regex flat(R"(^task_\d+_(int8|fp8)_results\.json$)", std::regex::icase);
    std::smatch m;
    FileKind k;
    if (std::regex_match(file, m, num))
        k.experiment = experimentName(m[1]);
    if (std::regex_match(file, m, ppl)) {
        k.task = task::Ppl;
        k.config = m[1];
    } else if (std::regex_match(file, m, mmluAll)) {
        // {<CONFIG>: {mmlu_direct, mmlu_generate}}: the keys name the tasks
    } else if (std::regex_match(file, m, mmlu)) {
        k.task = lower(m[2]) == "direct" ? task::MmluDirect : task::MmluGenerate;
        k.config = m[1];
    } else if (std::regex_match(file, m, thr)) {
        k.task = task::Throughput;
    } else if (std::regex_match(file, m, mat)) {
        k.task = task::Matmul;
    } else if (std::regex_match(file, m, flat)) {
        k.flatDtype = lower(m[1]) == "int8" ? "INT8" : "FP8";
    }
    return k;
}

// A metric key -> (task, metric) in our vocabulary; task "" = the file's task.
struct Mapped {
    std::string task, metric;
    bool percentCapable = false;
};

bool mapKey(const std::string& rawKey, const std::string& fileTask, Mapped& out)
{
    std::string k = lower(rawKey);
    if (fileTask == task::Matmul) { // the error norms of a matmul, not standard errors
        if (k == "max_abs_error" || k == "max_abs_err" || k == "max_error") {
            out = {task::Matmul, "max_abs_error"};
            return true;
        }
        if (k == "mean_abs_error" || k == "mean_abs_err" || k == "mae") {
            out = {task::Matmul, "mean_abs_error"};
            return true;
        }
        if (k == "relative_error" || k == "rel_error" || k == "rel_err" || k == "rel_fro_error") {
            out = {task::Matmul, "rel_fro_error"};
            return true;
        }
        if (has(k, "sqnr")) {
            out = {task::Matmul, "sqnr_db"};
            return true;
        }
    }
    // "mmlu_direct" / "mmlu_generate" (a value, or an object nested under that key whose keys
    // were joined: "mmlu_direct_accuracy", "mmlu_generate_total"): the task is in the key.
    for (const char* t : {task::MmluDirect, task::MmluGenerate}) {
        const std::string p = t;
        if (k.compare(0, p.size(), p) != 0 || (k.size() > p.size() && k[p.size()] != '_'))
            continue;
        const std::string rest = k.size() > p.size() ? k.substr(p.size() + 1) : std::string("accuracy");
        if (has(rest, "per_s") || has(rest, "throughput") || has(rest, "qps"))
            break; // "mmlu_direct_questions_per_s": a throughput, below
        return mapKey(rest, t, out);
    }
    bool err = has(k, "stderr") || has(k, "std_err") || k == "se" || has(k, "_se") || has(k, "error");
    if (has(k, "ppl") || has(k, "perplexity")) {
        out = {task::Ppl, err ? "ppl_stderr" : "ppl"};
        return true;
    }
    if (err && fileTask == task::Ppl) { // a bare "stderr" in a ppl file is the PPL's
        out = {task::Ppl, "ppl_stderr"};
        return true;
    }
    if (err && (fileTask == task::MmluDirect || fileTask == task::MmluGenerate)) {
        out = {fileTask, "accuracy_stderr"};
        return true;
    }
    if (has(k, "prefill")) {
        out = {task::Throughput, "prefill_samples_per_s"};
        return true;
    }
    if (has(k, "decode") || has(k, "tokens_per_s") || has(k, "tok_s")) {
        out = {task::Throughput, "decode_tokens_per_s"};
        return true;
    }
    if (has(k, "mem")) {
        bool gb = has(k, "gb") || has(k, "gib");
        out = {task::Throughput, gb ? "peak_memory_gb" : "peak_memory_mb"};
        return true;
    }
    if (has(k, "mmlu") && (has(k, "throughput") || has(k, "per_s") || has(k, "per_sec") || has(k, "qps") ||
                           has(k, "questions_s"))) {
        out = {task::Throughput, "mmlu_questions_per_s"};
        return true;
    }
    if (fileTask == task::Throughput && (has(k, "throughput") || has(k, "samples_per") || has(k, "per_s"))) {
        out = {task::Throughput, "mmlu_questions_per_s"};
        return true;
    }
    if (has(k, "acc")) {
        std::string t = fileTask == task::MmluDirect || fileTask == task::MmluGenerate ? fileTask
                        : has(k, "gen")                                                ? task::MmluGenerate
                                                                                       : task::MmluDirect;
        out = {t, err ? "accuracy_stderr" : "accuracy", !err};
        return true;
    }
    if (has(k, "unparse") || has(k, "invalid")) {
        out = {fileTask == task::MmluGenerate ? fileTask : task::MmluGenerate, "unparseable"};
        return true;
    }
    if (k == "correct" || k == "num_correct" || k == "n_correct") {
        out = {fileTask.empty() ? task::MmluDirect : fileTask, "correct"};
        return true;
    }
    if (k == "total" || k == "n" || k == "num_questions" || k == "n_questions" || k == "count" || k == "num_samples") {
        out = {fileTask.empty() ? task::MmluDirect : fileTask, "n"};
        return true;
    }
    if (k == "n_tokens" || k == "num_tokens" || k == "tokens") {
        out = {task::Ppl, "n_tokens"};
        return true;
    }
    return false;
}

struct Builder {
    std::string file;
    FileKind kind;
    std::map<std::pair<std::string, std::string>, ResultRecord> recs; // (config, task)
    std::vector<std::string> messages;
    std::vector<std::string> notes;
    double largestAccuracy = -1; // percent or fraction is decided per file from the largest one
    int accuracies = 0;
    bool percentSign = false;    // a "45.2%" string says percent for the whole file

    void note(const std::string& m) { messages.push_back(file + ": " + m); }
    void info(const std::string& m) { notes.push_back(file + ": " + m); }

    // Keys that describe the measurement rather than measure: the config and method names the
    // hand-written files repeat, sequence length, SmoothQuant flags. True when handled.
    bool descriptive(const std::string& config, const std::string& path, const json& v)
    {
        const std::string k = lower(path);
        if (k == "config" || k == "model" || k == "name" || k == "config_name") {
            if (v.is_string() && !config.empty() && v.get<std::string>() != config)
                note("key '" + path + "': says '" + v.get<std::string>() + "' but the file name says '" + config +
                     "'; the file name's config is used");
            return true;
        }
        if (k == "method" || k == "mode" || k == "smoothquant" || k == "alpha" || k == "scheme" || k == "dtype")
            return true; // read by the flat task_NN_<dtype>_results layout, otherwise only described
        if (k == "seq_len" || k == "ctx" || k == "context_length" || k == "max_length") {
            if (v.is_number())
                recs[{config, kind.task.empty() ? task::Ppl : kind.task}].settings["ctx"] = v;
            return true;
        }
        return false;
    }

    void metric(const std::string& config, const std::string& path, const json& v)
    {
        if (descriptive(config, path, v))
            return;
        double x;
        bool pct = false;
        if (v.is_number())
            x = v.get<double>();
        else if (v.is_string()) {
            // "45.2%" or "12.3"
            std::string s = v.get<std::string>();
            pct = !s.empty() && s.back() == '%';
            if (pct)
                s.pop_back();
            char* end = nullptr;
            x = std::strtod(s.c_str(), &end);
            if (s.empty() || *end) {
                note("key '" + path + "'" + (config.empty() ? "" : " of '" + config + "'") + ": value " + v.dump() +
                     " is not a number, ignored");
                return;
            }
        } else if (v.is_boolean() || v.is_null()) {
            note("key '" + path + "'" + (config.empty() ? "" : " of '" + config + "'") + ": value " + v.dump() +
                 " is not a number, ignored");
            return;
        } else {
            return;
        }
        Mapped m;
        if (!mapKey(path, kind.task, m)) {
            note("key '" + path + "'" + (config.empty() ? "" : " of '" + config + "'") + " not understood, ignored");
            return;
        }
        if (!std::isfinite(x)) {
            note("key '" + path + "': value is not finite, ignored");
            return;
        }
        // An accuracy is a fraction in [0, 1] or a percent in (1, 100]; anything else (-0.5 would
        // otherwise be shown as -50 %) is an error in the file, named with its key.
        if (m.percentCapable && (x < 0.0 || x > 100.0)) {
            note("key '" + path + "'" + (config.empty() ? "" : " of '" + config + "'") + ": accuracy " + v.dump() +
                 " is out of range (a fraction must be in [0, 1], a percent in [0, 100]), ignored");
            return;
        }
        if (pct && m.percentCapable)
            percentSign = true; // "45.2%": this file writes percentages
        else if (pct)
            x /= 100.0;
        if (m.percentCapable) { // scaled once the whole file is read (finishAccuracies)
            largestAccuracy = std::max(largestAccuracy, x);
            ++accuracies;
        }
        auto& r = recs[{config, m.task}];
        // The decimals the file gave, so the report shows 177.52 as 177.52 (settings.digits;
        // accuracies in the report's percent: a fraction's decimals minus 2, fixed in finishAccuracies).
        const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
        if (text.find_first_of("eE") == std::string::npos) {
            const size_t dot = text.find('.');
            const size_t end = text.find_last_of("0123456789");
            const int decimals = dot == std::string::npos || end == std::string::npos || end < dot ? 0 : int(end - dot);
            r.settings["digits"][m.metric] = decimals;
        }
        r.config = config;
        r.task = m.task;
        r.metrics[m.metric] = x;
    }

    void object(const std::string& config, const std::string& prefix, const json& o, int depth)
    {
        for (auto it = o.begin(); it != o.end(); ++it) {
            std::string key = prefix.empty() ? it.key() : prefix + "_" + it.key();
            if (it->is_object()) {
                if (depth >= 2) {
                    note("key '" + key + "': nested too deep, ignored");
                    continue;
                }
                object(config, key, *it, depth + 1);
            } else if (it->is_array()) {
                note("key '" + key + "': a list, ignored");
            } else {
                metric(config, key, *it);
            }
        }
    }
};

// One file uses one convention: percentages when any accuracy in it is above 1 (51.1), else
// fractions (0.519); said in a message, since a file of accuracies all <= 1 % would be misread.
void finishAccuracies(Builder& b)
{
    if (b.accuracies == 0)
        return;
    const bool percent = b.largestAccuracy > 1.0 || b.percentSign;
    std::ostringstream os;
    os << b.accuracies << (b.accuracies == 1 ? " accuracy" : " accuracies") << " read as "
       << (percent ? "percentages" : "fractions") << " (largest " << b.largestAccuracy << ")";
    b.info(os.str());
    for (auto& [k, r] : b.recs) {
        if (!r.has("accuracy"))
            continue;
        if (percent)
            r.metrics["accuracy"] = r.metric("accuracy") / 100.0;
        else if (r.settings.contains("digits") && r.settings["digits"].contains("accuracy"))
            r.settings["digits"]["accuracy"] = std::max(0, r.settings["digits"]["accuracy"].get<int>() - 2);
    }
}

// task_NN_<int8|fp8>_results.json: {method, smoothquant, alpha, ppl, mmlu_direct: {accuracy}, ...}
// is one config whose name comes from the file name and the flags.
std::string flatConfigName(const Builder& b, const json& j, double& alpha)
{
    const bool smooth = j.contains("smoothquant") && ((j["smoothquant"].is_boolean() && j["smoothquant"].get<bool>()) ||
                                                      (j["smoothquant"].is_number() && j["smoothquant"].get<double>() != 0));
    const std::string method = j.contains("method") && j["method"].is_string() ? lower(j["method"].get<std::string>()) : "";
    alpha = j.contains("alpha") && j["alpha"].is_number() ? j["alpha"].get<double>() : NAN;
    if (smooth || has(method, "smooth")) {
        const QDType dt = b.kind.flatDtype == "INT8" ? QDType::INT8 : QDType::FP8_E4M3;
        return std::isnan(alpha) ? QuantScheme::smoothQuant(dt).name() : QuantScheme::smoothQuant(dt, alpha).name();
    }
    // Without SmoothQuant the method names the granularity ("per_row", "per-tensor", "w8a8").
    std::string g = has(method, "tensor") ? "Per_Tensor" : "Per_Row";
    return b.kind.flatDtype + "_" + g + (has(method, "w8a8") || has(method, "a8") ? "_W8A8" : "");
}

bool looksLikeMetricObject(const json& j)
{
    for (auto it = j.begin(); it != j.end(); ++it)
        if (it->is_object())
            return false;
    return true;
}

} // namespace

ImportResult importReportJson(const std::string& name, const std::string& content)
{
    ImportResult out;
    Builder b;
    b.file = name;
    b.kind = classifyName(name);
    json j = json::parse(content, nullptr, false);
    if (j.is_discarded()) {
        out.messages.push_back(name + ": not valid JSON, file skipped");
        return out;
    }
    if (!j.is_object()) {
        out.messages.push_back(name + ": expected a JSON object (metrics, or configs -> metrics), file skipped");
        return out;
    }
    double alpha = NAN;
    const bool flat = !b.kind.flatDtype.empty() && [&] {
        for (const char* k : {"ppl", "mmlu_direct", "mmlu_generate", "method", "smoothquant", "alpha"})
            if (j.contains(k))
                return true;
        return false;
    }();
    if (flat) {
        const std::string cfg = flatConfigName(b, j, alpha);
        b.info("one flat object: config '" + cfg + "' from the file name and its flags");
        b.object(cfg, "", j, 0);
    } else if (b.kind.task == task::Matmul && !j.empty() && !looksLikeMetricObject(j)) {
        // {int8|fp8: {max_abs_error, mean_abs_error, relative_error}}: the matmul of that format
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (!it->is_object()) {
                b.note("key '" + it.key() + "' is not an object of error measures, ignored");
                continue;
            }
            const std::string k = lower(it.key());
            const std::string cfg = k == "int8" ? "INT8_Per_Row_W8A8" : k == "fp8" ? "FP8_Per_Row_W8A8" : it.key();
            b.object(cfg, "", *it, 1);
        }
    } else if (!b.kind.config.empty()) {
        // config from the name; content is flat metrics (possibly nested one level)
        b.object(b.kind.config, "", j, 0);
    } else if (looksLikeMetricObject(j)) {
        b.note("flat metrics but the file name does not name a config (expected task_NN_ppl_<CONFIG>.json or "
               "task_NN_mmlu_<CONFIG>_direct.json); file skipped");
    } else {
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (!it->is_object()) {
                b.note("key '" + it.key() + "' is not a config object, ignored");
                continue;
            }
            b.object(it.key(), "", *it, 1);
        }
    }
    finishAccuracies(b);
    std::set<std::string> unknownConfigs;
    for (auto& [k, r] : b.recs) {
        try {
            (void)QuantScheme::parse(k.first);
        } catch (const Error& e) {
            if (unknownConfigs.insert(k.first).second)
                b.note("config '" + k.first + "' is not a scheme name QuantBench knows (" + e.what() +
                       "); imported under that name");
        }
        r.schema_version = kResultSchemaVersion;
        r.source = name;
        json settings = {{"imported_from", name}};
        if (r.settings.is_object())
            settings.update(r.settings); // ctx from seq_len
        if (!b.kind.experiment.empty())
            settings["experiment"] = b.kind.experiment; // kept apart from other tasks' runs
        if (!std::isnan(alpha) && k.first.rfind("SmoothQuant", 0) == 0)
            settings["smoothquant_alpha"] = alpha;
        r.settings = settings;
        // an accuracy with counts gets its stderr and correct count
        if (r.has("accuracy") && r.has("n") && !r.has("accuracy_stderr")) {
            double p = r.metric("accuracy"), n = r.metric("n");
            if (n > 0)
                r.metrics["accuracy_stderr"] = std::sqrt(p * (1 - p) / n);
        }
        if (!r.has("accuracy") && r.has("correct") && r.has("n") && r.metric("n") > 0)
            r.metrics["accuracy"] = r.metric("correct") / r.metric("n");
        out.records.push_back(std::move(r));
    }
    if (out.records.empty() && b.messages.empty())
        b.note("no metrics found, file skipped");
    out.messages = std::move(b.messages);
    out.notes = std::move(b.notes);
    return out;
}

ImportResult importReportContent(const std::filesystem::path& p, const std::string& content)
{
    ImportResult r = importReportJson(p.filename().string(), content);
    // messages and sources name the full path
    for (auto& m : r.messages)
        m = (p.parent_path() / m).string();
    for (auto& m : r.notes)
        m = (p.parent_path() / m).string();
    for (auto& rec : r.records)
        rec.source = p.string();
    return r;
}

ImportResult importReportFile(const std::filesystem::path& p)
{
    std::string content;
    try {
        content = readFileBounded(p, kResultJsonCap, "report-style results file");
    } catch (const Error& e) {
        return {{}, {e.what()}, {}};
    }
    return importReportContent(p, content);
}

} // namespace qb

namespace qb {

ImportResult importLegacyUiResults(const nlohmann::json& doc, const std::string& file)
{
    ImportResult out;
    if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array()) {
        out.messages.push_back(file + ": \"quantbench_results\" file without a \"results\" list, file skipped");
        return out;
    }
    // legacy key -> (task, metric, scale of the value)
    struct Target {
        const char* task;
        const char* metric;
        double scale;
    };
    static const std::map<std::string, Target> keys = {
        {"ppl", {task::Ppl, "ppl", 1}},
        {"kl_divergence", {task::Ppl, "kl_mean", 1}},
        {"top1_agreement", {task::Ppl, "top1_agreement", 1}},
        {"mmlu_direct", {task::MmluDirect, "accuracy", 1}},
        {"mmlu_generate", {task::MmluGenerate, "accuracy", 1}},
        {"prefill_samples_per_s", {task::Throughput, "prefill_samples_per_s", 1}},
        {"decode_tokens_per_s", {task::Throughput, "decode_tokens_per_s", 1}},
        {"peak_mib", {task::Throughput, "peak_memory_mb", 1}},
        {"weight_mib", {task::Throughput, "weight_bytes", 1024.0 * 1024.0}},
        {"matmul_sqnr_db", {task::Matmul, "sqnr_db", 1}},
        {"matmul_rel_error", {task::Matmul, "rel_fro_error", 1}},
    };
    const auto& entries = doc["results"];
    for (size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        const std::string where = file + " entry " + std::to_string(i + 1);
        if (!e.is_object() || !e.contains("config") || !e["config"].is_string()) {
            out.messages.push_back(where + ": no \"config\" name, entry skipped");
            continue;
        }
        if (e.contains("records") && e["records"].is_array() && !e["records"].empty()) {
            for (const auto& rj : e["records"]) {
                try {
                    ResultRecord r = ResultRecord::fromJson(rj, where);
                    r.source = file;
                    out.records.push_back(std::move(r));
                } catch (const Error& err) {
                    out.messages.push_back(std::string(err.what()) + " (record skipped)");
                }
            }
            continue;
        }
        ResultRecord proto;
        proto.config = e["config"].get<std::string>();
        proto.scheme = e.contains("scheme") && e["scheme"].is_object() ? e["scheme"] : nlohmann::json(nullptr);
        proto.settings = {{"legacy_layout", "quantbench_results 1"}};
        proto.source = file;
        const std::string status = e.value("status", std::string("ok"));
        std::map<std::string, ResultRecord> perTask;
        if (e.contains("metrics") && e["metrics"].is_object()) {
            for (auto it = e["metrics"].begin(); it != e["metrics"].end(); ++it) {
                auto k = keys.find(it.key());
                if (k == keys.end()) {
                    out.messages.push_back(where + ": metric '" + it.key() + "' is not one that layout wrote, ignored");
                    continue;
                }
                double value = NAN, se = NAN, n = NAN;
                if (it->is_number()) {
                    value = it->get<double>();
                } else if (it->is_object()) {
                    auto numAt = [&](const char* f) {
                        return it->contains(f) && (*it)[f].is_number() ? (*it)[f].get<double>() : NAN;
                    };
                    value = numAt("value");
                    se = numAt("stderr");
                    n = numAt("n");
                }
                if (std::isnan(value))
                    continue; // the layout wrote null for "not measured"
                const Target& t = k->second;
                auto [rit, fresh] = perTask.try_emplace(t.task, proto);
                ResultRecord& r = rit->second;
                if (fresh)
                    r.task = t.task;
                r.metrics[t.metric] = value * t.scale;
                const std::string m = t.metric;
                if (!std::isnan(se))
                    r.metrics[m + "_stderr"] = se * t.scale;
                if (!std::isnan(n) && n > 0)
                    r.metrics[t.task == std::string(task::Ppl) ? "n_tokens" : "n"] = n;
            }
        }
        bool first = true;
        for (auto& [t, r] : perTask) {
            if (first)
                r.provenance.seconds = e.contains("seconds") && e["seconds"].is_number() ? e["seconds"].get<double>() : 0;
            first = false;
            out.records.push_back(std::move(r));
        }
        if (status != "ok") { // failed, cancelled, or partial (its numbers are above)
            ResultRecord r = proto;
            r.task = "all";
            r.status = "failed";
            r.error = e.value("error", std::string()) + (status == "cancelled" ? " (cancelled)" : "");
            out.records.push_back(std::move(r));
        }
    }
    return out;
}

} // namespace qb
