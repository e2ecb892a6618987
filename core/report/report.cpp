#include "core/report/report.h"

#include "core/quant/scheme.h"
#include "core/report/stats.h"
#include "core/results/nll_sidecar.h"
#include "core/util/json_number.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

namespace qb {
namespace {

std::string fmt(double v, int digits)
{
    if (!std::isfinite(v))
        return "n/a";
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return b;
}

std::string fmtP(double p)
{
    char b[32];
    if (p < 0.001)
        std::snprintf(b, sizeof b, "%.1e", p);
    else
        std::snprintf(b, sizeof b, "%.3f", p);
    return b;
}

std::string signedFmt(double v, int digits)
{
    if (!std::isfinite(v))
        return "n/a";
    return (v >= 0 ? "+" : "") + fmt(v, digits);
}

const char* kGroups[] = {"Baseline", "Real", "Fake", "SmoothQuant"};

using Cfg = ConfigRow;

// A metric that is there and is a number: a missing key, a string (dropped on load) or a null
// (NaN) stays missing in every table and finding, never a 0.
bool hasM(const ResultRecord* r, const char* m) { return r && r->has(m) && std::isfinite(r->metric(m)); }

// The decimals to show for `metric`: `d`, or more when the record was imported from a file that
// gave more (settings.digits, written by the importer): an imported 177.52 stays 177.52.
int shownDigits(const ResultRecord* r, const char* metric, int d)
{
    if (!r || !r->settings.is_object())
        return d;
    auto it = r->settings.find("digits");
    if (it == r->settings.end() || !it->is_object() || !it->contains(metric))
        return d;
    int file = 0;
    if (!jsonNumber((*it)[metric], file))
        return d;
    return std::max(d, std::min(file, 6));
}

std::string sweepHashOf(const ResultRecord& r)
{
    if (!r.settings.is_object())
        return {};
    auto it = r.settings.find("sweep_hash");
    return it != r.settings.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string sourceText(const ResultRecord& r)
{
    std::string s = r.source.empty() ? std::string("(no source)") : r.source;
    if (!r.provenance.finished.empty())
        s += " (finished " + r.provenance.finished + ")";
    return s;
}

// "" when both records hold the same metrics (NaN equal to NaN), else the first difference.
std::string metricDifference(const ResultRecord& a, const ResultRecord& b)
{
    std::set<std::string> keys;
    for (const auto& kv : a.metrics)
        keys.insert(kv.first);
    for (const auto& kv : b.metrics)
        keys.insert(kv.first);
    for (const auto& k : keys) {
        const double x = a.metric(k), y = b.metric(k);
        if (x == y || (std::isnan(x) && std::isnan(y)))
            continue;
        auto v = [](double z) { return std::isnan(z) ? std::string("missing") : fmt(z, 6); };
        return k + " " + v(x) + " vs " + v(y);
    }
    return {};
}

struct Sig {
    bool valid = false, significant = false;
    double p = 1, delta = 0;
    std::string text;
    std::string extra;    // detail shown after the ✱ mark (flips, CI)
    std::string refused;  // why the two records cannot be compared (protocol guard)
    bool paired = false;  // PPL: per-token paired test; MMLU: McNemar on the same questions
    double se = NAN;      // stderr of the compared quantity (ΔNLL for paired PPL, Δacc for MMLU)
    double lo = NAN, hi = NAN; // CI of delta (ΔPPL or Δacc)
    int64_t n = 0;
};

std::string taskSetting(const ResultRecord& r, const char* key)
{
    if (!r.settings.is_object() || !r.settings.contains("task") || !r.settings["task"].is_object())
        return {};
    auto it = r.settings["task"].find(key);
    return it == r.settings["task"].end() ? std::string() : it->dump();
}

} // namespace

// Protocol guard: "" when q and b measured the same thing (same model, datasets, protocol and
// question set / tokens), else the first reason they did not. Fields a record lacks (imports,
// old files) are not held against it.
std::string protocolMismatch(const ResultRecord& q, const ResultRecord& b)
{
    auto differ = [](const std::string& x, const std::string& y) { return !x.empty() && !y.empty() && x != y; };
    if (differ(q.model_config_hash, b.model_config_hash))
        return "different model (config.json sha256 " + q.model_config_hash.substr(0, 12) + " vs " +
               b.model_config_hash.substr(0, 12) + ")";
    for (const auto& dq : q.datasets)
        for (const auto& db : b.datasets)
            if (dq.role == db.role && differ(dq.sha256, db.sha256))
                return "different " + dq.role + " dataset (sha256 " + dq.sha256.substr(0, 12) + " vs " +
                       db.sha256.substr(0, 12) + ")";
    auto str = [](const ResultRecord& r, const char* k) {
        return r.settings.is_object() && r.settings.contains(k) && r.settings[k].is_string() ? r.settings[k].get<std::string>()
                                                                                            : std::string();
    };
    if (q.task == b.task && differ(str(q, "protocol"), str(b, "protocol")))
        return "different " + q.task + " protocol text";
    const std::vector<const char*> keys = q.task == task::Ppl ? std::vector<const char*>{"ctx", "max_windows"}
                                                              : std::vector<const char*>{"shots", "max_questions", "subjects"};
    for (const char* k : keys)
        if (differ(taskSetting(q, k), taskSetting(b, k)))
            return std::string("different ") + k + " (" + taskSetting(q, k) + " vs " + taskSetting(b, k) + ")";
    if (q.task == task::Ppl) {
        if (differ(str(q, "token_hash"), str(b, "token_hash")))
            return "different tokens (token hash " + str(q, "token_hash").substr(0, 12) + " vs " +
                   str(b, "token_hash").substr(0, 12) + ": other text, ctx or tokenizer)";
        if (q.has("n_tokens") && b.has("n_tokens") && q.metric("n_tokens") != b.metric("n_tokens"))
            return "different token counts (" + fmt(q.metric("n_tokens"), 0) + " vs " + fmt(b.metric("n_tokens"), 0) + ")";
    } else if (differ(q.question_set, b.question_set)) {
        return "different question set (" + q.question_set.substr(0, 12) + " vs " + b.question_set.substr(0, 12) + ")";
    }
    return {};
}



const Table* Report::table(const std::string& id) const
{
    for (const auto& t : tables)
        if (t.id == id)
            return &t;
    return nullptr;
}

std::string Report::markdown() const
{
    std::ostringstream os;
    os << "# " << title << "\n\n";
    if (!findings.empty()) {
        os << "## Key findings\n\n";
        for (const auto& f : findings)
            os << "- " << f << '\n';
        os << '\n';
    }
    if (!warnings.empty()) {
        os << "## Warnings\n\n";
        for (const auto& w : warnings)
            os << "- " << w << '\n';
        os << '\n';
    }
    for (const auto& t : tables)
        os << t.markdown() << '\n';
    return os.str();
}

std::string Report::csv() const
{
    std::ostringstream os;
    for (const auto& t : tables)
        os << "# " << t.title << '\n' << t.csv() << '\n';
    return os.str();
}

nlohmann::json Report::toJson() const
{
    nlohmann::json ts = nlohmann::json::array();
    for (const auto& t : tables)
        ts.push_back(t.toJson());
    return {{"title", title}, {"findings", findings}, {"warnings", warnings}, {"tables", ts}};
}

namespace {

// ---- significance helpers: a quantized (or "B") record against its reference (or "A").
// MMLU: McNemar on the same questions plus a paired bootstrap CI; PPL: paired per-token ΔNLL
// from the sidecars; both refuse records measured differently (protocolMismatch).
// The common start: false (s holds the delta and the refusal, if any) when there is nothing to test.
bool startSig(const ResultRecord* q, const ResultRecord* b, const char* metric, Sig& s)
{
    if (!hasM(q, metric) || !hasM(b, metric))
        return false;
    s.delta = q->metric(metric) - b->metric(metric);
    if (std::string why = protocolMismatch(*q, *b); !why.empty()) {
        s.refused = why;
        s.text = "not compared: " + why;
        return false;
    }
    return true;
}

Sig mmluSigOf(const ResultRecord* q, const ResultRecord* b, const ReportOptions& opts)
{
    Sig s;
    if (!startSig(q, b, "accuracy", s))
        return s;
    if (!q->correct.empty() && q->correct.size() == b->correct.size()) {
        McNemar m = mcnemar(b->correct, q->correct);
        s.valid = m.valid;
        s.paired = true;
        s.p = m.p;
        s.n = m.n;
        // Paired per-question differences (quant - base) in {-1, 0, 1}: stderr and a seeded bootstrap CI.
        std::vector<double> d(q->correct.size());
        for (size_t i = 0; i < d.size(); ++i)
            d[i] = double(q->correct[i] == '1') - double(b->correct[i] == '1');
        s.se = meanStderr(d).second;
        std::tie(s.lo, s.hi) = bootstrapMeanCi(d, 2000, opts.seed);
        s.text = "McNemar b=" + std::to_string(m.b) + " c=" + std::to_string(m.c) + " p=" + fmtP(m.p);
        s.extra = " (flips: " + std::to_string(m.c) + " wrong→right, " + std::to_string(m.b) +
                  " right→wrong; Δ 95% CI [" + signedFmt(s.lo * 100, 2) + ", " + signedFmt(s.hi * 100, 2) +
                  "] pp, paired bootstrap)";
    } else if (q->has("n") && b->has("n")) {
        ZTest z = twoProportions(q->metric("accuracy"), q->metric("n"), b->metric("accuracy"), b->metric("n"));
        s.valid = z.valid;
        s.p = z.p;
        s.text = "unpaired z=" + fmt(z.z, 2) + " p=" + fmtP(z.p) + " (no per-question data)";
    }
    s.significant = s.valid && s.p < opts.alpha;
    return s;
}

// Per-token NLL sidecars, read once per record.
using NllCache = std::map<const ResultRecord*, std::pair<std::vector<float>, std::string>>;
const std::pair<std::vector<float>, std::string>& nllOf(NllCache& cache, const ResultRecord* r)
{
    auto it = cache.find(r);
    if (it == cache.end()) {
        std::string why;
        std::vector<float> v = loadNllSidecar(*r, &why);
        it = cache.emplace(r, std::make_pair(std::move(v), why)).first;
    }
    return it->second;
}

Sig pplSigOf(const ResultRecord* q, const ResultRecord* b, const ReportOptions& opts, NllCache& cache)
{
    Sig s;
    if (!startSig(q, b, "ppl", s))
        return s;
    const auto& nq = nllOf(cache, q);
    const auto& nb = nllOf(cache, b);
    if (!nq.first.empty() && nq.first.size() == nb.first.size()) {
        // Paired on the same tokens: d_i = NLL_q,i - NLL_b,i. PPL_q / PPL_b = exp(mean d), so the
        // CI of ΔPPL is the normal CI of mean d mapped through PPL_b * (exp(.) - 1) (delta method
        // on the log scale; tokens treated as independent).
        Paired pd = pairedDiff(nq.first, nb.first);
        s.valid = pd.valid;
        s.paired = true;
        s.p = pd.p;
        s.se = pd.se;
        s.n = pd.n;
        const double pb = b->metric("ppl");
        s.lo = pb * (std::exp(pd.mean - 1.959964 * pd.se) - 1.0);
        s.hi = pb * (std::exp(pd.mean + 1.959964 * pd.se) - 1.0);
        s.text = "paired ΔNLL " + signedFmt(pd.mean, 5) + " ± " + fmt(pd.se, 5) + ", ratio " + fmt(std::exp(pd.mean), 4) +
                 ", ΔPPL 95% CI [" + signedFmt(s.lo, 3) + ", " + signedFmt(s.hi, 3) + "], p=" + fmtP(pd.p);
    } else if (q->has("ppl_stderr") && b->has("ppl_stderr")) {
        ZTest z = zTest(q->metric("ppl"), q->metric("ppl_stderr"), b->metric("ppl"), b->metric("ppl_stderr"));
        s.valid = z.valid;
        s.p = z.p;
        const std::string why = !nq.first.empty() && !nb.first.empty() ? std::string("token counts differ")
                                : nq.first.empty()                     ? nq.second
                                                                       : nb.second;
        s.text = "z=" + fmt(z.z, 2) + " p=" + fmtP(z.p) + " (unpaired: " + why + ")";
    }
    s.significant = s.valid && s.p < opts.alpha;
    return s;
}

} // namespace

namespace {

double jnum(const nlohmann::json& j, const char* k)
{
    auto it = j.find(k);
    return it != j.end() && it->is_number() ? it->get<double>() : NAN;
}

// Sections of the analysis tasks (docs/analysis.md): the top-10 most sensitive units of each
// analysed scheme, the recommended mixed-precision scheme against the fully quantized one, and the
// activation-outlier summary. Records without the expected details are skipped, not guessed at.
void addAnalysisTables(Report& rep, const std::vector<const ConfigRow*>& list)
{
    auto txt = [](std::string s) { return Cell{std::move(s), std::nullopt, false, std::nullopt}; };
    auto num = [](double v, int digits, bool candidate = true) {
        Cell c;
        if (std::isfinite(v)) {
            if (candidate)
                c.value = v;
            c.text = fmt(v, digits);
        } else
            c.text = "–";
        return c;
    };
    // KL spans decades (1e-7 on a large model, 1e-2 on a tiny one): significant digits, not decimals.
    auto kl = [](double v) {
        Cell c;
        if (std::isfinite(v)) {
            char b[32];
            std::snprintf(b, sizeof b, "%.4g", v);
            c.text = b;
        } else
            c.text = "–";
        return c;
    };
    const double mb = double(1 << 20);

    Table top;
    top.id = "sensitivity";
    top.title = "Per-linear sensitivity (top 10; one unit quantized, the rest in the baseline dtype)";
    top.columns = {"Scheme", "Rank", "Unit", "KLD ↓", "Δ NLL", "Same top-1 %", "SQNR dB", "Act absmax", "Act kurtosis",
                   "Outlier channels %", "Weight absmax"};
    top.better = std::vector<Better>(top.columns.size(), Better::None);
    Table mix;
    mix.id = "mixed_precision";
    mix.title = "Mixed precision: the smallest set of linears kept in the baseline dtype that meets the budget";
    mix.columns = {"Scheme", "Budget", "Kept", "Recommended scheme", "KLD all quantized", "KLD recommended",
                   "Δ PPL all quantized", "Δ PPL recommended", "Linear MB (quantized → recommended, baseline)", "Budget met"};
    mix.better = std::vector<Better>(mix.columns.size(), Better::None);
    std::string sensBasis;
    for (const ConfigRow* c : list) {
        const ResultRecord* r = c->get(task::Sensitivity);
        if (!r || !r->details.is_object() || !r->details.contains("sensitivity"))
            continue;
        const nlohmann::json& s = r->details["sensitivity"];
        if (!s.is_object() || !s.contains("units") || !s["units"].is_array())
            continue;
        std::map<std::string, const nlohmann::json*> byName;
        for (const auto& u : s["units"])
            if (u.is_object() && u.contains("name") && u["name"].is_string())
                byName[u["name"].get<std::string>()] = &u;
        int rank = 0;
        if (s.contains("ranking") && s["ranking"].is_array())
            for (const auto& n : s["ranking"]) {
                if (!n.is_string() || !byName.count(n.get<std::string>()))
                    continue;
                if (++rank > 10)
                    break;
                const nlohmann::json& u = *byName[n.get<std::string>()];
                const double sq = jnum(u, "sqnr_db");
                top.rows.push_back({txt(c->config), txt(std::to_string(rank)), txt(n.get<std::string>()),
                                    kl(jnum(u, "kl")), kl(jnum(u, "dnll")),
                                    num(jnum(u, "top1") * 100.0, 2, false),
                                    sq >= 999.0 ? txt("exact") : num(sq, 1, false), num(jnum(u, "x_absmax"), 3, false),
                                    num(jnum(u, "x_kurtosis"), 1, false), num(jnum(u, "x_outlier_frac") * 100.0, 2, false),
                                    num(jnum(u, "w_absmax"), 4, false)});
            }
        if (sensBasis.empty())
            sensBasis = std::string(s.value("mode", "linear") == "layer" ? "one decoder layer" : "one linear") +
                        " at a time, " + std::to_string(s.value("windows", 0)) + " calibration windows × " +
                        std::to_string(s.value("len", 0)) + " tokens";
        const nlohmann::json rec = s.value("recommended", nlohmann::json::object());
        const nlohmann::json bud = s.value("budget", nlohmann::json::object());
        const nlohmann::json* full = nullptr;
        if (s.contains("curve") && s["curve"].is_array())
            for (const auto& p : s["curve"])
                if (p.is_object() && p.value("k", -1) == 0)
                    full = &p;
        auto g = [](double v) {
            char b[32];
            std::snprintf(b, sizeof b, "%g", v);
            return std::string(b);
        };
        std::string budget;
        if (jnum(bud, "kl") >= 0)
            budget = "KLD ≤ " + g(jnum(bud, "kl"));
        if (jnum(bud, "dppl") >= 0)
            budget += (budget.empty() ? "" : ", ") + std::string("Δ PPL ≤ ") + g(jnum(bud, "dppl"));
        const double n = double(s["units"].size());
        const double qMb = full ? jnum(*full, "linear_bytes") / mb : NAN;
        const double rMb = jnum(rec, "linear_bytes") / mb;
        const double bMb = jnum(s, "baseline_linear_bytes") / mb;
        mix.rows.push_back({txt(c->config), txt(budget.empty() ? "–" : budget),
                            txt(fmt(jnum(rec, "k"), 0) + " of " + fmt(n, 0) +
                                (s.value("mode", "linear") == "layer" ? " layers" : " linears")),
                            txt(rec.value("scheme", std::string("–"))), kl(full ? jnum(*full, "kl") : NAN),
                            kl(jnum(rec, "kl")), kl(full ? jnum(*full, "dppl") : NAN), kl(jnum(rec, "dppl")),
                            txt(fmt(qMb, 3) + " → " + fmt(rMb, 3) + " (" + fmt(bMb, 3) + ")"),
                            txt(rec.value("met", false) ? "yes" : "no (nothing measured meets it)")});
    }
    if (!top.rows.empty()) {
        top.notes.push_back("KLD = mean KL(baseline ‖ model with only this unit quantized) per token, in nats; Δ NLL in "
                            "nats per token; SQNR of the unit's matmul on captured calibration activations; outlier "
                            "channels = input channels whose absmax exceeds 6σ of all the unit's input activations. Measured " +
                            sensBasis + ".");
        rep.tables.push_back(top);
    }
    if (!mix.rows.empty()) {
        mix.notes.push_back("Every point is measured (the curve in the record holds k = 0, 1, 2, 4, … and the bisection "
                            "steps); the recommended scheme's name parses back and runs in a sweep like any other.");
        rep.tables.push_back(mix);
    }

    Table out;
    out.id = "outliers";
    out.title = "Activation outliers (calibration pass): max/median of the per-channel absmax";
    out.columns = {"Scheme", "Worst layer", "Worst ratio", "Median ratio", "Smoothed inputs: worst ratio",
                   "… after smoothing"};
    out.better = std::vector<Better>(out.columns.size(), Better::None);
    for (const ConfigRow* c : list)
        if (const ResultRecord* r = c->get(task::Outliers))
            out.rows.push_back({txt(c->config), num(hasM(r, "worst_layer") ? r->metric("worst_layer") : NAN, 0, false),
                                num(hasM(r, "act_ratio_max") ? r->metric("act_ratio_max") : NAN, 1, false),
                                num(hasM(r, "act_ratio_median") ? r->metric("act_ratio_median") : NAN, 1, false),
                                num(hasM(r, "act_ratio_max_smoothable") ? r->metric("act_ratio_max_smoothable") : NAN, 1, false),
                                num(hasM(r, "act_ratio_max_smoothed") ? r->metric("act_ratio_max_smoothed") : NAN, 1, false)});
    out.notes.push_back("Ratio = max / median over input channels of the per-channel max |x| of a linear's input "
                        "(all layers and inputs: attn, o, mlp, down). Smoothed inputs = attn (q/k/v) and mlp "
                        "(gate/up), the ones SmoothQuant divides by s; o and down keep theirs.");
    if (!out.rows.empty())
        rep.tables.push_back(out);
}

std::string experimentOf(const ResultRecord& r)
{
    if (!r.settings.is_object())
        return {};
    auto it = r.settings.find("experiment");
    return it != r.settings.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Records of several experiments (a study folder: task_31_*, task_32_*, ... each with its own
// baseline and question counts): one report per experiment, its tables, findings and warnings
// prefixed with the experiment's name, then the MMLU accuracy of every config in every
// experiment side by side (one column pair per experiment), never merged into one row.
Report buildReportPerExperiment(const std::vector<std::string>& order,
                                const std::map<std::string, std::vector<ResultRecord>>& byExp, const ReportOptions& opts)
{
    Report rep;
    rep.title = opts.title;
    rep.warnings.push_back("These results come from " + std::to_string(order.size()) +
                           " experiments; each has its own section and baseline, and their numbers are never merged.");
    for (const auto& e : order) {
        const std::string name = e.empty() ? std::string("Other results") : e;
        Report sub = buildReport(byExp.at(e), opts);
        for (auto& f : sub.findings)
            rep.findings.push_back(name + ": " + f);
        for (auto& w : sub.warnings)
            rep.warnings.push_back(name + ": " + w);
        for (auto& t : sub.tables) {
            t.id = name + "/" + t.id;
            t.title = name + ": " + t.title;
            rep.tables.push_back(std::move(t));
        }
    }
    Table x;
    x.id = "mmlu_by_experiment";
    x.title = "MMLU accuracy (%) per experiment";
    x.columns = {"Config"};
    x.better = {Better::None};
    std::vector<std::string> configs;
    struct Acc {
        double value, n;
        int digits;
    };
    std::map<std::pair<std::string, std::string>, Acc> acc; // (exp|task, config)
    std::vector<std::string> cols; // "exp\ttask"
    for (const auto& e : order) {
        const std::vector<ConfigRow> rows = groupRecords(byExp.at(e), RowKey::Config);
        for (const char* t : {task::MmluDirect, task::MmluGenerate}) {
            bool any = false;
            for (const auto& c : rows)
                if (const ResultRecord* r = c.get(t); r && hasM(r, "accuracy")) {
                    acc[{e + "\t" + t, c.config}] = {r->metric("accuracy") * 100.0, r->has("n") ? r->metric("n") : NAN,
                                                     shownDigits(r, "accuracy", 2)};
                    any = true;
                    if (std::find(configs.begin(), configs.end(), c.config) == configs.end())
                        configs.push_back(c.config);
                }
            if (!any)
                continue;
            cols.push_back(e + "\t" + t);
            x.columns.push_back((e.empty() ? std::string("Other") : e) + (t == std::string(task::MmluDirect) ? " direct" : " generate"));
            x.better.push_back(Better::Higher);
        }
    }
    if (cols.size() < 2)
        return rep;
    for (const auto& c : configs) {
        std::vector<Cell> row{{c}};
        for (const auto& col : cols) {
            Cell cell{"–"};
            if (auto it = acc.find({col, c}); it != acc.end()) {
                cell.value = it->second.value;
                cell.text = fmt(it->second.value, it->second.digits);
                if (std::isfinite(it->second.n))
                    cell.text += " (n " + fmt(it->second.n, 0) + ")";
            }
            row.push_back(cell);
        }
        x.rows.push_back(std::move(row));
    }
    x.markBest();
    x.notes.push_back("Each experiment measured on its own question set and count (n): compare within a column pair, "
                      "across experiments only with that in mind.");
    rep.tables.push_back(std::move(x));
    return rep;
}

} // namespace

Report buildReport(const std::vector<ResultRecord>& records, const ReportOptions& opts)
{
    {
        std::vector<std::string> order;
        std::map<std::string, std::vector<ResultRecord>> byExp;
        for (const auto& r : records) {
            const std::string e = experimentOf(r);
            auto [it, fresh] = byExp.try_emplace(e);
            if (fresh)
                order.push_back(e);
            it->second.push_back(r);
        }
        if (order.size() > 1)
            return buildReportPerExperiment(order, byExp, opts);
    }
    Report rep;
    rep.title = opts.title;
    // One row per config (RowKey::Config): the grouping the window's table and the CSV use too.
    // Protocol groups: records of runs resumed with a changed sweep file carry different sweep
    // hashes; when there is more than one, each config is shown once per group, never merged.
    std::set<std::string> hashes;
    for (const auto& r : records)
        if (const std::string h = sweepHashOf(r); !h.empty())
            hashes.insert(h);
    std::vector<ResultRecord> keyed;
    if (hashes.size() > 1) {
        std::string list;
        for (const auto& h : hashes)
            list += (list.empty() ? "" : ", ") + h.substr(0, 12);
        rep.warnings.push_back("These results come from " + std::to_string(hashes.size()) +
                               " different sweep files (protocol groups " + list +
                               "); each config is listed once per group and groups are not merged.");
        keyed = records;
        for (auto& r : keyed)
            if (const std::string h = sweepHashOf(r); !h.empty())
                r.config += " [sweep " + h.substr(0, 12) + "]";
    }
    const std::vector<Cfg> rows = groupRecords(keyed.empty() ? records : keyed, RowKey::Config);
    std::map<std::string, const Cfg*> cfgs;
    std::vector<const ResultRecord*> failed;
    for (const auto& c : rows) {
        cfgs[c.config] = &c;
        for (const auto& r : c.records)
            if (!r.ok())
                failed.push_back(&r);
        // Two ok records for one config x task: ConfigRow::get() keeps the newest
        // provenance.finished (ties: the later file); said aloud when their values differ.
        std::set<std::string> tasks;
        for (const auto& r : c.records)
            if (r.ok())
                tasks.insert(r.task);
        for (const auto& t : tasks) {
            const ResultRecord* win = c.get(t);
            for (const auto& r : c.records) {
                if (!r.ok() || r.task != t || &r == win)
                    continue;
                if (const std::string d = metricDifference(r, *win); !d.empty())
                    rep.warnings.push_back("Conflicting results for " + c.config + " × " + t + ": " + sourceText(r) +
                                           " and " + sourceText(*win) + " differ (" + d + "); using " + sourceText(*win) +
                                           " (rule: newest finished timestamp, ties: the later file).");
            }
        }
    }
    // Stable display order: group, then first appearance.
    std::vector<const Cfg*> list;
    for (const auto& c : rows)
        list.push_back(&c);
    auto groupIdx = [](const std::string& g) {
        for (int i = 0; i < 4; ++i)
            if (g == kGroups[i])
                return i;
        return 4;
    };
    std::stable_sort(list.begin(), list.end(),
                     [&](const Cfg* a, const Cfg* b) { return groupIdx(a->group) < groupIdx(b->group); });
    const Cfg* base = nullptr;
    for (const Cfg* c : list)
        if (c->group == "Baseline") {
            base = c;
            break;
        }

    // ---- significance helpers (free functions above, bound to this report's options)
    NllCache nllCache;
    auto mmluSig = [&](const ResultRecord* q, const ResultRecord* b) { return mmluSigOf(q, b, opts); };
    auto pplSig = [&](const ResultRecord* q, const ResultRecord* b) { return pplSigOf(q, b, opts, nllCache); };
    auto pct = [](const ResultRecord* r, const char* m) { return hasM(r, m) ? r->metric(m) * 100.0 : NAN; };
    auto accCell = [&](const ResultRecord* r) {
        Cell c;
        if (!hasM(r, "accuracy")) {
            c.text = "–";
            return c;
        }
        c.value = r->metric("accuracy") * 100.0;
        c.text = fmt(*c.value, shownDigits(r, "accuracy", 2));
        if (r->has("accuracy_stderr")) {
            c.err = r->metric("accuracy_stderr") * 100.0;
            c.text += " ± " + fmt(*c.err, 2);
        }
        return c;
    };
    auto pplCell = [&](const ResultRecord* r) {
        Cell c;
        if (!hasM(r, "ppl")) {
            c.text = "–";
            return c;
        }
        c.value = r->metric("ppl");
        c.text = fmt(*c.value, shownDigits(r, "ppl", 3));
        if (r->has("ppl_stderr")) {
            c.err = r->metric("ppl_stderr");
            c.text += " ± " + fmt(*c.err, 3);
        }
        return c;
    };
    auto txt = [](std::string s) { return Cell{std::move(s), std::nullopt, false, std::nullopt}; };
    auto num = [](double v, int digits) {
        Cell c;
        if (std::isfinite(v)) {
            c.value = v;
            c.text = fmt(v, digits);
        } else
            c.text = "–";
        return c;
    };

    // ---- accuracy
    Table acc;
    acc.id = "accuracy";
    acc.title = "Accuracy";
    acc.columns = {"Group", "Config", "PPL ↓", "Δ PPL", "MMLU direct % ↑", "Δ pp", "MMLU generate % ↑", "Δ pp",
                   "Unparseable", "vs baseline"};
    acc.better = {Better::None, Better::None, Better::Lower, Better::None, Better::Higher, Better::None, Better::Higher,
                  Better::None, Better::None, Better::None};
    const ResultRecord* bPpl = base ? base->get(task::Ppl) : nullptr;
    const ResultRecord* bDir = base ? base->get(task::MmluDirect) : nullptr;
    const ResultRecord* bGen = base ? base->get(task::MmluGenerate) : nullptr;
    struct Verdict {
        const Cfg* c;
        Sig ppl, dir, gen;
    };
    std::vector<Verdict> verdicts;
    for (const Cfg* c : list) {
        const ResultRecord* p = c->get(task::Ppl);
        const ResultRecord* d = c->get(task::MmluDirect);
        const ResultRecord* g = c->get(task::MmluGenerate);
        if (!p && !d && !g)
            continue;
        bool isBase = c == base;
        Verdict v{c, isBase ? Sig{} : pplSig(p, bPpl), isBase ? Sig{} : mmluSig(d, bDir), isBase ? Sig{} : mmluSig(g, bGen)};
        std::vector<std::string> sig;
        if (v.ppl.valid || !v.ppl.refused.empty())
            sig.push_back("PPL " + v.ppl.text + (v.ppl.significant ? " ✱" : ""));
        if (v.dir.valid || !v.dir.refused.empty())
            sig.push_back("direct " + v.dir.text + (v.dir.significant ? " ✱" : "") + v.dir.extra);
        if (v.gen.valid || !v.gen.refused.empty())
            sig.push_back("generate " + v.gen.text + (v.gen.significant ? " ✱" : "") + v.gen.extra);
        std::string sigText;
        for (size_t i = 0; i < sig.size(); ++i)
            sigText += (i ? "; " : "") + sig[i];
        std::string unp = "–";
        if (g && g->has("unparseable"))
            unp = fmt(g->metric("unparseable"), 0) + (g->has("n") ? " / " + fmt(g->metric("n"), 0) : "");
        acc.rows.push_back({txt(c->group), txt(c->config), pplCell(p),
                            txt(!isBase && hasM(p, "ppl") && hasM(bPpl, "ppl")
                                    ? signedFmt(p->metric("ppl") - bPpl->metric("ppl"), 3) +
                                          (v.ppl.paired ? " [" + signedFmt(v.ppl.lo, 3) + ", " + signedFmt(v.ppl.hi, 3) + "]" : "") +
                                          (v.ppl.significant ? " ✱" : "")
                                    : "–"),
                            accCell(d),
                            txt(!isBase && d && bDir && d->has("accuracy") && bDir->has("accuracy")
                                    ? signedFmt(pct(d, "accuracy") - pct(bDir, "accuracy"), 2)
                                    : "–"),
                            accCell(g),
                            txt(!isBase && g && bGen && g->has("accuracy") && bGen->has("accuracy")
                                    ? signedFmt(pct(g, "accuracy") - pct(bGen, "accuracy"), 2)
                                    : "–"),
                            txt(unp), txt(isBase ? "reference" : (sigText.empty() ? "–" : sigText))});
        if (!isBase)
            verdicts.push_back(v);
        for (const Sig* x : {&v.ppl, &v.dir, &v.gen})
            if (!x->refused.empty())
                rep.warnings.push_back("Not compared with the baseline: " + c->config + " (" + x->refused +
                                       "); the two results are not measurements of the same thing.");
    }
    acc.markBest();
    acc.notes.push_back("✱ = difference vs the baseline beyond noise at α = " + fmt(opts.alpha, 2) +
                        " (MMLU: paired McNemar on per-question correctness, exact binomial below 25 discordant "
                        "questions, flips and a seeded paired bootstrap CI of the difference; PPL: paired test on "
                        "per-token NLL differences over the same tokens, ΔPPL CI by the delta method on the log "
                        "scale; records without per-token NLL fall back to the unpaired z on the two standard "
                        "errors, said so in the row). Pairs measured under different protocols are not compared.");
    if (!acc.rows.empty())
        rep.tables.push_back(acc);

    // ---- MMLU direct per subject (subjects with at least 10 questions in the baseline)
    if (hasM(bDir, "accuracy") && bDir->details.is_object() && bDir->details.contains("mmlu") &&
        bDir->details["mmlu"].contains("per_subject")) {
        Table st;
        st.id = "mmlu_subjects";
        st.title = "MMLU direct per subject (n ≥ 10)";
        st.columns = {"Subject", "n", "Baseline % ↑", "Quantized configs", "Mean Δ pp", "Worst config", "Worst Δ pp"};
        st.better = std::vector<Better>(st.columns.size(), Better::None);
        const auto& bs = bDir->details["mmlu"]["per_subject"];
        for (auto it = bs.begin(); it != bs.end(); ++it) {
            const double n = it.value().value("n", 0.0), acc = it.value().value("accuracy", NAN);
            if (n < 10 || !std::isfinite(acc))
                continue;
            double sum = 0, worst = INFINITY;
            int k = 0;
            std::string worstName = "–";
            for (const Cfg* c : list) {
                const ResultRecord* d = c->get(task::MmluDirect);
                if (c == base || !d || !d->details.is_object() || !d->details.contains("mmlu") ||
                    !protocolMismatch(*d, *bDir).empty())
                    continue;
                const auto& ps = d->details["mmlu"].value("per_subject", nlohmann::json::object());
                if (!ps.contains(it.key()) || ps[it.key()].value("n", 0.0) != n)
                    continue;
                const double delta = (ps[it.key()].value("accuracy", NAN) - acc) * 100.0;
                if (!std::isfinite(delta))
                    continue;
                sum += delta;
                ++k;
                if (delta < worst) {
                    worst = delta;
                    worstName = c->config;
                }
            }
            Cell b = num(acc * 100.0, 2);
            b.err = std::sqrt(acc * (1 - acc) / n) * 100.0;
            b.text += " ± " + fmt(*b.err, 2);
            st.rows.push_back({txt(it.key()), num(n, 0), b, num(double(k), 0), num(k ? sum / k : NAN, 2), txt(worstName),
                               num(k ? worst : NAN, 2)});
        }
        st.notes.push_back("Per-subject differences are unpaired and small-n; use them to find where a scheme hurts, "
                           "not as findings.");
        if (!st.rows.empty())
            rep.tables.push_back(st);
    }

    // ---- KL divergence vs the baseline (the headline fidelity number)
    Table klt;
    klt.id = "kl";
    klt.title = "KL divergence vs the baseline (same tokens)";
    klt.columns = {"Group", "Config", "KLD mean ↓", "KLD median", "KLD p90", "KLD p99", "KLD p99.9", "KLD max",
                   "Δp mean", "Δp RMS ↓", "Δp p1", "Δp p99", "Same top-1 % ↑", "Tokens"};
    klt.better = {Better::None, Better::None, Better::Lower, Better::None, Better::None, Better::None, Better::None,
                  Better::None, Better::None, Better::Lower, Better::None, Better::None, Better::Higher, Better::None};
    std::string klBasis;
    for (const Cfg* c : list) {
        const ResultRecord* p = c->get(task::Ppl);
        if (!hasM(p, "kl_mean"))
            continue;
        auto m = [&](const char* k) { return hasM(p, k) ? p->metric(k) : NAN; };
        auto pm = [&](const char* k, const char* e, int digits, double scale = 1.0) {
            Cell x = num(m(k) * scale, digits);
            if (std::isfinite(m(e))) {
                x.err = m(e) * scale;
                x.text += " ± " + fmt(*x.err, digits);
            }
            return x;
        };
        klt.rows.push_back({txt(c->group), txt(c->config), pm("kl_mean", "kl_mean_stderr", 6), num(m("kl_median"), 6),
                            num(m("kl_p90"), 6), num(m("kl_p99"), 6), num(m("kl_p999"), 6), num(m("kl_max"), 6),
                            pm("dp_mean", "dp_mean_stderr", 5, 100.0), num(m("dp_rms") * 100.0, 4), num(m("dp_p1") * 100.0, 4),
                            num(m("dp_p99") * 100.0, 4), pm("top1_agreement", "top1_agreement_stderr", 2, 100.0),
                            num(p->details.is_object() && p->details.contains("kl") ? p->details["kl"].value("tokens", 0.0) : NAN, 0)});
        if (klBasis.empty() && p->details.is_object() && p->details.contains("kl"))
            klBasis = p->details["kl"].value("baseline_logprobs",
                                             p->details["kl"].value("exact", false) ? std::string("exact over the full vocabulary")
                                                                                    : std::string("top-k log-probs + one tail bucket"));
    }
    klt.markBest();
    klt.notes.push_back("KLD = KL(baseline ‖ quantized) per predicted token in nats; Δp = p_quant − p_base of the "
                        "correct token, in percentage points; percentiles by nearest rank; ± = standard error over "
                        "tokens. Baseline log-probs: " +
                        (klBasis.empty() ? std::string("not recorded") : klBasis) + ".");
    if (!klt.rows.empty())
        rep.tables.push_back(klt);

    // ---- throughput
    Table thr;
    thr.id = "throughput";
    thr.title = "Throughput";
    thr.columns = {"Group", "Config", "MMLU questions/s ↑", "Prefill samples/s ↑", "Decode tokens/s ↑",
                   "Peak memory MB ↓", "Weights MB ↓"};
    thr.better = {Better::None, Better::None, Better::Higher, Better::Higher, Better::Higher, Better::Lower, Better::Lower};
    for (const Cfg* c : list) {
        const ResultRecord* t = c->get(task::Throughput);
        const ResultRecord* d = c->get(task::MmluDirect);
        if (!t && !(d && d->has("questions_per_s")))
            continue;
        double mq = t && t->has("mmlu_questions_per_s") ? t->metric("mmlu_questions_per_s")
                    : d && d->has("questions_per_s")   ? d->metric("questions_per_s")
                                                       : NAN;
        auto m = [&](const char* k) { return t && t->has(k) ? t->metric(k) : NAN; };
        double mem = m("peak_memory_mb");
        if (!std::isfinite(mem) && t && t->has("peak_memory_gb"))
            mem = t->metric("peak_memory_gb") * 1024.0;
        double w = m("weight_bytes");
        // Spread of the repeats (min–max around the median), from the record's details.
        auto spread = [&](const char* k, int digits) {
            digits = shownDigits(t, k, digits);
            Cell x = num(m(k), digits);
            if (x.value && t && t->details.is_object() && t->details.contains("throughput") &&
                t->details["throughput"].contains(k) && t->details["throughput"][k].is_object()) {
                const auto& d = t->details["throughput"][k];
                double lo = NAN, hi = NAN; // a hand-edited file may hold anything here
                if (d.contains("min") && !jsonNumber(d["min"], lo))
                    lo = NAN;
                if (d.contains("max") && !jsonNumber(d["max"], hi))
                    hi = NAN;
                if (std::isfinite(lo) && std::isfinite(hi) && hi > lo) {
                    x.err = (hi - lo) / 2.0;
                    x.text += " (" + fmt(lo, digits) + "–" + fmt(hi, digits) + ")";
                }
            }
            return x;
        };
        thr.rows.push_back({txt(c->group), txt(c->config), num(mq, 2), spread("prefill_samples_per_s", 2),
                            spread("decode_tokens_per_s", 1), num(mem, 1), num(w / (1024.0 * 1024.0), 2)});
    }
    thr.markBest();
    thr.notes.push_back("Prefill: batch of prompts of a set length; decode: KV cache, median of repeats after warm-up "
                        "(min–max of the repeats in brackets; CSV: half the range in the ± column; settings in each record).");
    if (!thr.rows.empty())
        rep.tables.push_back(thr);

    // ---- SmoothQuant
    Table sq;
    sq.id = "smoothquant";
    sq.title = "SmoothQuant";
    sq.columns = {"Config", "α", "PPL ↓", "Δ PPL", "KLD ↓", "MMLU direct % ↑", "Δ pp", "vs W8A8 without smoothing"};
    sq.better = {Better::None, Better::None, Better::Lower, Better::None, Better::Lower, Better::Higher, Better::None, Better::None};
    // Best α per smoothed scheme family (the name without α): lowest KLD, else lowest PPL.
    std::map<std::string, std::pair<double, std::string>> bestAlpha;
    for (const Cfg* c : list) {
        if (c->group != "SmoothQuant")
            continue;
        const ResultRecord* p = c->get(task::Ppl);
        const ResultRecord* d = c->get(task::MmluDirect);
        std::string plain = "–";
        if (c->parsed) {
            QuantScheme w = c->scheme;
            w.smoothing = Smoothing::None;
            auto it = cfgs.find(w.name());
            if (it != cfgs.end()) {
                const ResultRecord* wp = it->second->get(task::Ppl);
                const ResultRecord* wd = it->second->get(task::MmluDirect);
                std::string s = w.name() + ":";
                if (hasM(p, "ppl") && hasM(wp, "ppl"))
                    s += " PPL " + signedFmt(p->metric("ppl") - wp->metric("ppl"), 3);
                if (hasM(d, "accuracy") && hasM(wd, "accuracy")) {
                    Sig g = mmluSig(d, wd);
                    s += " MMLU " + signedFmt(pct(d, "accuracy") - pct(wd, "accuracy"), 2) + " pp" +
                         (g.valid ? " (p=" + fmtP(g.p) + ")" : "");
                }
                plain = s;
            }
        }
        if (c->parsed) {
            QuantScheme fam = c->scheme;
            fam.alpha = 0.5;
            const double score = hasM(p, "kl_mean") ? p->metric("kl_mean") : hasM(p, "ppl") ? 1e6 + p->metric("ppl") : NAN;
            auto& b = bestAlpha.try_emplace(fam.name(), std::make_pair(INFINITY, std::string())).first->second;
            if (std::isfinite(score) && score < b.first)
                b = {score, c->config + " (α = " + fmt(c->scheme.alpha, 2) + ")"};
        }
        sq.rows.push_back({txt(c->config), txt(c->parsed ? fmt(c->scheme.alpha, 2) : "–"), pplCell(p),
                           txt(hasM(p, "ppl") && hasM(bPpl, "ppl") ? signedFmt(p->metric("ppl") - bPpl->metric("ppl"), 3) : "–"),
                           num(hasM(p, "kl_mean") ? p->metric("kl_mean") : NAN, 6), accCell(d),
                           txt(hasM(d, "accuracy") && hasM(bDir, "accuracy") ? signedFmt(pct(d, "accuracy") - pct(bDir, "accuracy"), 2) : "–"), txt(plain)});
    }
    sq.markBest();
    for (const auto& [fam, b] : bestAlpha)
        if (!b.second.empty() && sq.rows.size() > 1)
            sq.notes.push_back("Best α for " + fam + ": " + b.second + " by " +
                               (b.first < 1e6 ? "KLD " + fmt(b.first, 6) : "PPL " + fmt(b.first - 1e6, 3)) + ".");
    if (!sq.rows.empty())
        rep.tables.push_back(sq);

    addAnalysisTables(rep, list);

    // ---- cross-comparison: real vs fake of the same scheme
    Table cross;
    cross.id = "cross";
    cross.title = "Cross-comparison: real vs fake quantization";
    cross.columns = {"Scheme", "PPL real", "PPL fake", "Δ PPL", "MMLU real %", "MMLU fake %", "Agreement"};
    cross.better = std::vector<Better>(cross.columns.size(), Better::None);
    for (const Cfg* c : list) {
        if (!c->parsed || c->scheme.isBaseline() || c->scheme.mode != QuantMode::Real)
            continue;
        QuantScheme f = c->scheme;
        f.mode = QuantMode::Fake;
        auto it = cfgs.find(f.name());
        if (it == cfgs.end())
            continue;
        const Cfg& fk = *it->second;
        const ResultRecord *rp = c->get(task::Ppl), *fp = fk.get(task::Ppl);
        const ResultRecord *rd = c->get(task::MmluDirect), *fd = fk.get(task::MmluDirect);
        std::string agree = "–";
        if (rd && fd && !rd->correct.empty() && rd->correct.size() == fd->correct.size()) {
            McNemar m = mcnemar(rd->correct, fd->correct);
            agree = std::to_string(m.n - m.b - m.c) + "/" + std::to_string(m.n) + " same correctness, p=" + fmtP(m.p);
        }
        cross.rows.push_back({txt(c->config), pplCell(rp), pplCell(fp),
                              txt(hasM(rp, "ppl") && hasM(fp, "ppl") ? signedFmt(rp->metric("ppl") - fp->metric("ppl"), 4) : "–"), accCell(rd),
                              accCell(fd), txt(agree)});
    }
    if (!cross.rows.empty())
        rep.tables.push_back(cross);

    // ---- INT8 vs FP8 per scenario
    Table vs;
    vs.id = "int8_vs_fp8";
    vs.title = "INT8 vs FP8 per scenario";
    vs.columns = {"Scenario", "INT8 PPL", "FP8 PPL", "INT8 MMLU %", "FP8 MMLU %", "Recommendation"};
    vs.better = std::vector<Better>(vs.columns.size(), Better::None);
    std::map<std::string, std::pair<const Cfg*, const Cfg*>> scen;
    std::vector<std::string> scenOrder;
    for (const Cfg* c : list) {
        if (!c->parsed || c->scheme.isBaseline())
            continue;
        QuantScheme s = c->scheme;
        bool int8 = s.dtype == QDType::INT8;
        s.dtype = QDType::INT8;
        s.int8_divisor = 127.0;
        std::string key = s.name();
        key.replace(key.find("INT8"), 4, "{dt}");
        if (!scen.count(key))
            scenOrder.push_back(key);
        (int8 ? scen[key].first : scen[key].second) = c;
    }
    for (const auto& key : scenOrder) {
        auto [i8, f8] = scen[key];
        if (!i8 || !f8)
            continue;
        const ResultRecord *ip = i8->get(task::Ppl), *fp = f8->get(task::Ppl);
        const ResultRecord *id = i8->get(task::MmluDirect), *fd = f8->get(task::MmluDirect);
        std::string rec;
        Sig m = mmluSig(id, fd); // INT8 vs FP8, paired
        Sig p = pplSig(ip, fp);
        if (m.significant)
            rec = std::string(m.delta > 0 ? "INT8" : "FP8") + " (MMLU " + m.text + ")";
        else if (p.significant)
            rec = std::string(p.delta < 0 ? "INT8" : "FP8") + " (PPL " + p.text + ")";
        else if (m.valid || p.valid) {
            // Written from the numbers: what was measured, and what the device the records ran on has.
            rec = "Either: difference within noise (";
            if (p.valid)
                rec += "PPL INT8 − FP8 " + signedFmt(p.delta, 3) + ", " + (p.paired ? "paired " : "unpaired ") + "p=" + fmtP(p.p);
            if (m.valid)
                rec += std::string(p.valid ? "; " : "") + "MMLU " + signedFmt(m.delta * 100, 2) + " pp, p=" + fmtP(m.p);
            rec += ")";
            const ResultRecord* any = ip ? ip : id;
            const std::string dev = any ? any->provenance.device : std::string();
            if (!dev.empty())
                rec += "; measured on " + dev + ", pick by speed there (throughput table)";
        }
        else
            rec = "not enough data";
        std::string label = key;
        label.replace(label.find("{dt}"), 4, "");
        if (!label.empty() && label[0] == '_')
            label.erase(0, 1);
        if (label.rfind("SmoothQuant__", 0) == 0)
            label = "SmoothQuant_" + label.substr(13);
        vs.rows.push_back({txt(label.empty() ? key : label), pplCell(ip), pplCell(fp), accCell(id), accCell(fd), txt(rec)});
    }
    if (!vs.rows.empty())
        rep.tables.push_back(vs);

    // ---- matmul accuracy
    Table mm;
    mm.id = "matmul";
    mm.title = "Matmul accuracy (quantized GEMM vs float reference, model layers, real activations)";
    mm.columns = {"Group", "Config", "SQNR dB ↑", "Worst layer SQNR dB ↑", "Rel. error ↓", "Cosine ↑", "Max abs error ↓"};
    mm.better = {Better::None, Better::None, Better::Higher, Better::Higher, Better::Lower, Better::Higher, Better::Lower};
    // Imported files may carry a mean absolute error (we measure the others): its column then.
    bool meanAbs = false;
    for (const Cfg* c : list)
        if (const ResultRecord* r = c->get(task::Matmul); r && r->has("mean_abs_error"))
            meanAbs = true;
    if (meanAbs) {
        mm.columns.push_back("Mean abs error ↓");
        mm.better.push_back(Better::Lower);
    }
    for (const Cfg* c : list) {
        const ResultRecord* r = c->get(task::Matmul);
        if (!r)
            continue;
        auto m = [&](const char* k) { return r->has(k) ? r->metric(k) : NAN; };
        auto d = [&](const char* k, int digits) { return num(m(k), shownDigits(r, k, digits)); };
        mm.rows.push_back({txt(c->group), txt(c->config), d("sqnr_db", 2), d("sqnr_db_min", 2), d("rel_fro_error", 5),
                           d("cosine", 6), d("max_abs_error", 5)});
        if (meanAbs)
            mm.rows.back().push_back(d("mean_abs_error", 5));
    }
    mm.markBest();
    if (!mm.rows.empty())
        rep.tables.push_back(mm);

    // ---- failures
    if (!failed.empty()) {
        Table f;
        f.id = "failed";
        f.title = "Failed evaluations";
        f.columns = {"Config", "Task", "Reason"};
        f.better = std::vector<Better>(3, Better::None);
        for (const auto* r : failed) {
            if (cfgs[r->config]->get(r->task))
                continue; // a later run succeeded
            f.rows.push_back({txt(r->config), txt(r->task), txt(r->error)});
        }
        if (!f.rows.empty())
            rep.tables.push_back(f);
    }

    // ---- key findings
    auto& F = rep.findings;
    if (!base) {
        F.push_back("No baseline in these results: deltas and significance tests are not available.");
    } else {
        std::vector<std::string> parts;
        if (hasM(bPpl, "ppl"))
            parts.push_back("PPL " + fmt(bPpl->metric("ppl"), shownDigits(bPpl, "ppl", 3)));
        if (hasM(bDir, "accuracy"))
            parts.push_back("MMLU direct " + fmt(pct(bDir, "accuracy"), shownDigits(bDir, "accuracy", 2)) + "%" +
                            (hasM(bDir, "n") ? " (n=" + fmt(bDir->metric("n"), 0) + ")" : std::string()));
        if (hasM(bGen, "accuracy"))
            parts.push_back("MMLU generate " + fmt(pct(bGen, "accuracy"), shownDigits(bGen, "accuracy", 2)) + "%");
        std::string b = "Baseline " + base->config + (parts.empty() ? std::string(": no metrics") : ":");
        for (size_t i = 0; i < parts.size(); ++i)
            b += (i ? ", " : " ") + parts[i];
        F.push_back(b + ".");
    }
    for (const char* g : {"Real", "Fake", "SmoothQuant"}) {
        const Verdict* best = nullptr;
        for (const auto& v : verdicts) {
            if (v.c->group != g)
                continue;
            auto score = [&](const Verdict& x) {
                const ResultRecord* d = x.c->get(task::MmluDirect);
                const ResultRecord* p = x.c->get(task::Ppl);
                // MMLU first, PPL as tie-break (lower is better)
                return std::make_pair(hasM(d, "accuracy") ? d->metric("accuracy") : -1.0,
                                      hasM(p, "ppl") ? -p->metric("ppl") : -1e300);
            };
            if (!best || score(v) > score(*best))
                best = &v;
        }
        if (!best)
            continue;
        std::string s = "Best " + std::string(g) + ": " + best->c->config;
        const ResultRecord* d = best->c->get(task::MmluDirect);
        const ResultRecord* p = best->c->get(task::Ppl);
        if (hasM(d, "accuracy"))
            s += ", MMLU direct " + fmt(pct(d, "accuracy"), 2) + "%" +
                 (best->dir.valid ? " (" + signedFmt(best->dir.delta * 100, 2) + " pp vs baseline, " +
                                        (best->dir.significant ? "significant" : "within noise") + ", p=" +
                                        fmtP(best->dir.p) + ")"
                                  : "");
        if (hasM(p, "ppl"))
            s += ", PPL " + fmt(p->metric("ppl"), 3) +
                 (best->ppl.valid ? " (" + signedFmt(best->ppl.delta, 3) + ", " +
                                        (best->ppl.significant ? "significant" : "within noise") + ")"
                                  : "");
        F.push_back(s + ".");
    }
    // the largest significant degradation
    const Verdict* worst = nullptr;
    for (const auto& v : verdicts)
        if (v.ppl.valid && v.ppl.significant && v.ppl.delta > 0 && (!worst || v.ppl.delta > worst->ppl.delta))
            worst = &v;
    if (worst)
        F.push_back("Largest PPL degradation beyond noise: " + worst->c->config + " (" + signedFmt(worst->ppl.delta, 3) +
                    ", " + worst->ppl.text + ").");
    {
        // PPL vs the baseline: how many differ beyond noise, or, when none does, the smallest
        // difference these tokens could have shown (MDE at 80 % power).
        int pTested = 0, pSig = 0, pPaired = 0;
        double seMax = 0;
        int64_t nTok = 0;
        for (const auto& v : verdicts) {
            if (!v.ppl.valid)
                continue;
            ++pTested;
            pSig += v.ppl.significant;
            if (v.ppl.paired) {
                ++pPaired;
                seMax = std::max(seMax, v.ppl.se);
                nTok = v.ppl.n;
            }
        }
        if (pTested && pSig == 0 && pPaired && hasM(bPpl, "ppl"))
            F.push_back("All " + std::to_string(pTested) + " PPL differences vs the baseline are inside noise (paired on " +
                        std::to_string(nTok) + " tokens, α = " + fmt(opts.alpha, 2) + "); the smallest detectable ΔPPL " +
                        "at 80% power was ≈ " + fmt(bPpl->metric("ppl") * (std::exp(minimumDetectableEffect(seMax)) - 1.0), 4) +
                        " (ΔNLL " + fmt(minimumDetectableEffect(seMax), 5) + ").");
        else if (pTested)
            F.push_back(std::to_string(pSig) + " of " + std::to_string(pTested) + " quantized configs differ from the baseline on PPL "
                        "beyond noise (" + (pPaired == pTested ? "paired on the same tokens" : std::to_string(pPaired) + " paired, the rest unpaired") +
                        ", α = " + fmt(opts.alpha, 2) + ").");
    }
    int nsig = 0, ntested = 0;
    for (const auto& v : verdicts) {
        if (v.dir.valid)
            ++ntested;
        if (v.dir.valid && v.dir.significant)
            ++nsig;
    }
    if (ntested) {
        double se = 0;
        int64_t n = 0;
        for (const auto& v : verdicts)
            if (v.dir.valid && std::isfinite(v.dir.se) && v.dir.se > se) {
                se = v.dir.se;
                n = v.dir.n;
            }
        // With no flips at all the paired stderr is 0; the binomial stderr of the baseline bounds it instead.
        if (!(se > 0) && hasM(bDir, "accuracy_stderr"))
            se = bDir->metric("accuracy_stderr");
        std::string s = std::to_string(nsig) + " of " + std::to_string(ntested) +
                        " quantized configs differ from the baseline on MMLU direct beyond noise (paired McNemar, α = " +
                        fmt(opts.alpha, 2) + ")";
        if (nsig == 0 && se > 0)
            s += "; with " + (n ? std::to_string(n) : std::string("these")) + " questions the smallest detectable difference " +
                 "at 80% power was ≈ " + fmt(minimumDetectableEffect(se) * 100, 2) + " pp";
        F.push_back(s + ".");
    }
    for (const auto& v : verdicts) {
        auto flag = [&](const Sig& s, const char* what, bool higherBetter) {
            bool better = higherBetter ? s.delta > 0 : s.delta < 0;
            if (s.significant && better)
                rep.warnings.push_back("Likely evaluation problem: " + v.c->config + " beats the baseline on " + what +
                                       " beyond noise (" + s.text + "). Quantization should not help; check the "
                                       "baseline's precision, the datasets and the settings of both records.");
        };
        flag(v.ppl, "PPL", false);
        flag(v.dir, "MMLU direct", true);
        flag(v.gen, "MMLU generate", true);
    }
    if (const Table* t = rep.table("throughput")) {
        const Cfg* fastest = nullptr;
        double best = -1;
        for (const Cfg* c : list)
            if (const ResultRecord* r = c->get(task::Throughput))
                if (r->has("decode_tokens_per_s") && r->metric("decode_tokens_per_s") > best) {
                    best = r->metric("decode_tokens_per_s");
                    fastest = c;
                }
        if (fastest) {
            std::string s = "Fastest decode: " + fastest->config + " at " + fmt(best, 1) + " tokens/s";
            if (base && base->get(task::Throughput) && base->get(task::Throughput)->has("decode_tokens_per_s"))
                s += " (baseline " + fmt(base->get(task::Throughput)->metric("decode_tokens_per_s"), 1) + ")";
            F.push_back(s + ".");
        }
        (void)t;
    }
    if (const Table* t = rep.table("int8_vs_fp8"))
        for (const auto& r : t->rows)
            if (r.back().text.rfind("Either", 0) != 0 && r.back().text != "not enough data")
                F.push_back("INT8 vs FP8, " + r[0].text + ": " + r.back().text + ".");
    if (const Table* t = rep.table("sensitivity")) {
        std::set<std::string> seen;
        for (const auto& r : t->rows)
            if (seen.insert(r[0].text).second)
                F.push_back("Most sensitive unit under " + r[0].text + ": " + r[2].text + " (KLD " + r[3].text + ").");
    }
    if (const Table* t = rep.table("mixed_precision"))
        for (const auto& r : t->rows)
            if (r[2].text.rfind("0 of ", 0) == 0)
                F.push_back("Mixed precision for " + r[0].text + ": the whole scheme already meets the budget (" + r[1].text +
                            "; KLD " + r[4].text + ").");
            else
                F.push_back("Mixed precision for " + r[0].text + ": keeping " + r[2].text + " in the baseline dtype (" +
                        r[3].text + ") takes KLD from " + r[4].text + " to " + r[5].text + "; linear weights " + r[8].text +
                        " MB.");
    for (const auto& n : rep.table("smoothquant") ? rep.table("smoothquant")->notes : std::vector<std::string>{})
        if (n.rfind("Best α", 0) == 0)
            F.push_back(n);
    if (!failed.empty())
        F.push_back(std::to_string(failed.size()) + " evaluation(s) failed; see the table of failures.");
    return rep;
}

std::vector<std::string> resultSources(const std::vector<ResultRecord>& records)
{
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& r : records)
        if (seen.insert(rowSource(r)).second)
            out.push_back(rowSource(r));
    return out;
}

Table compareSources(const std::vector<ResultRecord>& records, const std::string& a, const std::string& b,
                     const ReportOptions& opts)
{
    std::vector<ResultRecord> ra, rb;
    for (const auto& r : records)
        if (rowSource(r) == a)
            ra.push_back(r);
        else if (rowSource(r) == b)
            rb.push_back(r);
    const std::vector<Cfg> ga = groupRecords(ra, RowKey::Config), gb = groupRecords(rb, RowKey::Config);
    std::map<std::string, const Cfg*> inB;
    for (const auto& c : gb)
        inB[c.config] = &c;
    Table t;
    t.id = "compare";
    t.title = "Compare: A = " + sourceLabel(a) + ", B = " + sourceLabel(b) + " (Δ = B − A)";
    t.columns = {"Config", "PPL A", "PPL B", "Δ PPL", "PPL test", "MMLU direct % A", "MMLU direct % B", "Δ pp",
                 "MMLU test", "MMLU generate % A", "MMLU generate % B", "Δ pp", "Decode tok/s A", "Decode tok/s B",
                 "Δ %"};
    t.better.assign(t.columns.size(), Better::None);
    NllCache cache;
    auto num = [](const ResultRecord* r, const char* m, double scale, int digits) {
        Cell c;
        if (!hasM(r, m)) {
            c.text = "–";
            return c;
        }
        c.value = r->metric(m) * scale;
        c.text = fmt(*c.value, digits);
        const std::string se = std::string(m) + "_stderr";
        if (r->has(se.c_str()) && std::isfinite(r->metric(se.c_str()))) {
            c.err = r->metric(se.c_str()) * scale;
            c.text += " ± " + fmt(*c.err, digits);
        }
        return c;
    };
    auto delta = [](const Sig& s, double scale, int digits) {
        Cell c;
        if (!s.refused.empty() || (s.text.empty() && s.delta == 0)) {
            c.text = "–";
            return c;
        }
        c.value = s.delta * scale;
        c.text = signedFmt(*c.value, digits) + (s.significant ? " ✱" : "");
        if (std::isfinite(s.lo) && std::isfinite(s.hi))
            c.text += " [" + signedFmt(s.lo * scale, digits) + ", " + signedFmt(s.hi * scale, digits) + "]";
        return c;
    };
    auto txt = [](std::string s) { return Cell{s.empty() ? std::string("–") : std::move(s), std::nullopt, false, std::nullopt}; };
    std::vector<std::string> onlyA, onlyB;
    for (const auto& ca : ga) {
        auto it = inB.find(ca.config);
        if (it == inB.end()) {
            onlyA.push_back(ca.config);
            continue;
        }
        const Cfg& cb = *it->second;
        const ResultRecord *pa = ca.get(task::Ppl), *pb = cb.get(task::Ppl);
        const ResultRecord *da = ca.get(task::MmluDirect), *db = cb.get(task::MmluDirect);
        const ResultRecord *ea = ca.get(task::MmluGenerate), *eb = cb.get(task::MmluGenerate);
        const ResultRecord *ta = ca.get(task::Throughput), *tb = cb.get(task::Throughput);
        // B against A: the tests take (quantized, reference) = (B, A).
        const Sig sp = pa && pb ? pplSigOf(pb, pa, opts, cache) : Sig{};
        const Sig sd = da && db ? mmluSigOf(db, da, opts) : Sig{};
        const Sig se = ea && eb ? mmluSigOf(eb, ea, opts) : Sig{};
        Cell dThr;
        dThr.text = "–";
        if (hasM(ta, "decode_tokens_per_s") && hasM(tb, "decode_tokens_per_s") && ta->metric("decode_tokens_per_s") > 0) {
            dThr.value = 100.0 * (tb->metric("decode_tokens_per_s") / ta->metric("decode_tokens_per_s") - 1.0);
            dThr.text = signedFmt(*dThr.value, 1);
        }
        t.rows.push_back({txt(ca.config), num(pa, "ppl", 1, 3), num(pb, "ppl", 1, 3), delta(sp, 1, 3),
                          txt(sp.refused.empty() ? sp.text : "not compared: " + sp.refused), num(da, "accuracy", 100, 2),
                          num(db, "accuracy", 100, 2), delta(sd, 100, 2),
                          txt(sd.refused.empty() ? sd.text : "not compared: " + sd.refused), num(ea, "accuracy", 100, 2),
                          num(eb, "accuracy", 100, 2), delta(se, 100, 2), num(ta, "decode_tokens_per_s", 1, 1),
                          num(tb, "decode_tokens_per_s", 1, 1), dThr});
    }
    for (const auto& cb : gb)
        if (std::none_of(ga.begin(), ga.end(), [&](const Cfg& c) { return c.config == cb.config; }))
            onlyB.push_back(cb.config);
    auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (size_t i = 0; i < v.size() && i < 12; ++i)
            s += (i ? ", " : "") + v[i];
        if (v.size() > 12)
            s += " and " + std::to_string(v.size() - 12) + " more";
        return s;
    };
    if (!onlyA.empty())
        t.notes.push_back("Only in A (" + sourceLabel(a) + "): " + list(onlyA) + ".");
    if (!onlyB.empty())
        t.notes.push_back("Only in B (" + sourceLabel(b) + "): " + list(onlyB) + ".");
    t.notes.push_back("✱: B differs from A beyond noise (α = " + fmt(opts.alpha, 2) +
                      "); PPL paired on the same tokens when both kept per-token NLL, MMLU by McNemar on the same "
                      "questions; records measured differently are not compared.");
    return t;
}

} // namespace qb

