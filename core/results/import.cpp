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
    std::string task;   // fixed task from the name, or "" (keys decide)
    std::string config; // config from the name, or "" (keys of the object are configs)
};

FileKind classifyName(const std::string& file)
{
    static const std::regex ppl(R"(^task_\d+_ppl_(.+)\.json$)", std::regex::icase);
    static const std::regex mmlu(R"(^task_\d+_mmlu_(.+)_(direct|generate)\.json$)", std::regex::icase);
    static const std::regex thr(R"(^task_\d+_throughput.*\.json$)", std::regex::icase);
    std::smatch m;
    if (std::regex_match(file, m, ppl))
        return {task::Ppl, m[1]};
    if (std::regex_match(file, m, mmlu))
        return {lower(m[2]) == "direct" ? task::MmluDirect : task::MmluGenerate, m[1]};
    if (std::regex_match(file, m, thr))
        return {task::Throughput, ""};
    return {"", ""};
}

// A metric key -> (task, metric) in our vocabulary; task "" = the file's task.
struct Mapped {
    std::string task, metric;
    bool percentCapable = false;
};

bool mapKey(const std::string& rawKey, const std::string& fileTask, Mapped& out)
{
    std::string k = lower(rawKey);
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

    void note(const std::string& m) { messages.push_back(file + ": " + m); }

    void metric(const std::string& config, const std::string& path, const json& v)
    {
        double x;
        if (v.is_number())
            x = v.get<double>();
        else if (v.is_string()) {
            // "45.2%" or "12.3"
            std::string s = v.get<std::string>();
            bool pct = !s.empty() && s.back() == '%';
            if (pct)
                s.pop_back();
            char* end = nullptr;
            x = std::strtod(s.c_str(), &end);
            if (s.empty() || *end) {
                note("key '" + path + "'" + (config.empty() ? "" : " of '" + config + "'") + ": value " + v.dump() +
                     " is not a number, ignored");
                return;
            }
            if (pct)
                x /= 100.0;
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
        if (m.percentCapable && x > 1.0)
            x /= 100.0;
        auto& r = recs[{config, m.task}];
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
    if (!b.kind.config.empty()) {
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
        r.settings = {{"imported_from", name}};
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
    return out;
}

ImportResult importReportContent(const std::filesystem::path& p, const std::string& content)
{
    ImportResult r = importReportJson(p.filename().string(), content);
    // messages and sources name the full path
    for (auto& m : r.messages)
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
        return {{}, {e.what()}};
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
