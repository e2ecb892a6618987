#include "core/report/rows.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

namespace qb {
namespace {

bool parseScheme(const ResultRecord& r, QuantScheme& s)
{
    try {
        s = r.scheme.is_object() ? QuantScheme::fromJson(r.scheme, r.source) : QuantScheme::parse(r.config);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Headline metrics, in column order: what a reader looks for first.
const std::vector<MetricColumn>& headline()
{
    static const std::vector<MetricColumn> h = {
        {metricKey(task::Ppl, "ppl"), "PPL", Better::Lower, 3},
        {metricKey(task::MmluDirect, "accuracy"), "MMLU direct", Better::Higher, 4},
        {metricKey(task::MmluGenerate, "accuracy"), "MMLU generate", Better::Higher, 4},
        {metricKey(task::Throughput, "prefill_samples_per_s"), "Prefill samples/s", Better::Higher, 2},
        {metricKey(task::Throughput, "decode_tokens_per_s"), "Decode tokens/s", Better::Higher, 1},
        {metricKey(task::Matmul, "sqnr_db"), "Matmul SQNR dB", Better::Higher, 2},
        {metricKey(task::Ppl, "kl_mean"), "KL vs baseline", Better::Lower, 5},
        {metricKey(task::Ppl, "top1_agreement"), "Top-1 agreement", Better::Higher, 4},
    };
    return h;
}

int taskOrder(const std::string& t)
{
    static const char* order[] = {task::Ppl, task::MmluDirect, task::MmluGenerate, task::Throughput, task::Matmul};
    for (int i = 0; i < 5; ++i)
        if (t == order[i])
            return i;
    return 5;
}

} // namespace

std::string metricKey(const std::string& task, const std::string& metric) { return task + "." + metric; }

static std::pair<std::string, std::string> splitKey(const std::string& key)
{
    auto dot = key.find('.');
    if (dot == std::string::npos)
        return {"", key};
    return {key.substr(0, dot), key.substr(dot + 1)};
}

const ResultRecord* ConfigRow::get(const std::string& task) const
{
    // Several ok records (merged or resumed runs): the newest provenance.finished wins, ties (or
    // no timestamps) going to the later record, i.e. the later file.
    const ResultRecord* best = nullptr;
    for (const auto& r : records)
        if (r.task == task && r.ok() && (!best || !(best->provenance.finished > r.provenance.finished)))
            best = &r;
    return best;
}

std::vector<const ResultRecord*> ConfigRow::failures() const
{
    std::vector<const ResultRecord*> out;
    std::set<std::string> seen;
    for (auto it = records.rbegin(); it != records.rend(); ++it)
        if (!it->ok() && !get(it->task) && seen.insert(it->task).second)
            out.insert(out.begin(), &*it);
    return out;
}

std::string ConfigRow::status() const
{
    bool anyOk = std::any_of(records.begin(), records.end(), [](const ResultRecord& r) { return r.ok(); });
    if (!anyOk)
        return "failed";
    return failures().empty() ? "ok" : "partial";
}

std::string ConfigRow::error() const
{
    std::string e;
    for (const ResultRecord* r : failures())
        e += (e.empty() ? "" : "; ") + r->task + ": " + r->error;
    return e;
}

double ConfigRow::seconds() const
{
    double s = 0;
    for (const auto& r : records)
        s += r.provenance.seconds;
    return s;
}

double ConfigRow::value(const std::string& key) const
{
    auto [t, m] = splitKey(key);
    const ResultRecord* r = get(t);
    return r && r->has(m) ? r->metric(m) : std::nan("");
}

double ConfigRow::stderrOf(const std::string& key) const { return value(key + "_stderr"); }

std::string sourceLabel(const std::string& source)
{
    if (source.empty())
        return "this run";
    std::string src = source;
    while (src.size() > 1 && src.back() == '/')
        src.pop_back();
    const auto slash = src.find_last_of('/');
    std::string name = slash == std::string::npos ? src : src.substr(slash + 1);
    if ((name == "results.jsonl" || name == "results.json") && slash != std::string::npos && slash > 0) {
        const auto prev = src.find_last_of('/', slash - 1);
        const size_t from = prev == std::string::npos ? 0 : prev + 1;
        name = src.substr(from, slash - from);
    } else if (name.rfind("Task ", 0) == 0 && slash != std::string::npos && slash > 0) {
        // an experiment of an imported study folder (rowSource): "folder · Task 3.1"
        const auto prev = src.find_last_of('/', slash - 1);
        const size_t from = prev == std::string::npos ? 0 : prev + 1;
        name = src.substr(from, slash - from) + " · " + name;
    }
    return name;
}

std::string rowSource(const ResultRecord& r)
{
    if (r.source.empty())
        return {};
    if (r.settings.is_object() && r.settings.contains("imported_from")) {
        // One source per experiment of the folder (task_31_* and task_32_* each have their own
        // baseline): FOLDER/Task 3.1, whose label is "Task 3.1".
        const std::string dir = std::filesystem::path(r.source).parent_path().string();
        const auto e = r.settings.find("experiment");
        if (e != r.settings.end() && e->is_string() && !e->get<std::string>().empty())
            return (std::filesystem::path(dir) / e->get<std::string>()).string();
        return dir;
    }
    // A Slurm run's shard files (RUN_DIR/shard_<i>/results.jsonl, core/run/slurm.h) are one run:
    // the run folder, so a config recorded by two shards is one row (duplicates rule: newest kept).
    const std::filesystem::path p(r.source);
    const std::string dir = p.parent_path().filename().string();
    if (p.filename() == "results.jsonl" && dir.size() > 6 && dir.compare(0, 6, "shard_") == 0 &&
        dir.find_first_not_of("0123456789", 6) == std::string::npos)
        return p.parent_path().parent_path().string();
    return r.source;
}

std::string configGroup(const ResultRecord& r)
{
    QuantScheme s;
    if (parseScheme(r, s)) {
        if (s.isBaseline())
            return "Baseline";
        if (s.smoothing == Smoothing::SmoothQuant)
            return "SmoothQuant";
        return s.mode == QuantMode::Fake ? "Fake" : "Real";
    }
    std::string l = r.config;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (l.find("smooth") != std::string::npos)
        return "SmoothQuant";
    if (l.find("fake") != std::string::npos)
        return "Fake";
    if (l == "bf16" || l == "fp16" || l == "fp32" || l.find("baseline") != std::string::npos)
        return "Baseline";
    return "Real";
}

size_t addToRows(std::vector<ConfigRow>& rows, const ResultRecord& r, RowKey key)
{
    const std::string src = key == RowKey::Config ? std::string() : rowSource(r);
    for (size_t i = 0; i < rows.size(); ++i)
        if (rows[i].config == r.config && (key == RowKey::Config || rows[i].source == src)) {
            rows[i].records.push_back(r);
            return i;
        }
    ConfigRow row;
    row.config = r.config;
    row.source = src;
    row.group = configGroup(r);
    row.parsed = parseScheme(r, row.scheme);
    row.records.push_back(r);
    rows.push_back(std::move(row));
    return rows.size() - 1;
}

std::vector<ConfigRow> groupRecords(const std::vector<ResultRecord>& records, RowKey key)
{
    std::vector<ConfigRow> rows;
    for (const auto& r : records)
        addToRows(rows, r, key);
    return rows;
}

MetricColumn describeMetric(const std::string& key)
{
    for (const auto& h : headline())
        if (h.key == key)
            return h;
    auto [t, m] = splitKey(key);
    MetricColumn c;
    c.key = key;
    c.label = t.empty() ? m : t + ": " + m;
    return c;
}

std::vector<MetricColumn> metricColumns(const std::vector<ConfigRow>& rows)
{
    // (task, metric) pairs of ok records; a "_stderr" whose metric exists rides with it.
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& row : rows)
        for (const auto& r : row.records)
            if (r.ok())
                for (const auto& [m, v] : r.metrics)
                    seen.insert({r.task, m});
    std::vector<MetricColumn> out;
    for (const auto& h : headline())
        if (seen.count(splitKey(h.key)))
            out.push_back(h);
    std::vector<std::pair<std::string, std::string>> rest;
    for (const auto& [t, m] : seen) {
        const std::string k = metricKey(t, m);
        if (std::any_of(out.begin(), out.end(), [&](const MetricColumn& c) { return c.key == k; }))
            continue;
        if (endsWith(m, "_stderr") && seen.count({t, m.substr(0, m.size() - 7)}))
            continue;
        rest.push_back({t, m});
    }
    std::stable_sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) {
        int ta = taskOrder(a.first), tb = taskOrder(b.first);
        return ta != tb ? ta < tb : a < b;
    });
    for (const auto& [t, m] : rest)
        out.push_back(describeMetric(metricKey(t, m)));
    return out;
}

std::string formatMetric(double v, int digits)
{
    if (std::isnan(v))
        return "";
    char b[64];
    if (digits >= 0)
        std::snprintf(b, sizeof b, "%.*f", digits, v);
    else
        std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

Table rowsTable(const std::vector<ConfigRow>& rows)
{
    Table t;
    t.id = "rows";
    t.title = "Results per config";
    t.columns = {"config", "source", "status"};
    const auto cols = metricColumns(rows);
    std::vector<bool> withStderr;
    for (const auto& c : cols) {
        bool any = std::any_of(rows.begin(), rows.end(), [&](const ConfigRow& r) { return !std::isnan(r.stderrOf(c.key)); });
        withStderr.push_back(any);
        t.columns.push_back(c.key);
        if (any)
            t.columns.push_back(c.key + "_stderr");
    }
    t.columns.push_back("seconds");
    t.columns.push_back("error");
    t.better.assign(t.columns.size(), Better::None);
    auto num = [](double v) {
        Cell c;
        if (!std::isnan(v)) {
            char b[64];
            std::snprintf(b, sizeof b, "%.17g", v);
            c.text = b;
            c.value = v;
        }
        return c;
    };
    for (const auto& r : rows) {
        std::vector<Cell> line = {{r.config, std::nullopt, false, std::nullopt}, {r.source, std::nullopt, false, std::nullopt},
                                  {r.status(), std::nullopt, false, std::nullopt}};
        for (size_t i = 0; i < cols.size(); ++i) {
            line.push_back(num(r.value(cols[i].key)));
            if (withStderr[i])
                line.push_back(num(r.stderrOf(cols[i].key)));
        }
        line.push_back(num(r.seconds()));
        line.push_back({r.error(), std::nullopt, false, std::nullopt});
        t.rows.push_back(std::move(line));
    }
    return t;
}

} // namespace qb
