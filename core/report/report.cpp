#include "core/report/report.h"

#include "core/quant/scheme.h"
#include "core/report/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

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
};

} // namespace

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

Report buildReport(const std::vector<ResultRecord>& records, const ReportOptions& opts)
{
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

    // ---- significance helpers
    auto mmluSig = [&](const ResultRecord* q, const ResultRecord* b) {
        Sig s;
        if (!hasM(q, "accuracy") || !hasM(b, "accuracy"))
            return s;
        s.delta = q->metric("accuracy") - b->metric("accuracy");
        if (!q->correct.empty() && q->correct.size() == b->correct.size() &&
            (q->question_set.empty() || b->question_set.empty() || q->question_set == b->question_set)) {
            McNemar m = mcnemar(b->correct, q->correct);
            s.valid = m.valid;
            s.p = m.p;
            s.text = "McNemar b=" + std::to_string(m.b) + " c=" + std::to_string(m.c) + " p=" + fmtP(m.p);
        } else if (q->has("n") && b->has("n")) {
            ZTest z = twoProportions(q->metric("accuracy"), q->metric("n"), b->metric("accuracy"), b->metric("n"));
            s.valid = z.valid;
            s.p = z.p;
            s.text = "unpaired z=" + fmt(z.z, 2) + " p=" + fmtP(z.p);
        }
        s.significant = s.valid && s.p < opts.alpha;
        return s;
    };
    auto pplSig = [&](const ResultRecord* q, const ResultRecord* b) {
        Sig s;
        if (!hasM(q, "ppl") || !hasM(b, "ppl"))
            return s;
        s.delta = q->metric("ppl") - b->metric("ppl");
        if (q->has("ppl_stderr") && b->has("ppl_stderr")) {
            ZTest z = zTest(q->metric("ppl"), q->metric("ppl_stderr"), b->metric("ppl"), b->metric("ppl_stderr"));
            s.valid = z.valid;
            s.p = z.p;
            s.text = "z=" + fmt(z.z, 2) + " p=" + fmtP(z.p);
        }
        s.significant = s.valid && s.p < opts.alpha;
        return s;
    };
    auto pct = [](const ResultRecord* r, const char* m) { return hasM(r, m) ? r->metric(m) * 100.0 : NAN; };
    auto accCell = [&](const ResultRecord* r) {
        Cell c;
        if (!hasM(r, "accuracy")) {
            c.text = "–";
            return c;
        }
        c.value = r->metric("accuracy") * 100.0;
        c.text = fmt(*c.value, 2);
        if (r->has("accuracy_stderr"))
            c.text += " ± " + fmt(r->metric("accuracy_stderr") * 100.0, 2);
        return c;
    };
    auto pplCell = [&](const ResultRecord* r) {
        Cell c;
        if (!hasM(r, "ppl")) {
            c.text = "–";
            return c;
        }
        c.value = r->metric("ppl");
        c.text = fmt(*c.value, 3);
        if (r->has("ppl_stderr"))
            c.text += " ± " + fmt(r->metric("ppl_stderr"), 3);
        return c;
    };
    auto txt = [](std::string s) { return Cell{std::move(s), std::nullopt, false}; };
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
        if (v.ppl.valid)
            sig.push_back("PPL " + v.ppl.text + (v.ppl.significant ? " ✱" : ""));
        if (v.dir.valid)
            sig.push_back("direct " + v.dir.text + (v.dir.significant ? " ✱" : ""));
        if (v.gen.valid)
            sig.push_back("generate " + v.gen.text + (v.gen.significant ? " ✱" : ""));
        std::string sigText;
        for (size_t i = 0; i < sig.size(); ++i)
            sigText += (i ? "; " : "") + sig[i];
        std::string unp = "–";
        if (g && g->has("unparseable"))
            unp = fmt(g->metric("unparseable"), 0) + (g->has("n") ? " / " + fmt(g->metric("n"), 0) : "");
        acc.rows.push_back({txt(c->group), txt(c->config), pplCell(p),
                            txt(!isBase && hasM(p, "ppl") && hasM(bPpl, "ppl") ? signedFmt(p->metric("ppl") - bPpl->metric("ppl"), 3) : "–"),
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
    }
    acc.markBest();
    acc.notes.push_back("✱ = difference vs the baseline beyond noise at α = " + fmt(opts.alpha, 2) +
                        " (MMLU: paired McNemar on per-question correctness, exact binomial below 25 discordant "
                        "questions; PPL: z on the two standard errors).");
    if (!acc.rows.empty())
        rep.tables.push_back(acc);

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
        thr.rows.push_back({txt(c->group), txt(c->config), num(mq, 2), num(m("prefill_samples_per_s"), 2),
                            num(m("decode_tokens_per_s"), 1), num(mem, 1), num(w / (1024.0 * 1024.0), 2)});
    }
    thr.markBest();
    thr.notes.push_back("Prefill: batch of prompts of a set length; decode: KV cache, median of repeats after warm-up "
                        "(settings in each record).");
    if (!thr.rows.empty())
        rep.tables.push_back(thr);

    // ---- SmoothQuant
    Table sq;
    sq.id = "smoothquant";
    sq.title = "SmoothQuant";
    sq.columns = {"Config", "α", "PPL ↓", "Δ PPL", "MMLU direct % ↑", "Δ pp", "vs W8A8 without smoothing"};
    sq.better = {Better::None, Better::None, Better::Lower, Better::None, Better::Higher, Better::None, Better::None};
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
        sq.rows.push_back({txt(c->config), txt(c->parsed ? fmt(c->scheme.alpha, 2) : "–"), pplCell(p),
                           txt(hasM(p, "ppl") && hasM(bPpl, "ppl") ? signedFmt(p->metric("ppl") - bPpl->metric("ppl"), 3) : "–"), accCell(d),
                           txt(hasM(d, "accuracy") && hasM(bDir, "accuracy") ? signedFmt(pct(d, "accuracy") - pct(bDir, "accuracy"), 2) : "–"), txt(plain)});
    }
    sq.markBest();
    if (!sq.rows.empty())
        rep.tables.push_back(sq);

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
        else if (m.valid || p.valid)
            rec = "Either: difference within noise" +
                  std::string(hasM(ip, "ppl") && hasM(fp, "ppl") ? (ip->metric("ppl") <= fp->metric("ppl") ? "; INT8 slightly lower PPL"
                                                                                  : "; FP8 slightly lower PPL")
                                       : "") +
                  "; prefer FP8 where the GPU has FP8 GEMM (sm_89+), INT8 elsewhere";
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
    for (const Cfg* c : list) {
        const ResultRecord* r = c->get(task::Matmul);
        if (!r)
            continue;
        auto m = [&](const char* k) { return r->has(k) ? r->metric(k) : NAN; };
        mm.rows.push_back({txt(c->group), txt(c->config), num(m("sqnr_db"), 2), num(m("sqnr_db_min"), 2),
                           num(m("rel_fro_error"), 5), num(m("cosine"), 6), num(m("max_abs_error"), 5)});
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
        std::string b = "Baseline " + base->config + ":";
        if (hasM(bPpl, "ppl"))
            b += " PPL " + fmt(bPpl->metric("ppl"), 3);
        if (hasM(bDir, "accuracy"))
            b += ", MMLU direct " + fmt(pct(bDir, "accuracy"), 2) + "%" +
                 (hasM(bDir, "n") ? " (n=" + fmt(bDir->metric("n"), 0) + ")" : std::string());
        if (hasM(bGen, "accuracy"))
            b += ", MMLU generate " + fmt(pct(bGen, "accuracy"), 2) + "%";
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
    int nsig = 0, ntested = 0;
    for (const auto& v : verdicts) {
        if (v.dir.valid)
            ++ntested;
        if (v.dir.valid && v.dir.significant)
            ++nsig;
    }
    if (ntested)
        F.push_back(std::to_string(nsig) + " of " + std::to_string(ntested) +
                    " quantized configs differ from the baseline on MMLU direct beyond noise (paired McNemar, α = " +
                    fmt(opts.alpha, 2) + "); the others are statistically indistinguishable on this question set.");
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
    if (!failed.empty())
        F.push_back(std::to_string(failed.size()) + " evaluation(s) failed; see the table of failures.");
    return rep;
}

} // namespace qb
