#include "core/results/record.h"

#include "core/util/error.h"
#include "core/util/json_number.h"

#include <chrono>
#include <cmath>
#include <ctime>

namespace qb {

using nlohmann::json;

std::string isoNowUtc()
{
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

json Provenance::toJson() const
{
    return {{"app_version", app_version}, {"git_commit", git_commit}, {"torch_version", torch_version},
            {"device", device}, {"started", started}, {"finished", finished}, {"seconds", seconds},
            {"threads", threads}, {"kernels", kernels}};
}

Provenance Provenance::fromJson(const json& j)
{
    Provenance p;
    if (!j.is_object())
        return p;
    p.app_version = j.value("app_version", "");
    p.git_commit = j.value("git_commit", "");
    p.torch_version = j.value("torch_version", "");
    p.device = j.value("device", "");
    p.started = j.value("started", "");
    p.finished = j.value("finished", "");
    p.seconds = j.value("seconds", 0.0);
    if (j.contains("threads") && !jsonNumber(j["threads"], p.threads))
        p.threads = 0;
    p.kernels = j.value("kernels", "");
    return p;
}

double ResultRecord::metric(const std::string& m, double def) const
{
    auto it = metrics.find(m);
    return it == metrics.end() ? def : it->second;
}

json ResultRecord::toJson() const
{
    json m = json::object();
    for (const auto& [k, v] : metrics)
        m[k] = std::isfinite(v) ? json(v) : json(nullptr); // JSON has no NaN/Inf
    json ds = json::array();
    for (const auto& d : datasets)
        ds.push_back({{"role", d.role}, {"path", d.path}, {"sha256", d.sha256}, {"bytes", d.bytes}});
    json j = {{"schema", "quantbench.result"},
              {"schema_version", kResultSchemaVersion},
              {"run_id", run_id},
              {"config", config},
              {"scheme", scheme},
              {"task", task},
              {"settings", settings},
              {"status", status},
              {"metrics", m},
              {"model", {{"path", model_path}, {"config_hash", model_config_hash}, {"name", model_name}}},
              {"datasets", ds},
              {"provenance", provenance.toJson()}};
    if (!error.empty())
        j["error"] = error;
    if (!details.is_null())
        j["details"] = details;
    if (!correct.empty())
        j["per_question"] = {{"question_set", question_set}, {"correct", correct}, {"predictions", predictions}};
    return j;
}

static void readMetrics(const json& m, ResultRecord& r, const std::string& where)
{
    if (!m.is_object())
        fail(where, "\"metrics\" is not an object");
    for (auto it = m.begin(); it != m.end(); ++it) {
        if (it->is_number()) {
            const double v = it->get<double>();
            if ((it.key() == "accuracy" || it.key() == "accuracy_stderr") && !(v >= 0.0 && v <= 1.0))
                fail(where, "metric '" + it.key() + "' is " + it->dump() + ", outside [0, 1] (records store fractions)");
            r.metrics[it.key()] = v;
        }
        else if (it->is_null())
            r.metrics[it.key()] = std::nan("");
        // other value types are ignored: they are not metrics
    }
}

static ResultRecord readRecord(const json& j, const std::string& where);

ResultRecord ResultRecord::fromJson(const json& j, const std::string& where)
{
    // A field of the wrong type ("run_id": 5, "provenance": {"seconds": "5"}) makes nlohmann's
    // value()/get() throw type_error: that is a record we cannot read, and must say so as one
    // (loadResultsJsonl promises never to throw for bad content). Crashed fuzz_result_jsonl.
    try {
        return readRecord(j, where);
    } catch (const json::exception& e) {
        fail(where, std::string("a field has the wrong type (") + e.what() + ")");
    }
}

static ResultRecord readRecord(const json& j, const std::string& where)
{
    if (!j.is_object())
        fail(where, "a result record must be a JSON object");
    ResultRecord r;
    r.source = where;
    int version = 0;
    if (j.contains("schema_version") && j["schema_version"].is_number_integer())
        jsonNumber(j["schema_version"], version);
    else if (j.contains("version") && j["version"].is_number_integer())
        jsonNumber(j["version"], version);
    if (version < 1)
        fail(where, "not a QuantBench result record (no schema_version)");
    if (version > kResultSchemaVersion)
        fail(where, "result schema version " + std::to_string(version) + " is newer than this build (" +
                        std::to_string(kResultSchemaVersion) + "); update QuantBench");
    auto str = [&](const char* k) -> std::string {
        if (!j.contains(k))
            fail(where, std::string("missing \"") + k + "\"");
        if (!j[k].is_string())
            fail(where, std::string("\"") + k + "\" is not a string");
        return j[k].get<std::string>();
    };
    r.config = str("config");
    r.task = str("task");
    if (version == 1) {
        r.schema_version = 1;
        if (j.contains("result"))
            readMetrics(j["result"], r, where);
        r.status = j.value("ok", true) ? "ok" : "failed";
        r.error = j.value("error", "");
        r.scheme = nullptr;
        return r;
    }
    r.schema_version = version;
    r.run_id = j.value("run_id", "");
    r.scheme = j.value("scheme", json(nullptr));
    r.settings = j.value("settings", json::object());
    r.status = j.value("status", "ok");
    r.error = j.value("error", "");
    if (j.contains("metrics"))
        readMetrics(j["metrics"], r, where);
    r.details = j.value("details", json(nullptr));
    if (j.contains("per_question") && j["per_question"].is_object()) {
        const auto& pq = j["per_question"];
        r.correct = pq.value("correct", "");
        r.predictions = pq.value("predictions", "");
        r.question_set = pq.value("question_set", "");
    }
    if (j.contains("model") && j["model"].is_object()) {
        r.model_path = j["model"].value("path", "");
        r.model_config_hash = j["model"].value("config_hash", "");
        r.model_name = j["model"].value("name", "");
    }
    if (j.contains("datasets") && j["datasets"].is_array())
        for (const auto& d : j["datasets"])
            if (d.is_object())
                r.datasets.push_back({d.value("role", ""), d.value("path", ""), d.value("sha256", ""),
                                      d.value("bytes", uint64_t(0))});
    r.provenance = Provenance::fromJson(j.value("provenance", json::object()));
    return r;
}

} // namespace qb
