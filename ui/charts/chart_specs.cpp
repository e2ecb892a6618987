// Pure builders from core rows to ChartSpecs: accuracy/SQNR vs granularity, per-config bars.
#include "ui/charts/chart_specs.h"

#include "core/report/report.h"
#include "ui/elide.h"
#include "core/util/json_number.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace qb::ui {

namespace chart_metric {
const std::string Ppl = qb::metricKey(qb::task::Ppl, "ppl");
const std::string MmluDirect = qb::metricKey(qb::task::MmluDirect, "accuracy");
const std::string MmluGenerate = qb::metricKey(qb::task::MmluGenerate, "accuracy");
const std::string Prefill = qb::metricKey(qb::task::Throughput, "prefill_samples_per_s");
const std::string Decode = qb::metricKey(qb::task::Throughput, "decode_tokens_per_s");
const std::string Sqnr = qb::metricKey(qb::task::Matmul, "sqnr_db");
const std::string Kld = qb::metricKey(qb::task::Ppl, "kl_mean");
} // namespace chart_metric
using namespace chart_metric;

// A point to draw: the row has numbers and the value is finite (the baseline's own matmul
// SQNR is +inf: it is the reference, not a point).
static bool drawable(const qb::ConfigRow& r, const std::string& key)
{
    return r.hasNumbers() && std::isfinite(r.value(key));
}

int ChartSpec::pointCount() const
{
    int n = 0;
    for (const auto& s : series)
        if (!s.reference)
            n += int(s.points.size());
    return n;
}

const std::vector<std::string>& granularityCategories()
{
    static const std::vector<std::string> c = {"tensor", "row", "g512", "g256", "g128", "g64"};
    return c;
}

int granularityIndex(const qb::QuantScheme& s)
{
    if (s.isBaseline() || s.smoothing == qb::Smoothing::SmoothQuant)
        return -1;
    switch (s.granularity) {
    case qb::Granularity::PerTensor: return 0;
    case qb::Granularity::PerRow: return 1;
    case qb::Granularity::PerGroup:
        switch (s.group_size) {
        case 512: return 2;
        case 256: return 3;
        case 128: return 4;
        case 64: return 5;
        }
    }
    return -1;
}

static std::string label(const std::string& key)
{
    if (key == Ppl) return "PPL";
    if (key == MmluDirect) return "MMLU direct accuracy";
    if (key == MmluGenerate) return "MMLU generate accuracy";
    if (key == Prefill) return "prefill samples/s";
    if (key == Decode) return "decode tokens/s";
    if (key == Sqnr) return "SQNR dB";
    if (key == Kld) return "KLD (nats)";
    return qb::describeMetric(key).label;
}

static std::string tip(const qb::ConfigRow& r, const std::string& key)
{
    std::ostringstream os;
    os.precision(5);
    os << elide(r.config) << "\n" << label(key) << ": " << r.value(key);
    if (!std::isnan(r.stderrOf(key)))
        os << " ± " << r.stderrOf(key);
    if (!r.source.empty())
        os << "\nfrom " << elide(r.source);
    return os.str();
}

// Names carry their file only when rows come from more than one place: the tag tells a loaded
// file's FP32 from this run's, and is noise (and width) when everything shares one source.
static bool manySources(const std::vector<qb::ConfigRow>& rows)
{
    for (const auto& r : rows)
        if (r.source != rows.front().source)
            return true;
    return false;
}

static std::string sourceSuffix(const qb::ConfigRow& r, bool tag)
{
    if (!tag || r.source.empty())
        return {};
    return " [" + elide(qb::sourceLabel(r.source)) + "]";
}

std::string seriesGroup(const qb::QuantScheme& s)
{
    if (s.isBaseline())
        return "Baseline " + s.baseline_dtype;
    const std::string dt = s.dtype == qb::QDType::INT8 ? "INT8" : "FP8";
    if (s.smoothing == qb::Smoothing::SmoothQuant) {
        // "SQ INT8 α0.5": short enough for a legend; the tooltip carries the full config.
        char a[16];
        std::snprintf(a, sizeof a, " α%g", s.alpha);
        return "SQ " + dt + a + (s.mode == qb::QuantMode::Fake ? " fake" : "");
    }
    return dt + (s.mode == qb::QuantMode::Fake ? " fake" : " real") + (s.activation != qb::ActQuant::None ? " W8A8" : "");
}

std::string seriesColor(const qb::QuantScheme& s)
{
    if (s.isBaseline())
        return "#505050";
    const bool int8 = s.dtype == qb::QDType::INT8, fake = s.mode == qb::QuantMode::Fake;
    if (s.smoothing == qb::Smoothing::SmoothQuant)
        return int8 ? (fake ? "#5fc9a5" : "#009e73") : (fake ? "#d9a3c4" : "#8e4f9e");
    if (s.activation != qb::ActQuant::None)
        return int8 ? (fake ? "#6b7fc4" : "#332288") : (fake ? "#c46b94" : "#882255");
    return int8 ? (fake ? "#56b4e9" : "#0072b2") : (fake ? "#e69f00" : "#d55e00");
}

static ChartSpec vsGranularity(const std::vector<qb::ConfigRow>& rows, const std::string& key, bool withBaseline)
{
    ChartSpec spec;
    spec.kind = ChartKind::Lines;
    spec.categories = granularityCategories();
    spec.yLabel = label(key);
    spec.lowerIsBetter = key == Ppl;
    const bool tag = manySources(rows);
    std::map<std::string, ChartSeries> lines; // ordered by name: stable colours
    for (const auto& r : rows) {
        if (!drawable(r, key) || !r.parsed)
            continue; // a name that is no scheme has no place on the granularity axis
        double v = r.value(key);
        if (r.scheme.isBaseline()) {
            if (!withBaseline)
                continue;
            ChartSeries ref;
            ref.name = "Baseline " + r.scheme.baseline_dtype + sourceSuffix(r, tag);
            ref.reference = true;
            ref.color = seriesColor(r.scheme);
            ref.dashed = tag && r.source != rows.front().source;
            double e = std::isnan(r.stderrOf(key)) ? 0 : r.stderrOf(key);
            for (double x : {0.0, double(spec.categories.size() - 1)})
                ref.points.push_back({x, v, e, tip(r, key)});
            spec.series.push_back(ref);
            continue;
        }
        int gi = granularityIndex(r.scheme);
        // SmoothQuant: one point at per-row (its weight granularity).
        const double x = gi < 0 ? 1 : gi;
        const std::string name = seriesGroup(r.scheme) + sourceSuffix(r, tag);
        auto& s = lines[name];
        s.name = name;
        s.color = seriesColor(r.scheme);
        s.dashed = tag && r.source != rows.front().source;
        double e = std::isnan(r.stderrOf(key)) ? 0 : r.stderrOf(key);
        s.points.push_back({x, v, e, tip(r, key)});
    }
    for (auto& [n, s] : lines) {
        std::sort(s.points.begin(), s.points.end(), [](const ChartPoint& a, const ChartPoint& b) { return a.x < b.x; });
        spec.series.push_back(std::move(s));
    }
    return spec;
}

ChartSpec accuracyVsGranularity(const std::vector<qb::ConfigRow>& rows, const std::string& key)
{
    auto spec = vsGranularity(rows, key, true);
    spec.title = label(key) + " vs granularity";
    spec.emptyHint = "No " + label(key) + " results yet: tick the evaluation, then Run (Ctrl+R) or open a results file.";
    return spec;
}

ChartSpec sqnrVsGranularity(const std::vector<qb::ConfigRow>& rows)
{
    auto spec = vsGranularity(rows, Sqnr, false);
    spec.title = "Matmul SQNR vs granularity (higher is better)";
    spec.emptyHint = "No matmul accuracy results yet: tick \"Matmul accuracy\" under Evaluations.";
    return spec;
}

ComparableRows comparableRows(const std::vector<qb::ConfigRow>& rows)
{
    ComparableRows out;
    const qb::ConfigRow* base = nullptr;
    for (const auto& r : rows)
        if (r.parsed && r.scheme.isBaseline() && r.hasNumbers()) {
            base = &r;
            break;
        }
    std::vector<std::string> why;
    for (const auto& r : rows) {
        std::string reason;
        if (base && &r != base)
            for (const char* t : {qb::task::Ppl, qb::task::MmluDirect, qb::task::MmluGenerate}) {
                const qb::ResultRecord* a = r.get(t);
                const qb::ResultRecord* b = base->get(t);
                if (a && b)
                    if (std::string m = qb::protocolMismatch(*a, *b); !m.empty()) {
                        reason = m;
                        break;
                    }
            }
        if (reason.empty())
            out.rows.push_back(r);
        else
            why.push_back(elide(r.config) + sourceSuffix(r, true) + ": " + reason);
    }
    if (!why.empty()) {
        out.note = "Not drawn (measured differently from the baseline " + elide(base->config) + ", so not comparable on one axis): ";
        for (size_t i = 0; i < why.size() && i < 4; ++i)
            out.note += (i ? "; " : "") + why[i];
        if (why.size() > 4)
            out.note += "; and " + std::to_string(why.size() - 4) + " more";
        out.note += ".";
    }
    return out;
}

ChartSpec kldVsGranularity(const std::vector<qb::ConfigRow>& rows)
{
    auto spec = vsGranularity(rows, Kld, false);
    spec.title = "KLD vs baseline by granularity (log y, lower is better)";
    spec.emptyHint = "No KL divergence yet: it comes with Perplexity when the baseline ran first.";
    spec.lowerIsBetter = true;
    spec.logY = true;
    return spec;
}

static ChartSpec perConfig(const std::vector<qb::ConfigRow>& rows, const std::vector<std::string>& keys)
{
    ChartSpec spec;
    spec.kind = ChartKind::Bars;
    const bool tag = manySources(rows);
    std::vector<const qb::ConfigRow*> drawn;
    for (const auto& r : rows)
        for (const auto& k : keys)
            if (drawable(r, k)) {
                drawn.push_back(&r);
                break;
            }
    for (const auto* r : drawn)
        spec.categories.push_back(elide(r->config) + sourceSuffix(*r, tag));
    if (keys.size() == 1) {
        // One metric: one bar per config, coloured (and in the legend) by dtype x mode.
        spec.stacked = true;
        std::map<std::string, ChartSeries> groups;
        std::vector<std::string> order;
        for (size_t i = 0; i < drawn.size(); ++i) {
            const std::string g = drawn[i]->parsed ? seriesGroup(drawn[i]->scheme) : std::string("other");
            auto& s = groups[g];
            if (s.name.empty()) {
                s.name = g;
                s.color = drawn[i]->parsed ? seriesColor(drawn[i]->scheme) : "#999999";
                order.push_back(g);
            }
            const auto& k = keys[0];
            const double e = std::isnan(drawn[i]->stderrOf(k)) ? 0 : drawn[i]->stderrOf(k);
            s.points.push_back({double(i), drawn[i]->value(k), e, tip(*drawn[i], k)});
        }
        for (const auto& g : order)
            spec.series.push_back(std::move(groups[g]));
        return spec;
    }
    static const char* const metricColors[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7"};
    for (const auto& k : keys) {
        ChartSeries s;
        s.name = label(k);
        for (size_t i = 0; i < drawn.size(); ++i) {
            if (!drawable(*drawn[i], k))
                continue;
            double v = drawn[i]->value(k);
            double e = std::isnan(drawn[i]->stderrOf(k)) ? 0 : drawn[i]->stderrOf(k);
            ChartPoint p{double(i), v, e, tip(*drawn[i], k)};
            // Throughput: the spread of the repeats (min..max around the median) from the details.
            const auto dot = k.find('.');
            const std::string task = k.substr(0, dot), metric = k.substr(dot + 1);
            if (const qb::ResultRecord* rec = drawn[i]->get(task); rec && rec->details.is_object() &&
                rec->details.contains(task) && rec->details[task].is_object() && rec->details[task].contains(metric)) {
                const auto& d = rec->details[task][metric];
                double lo = NAN, hi = NAN;
                if (d.is_object() && d.contains("min") && d.contains("max") && qb::jsonNumber(d["min"], lo) &&
                    qb::jsonNumber(d["max"], hi) && lo <= v && v <= hi && hi > lo) {
                    p.lo = lo;
                    p.hi = hi;
                    char buf[96];
                    std::snprintf(buf, sizeof buf, "\nrepeats: min %.4g, max %.4g", lo, hi);
                    p.tooltip += buf;
                }
            }
            s.points.push_back(std::move(p));
        }
        s.color = metricColors[spec.series.size() % 4];
        if (!s.points.empty())
            spec.series.push_back(std::move(s));
    }
    return spec;
}

ChartSpec pplPerConfig(const std::vector<qb::ConfigRow>& rows)
{
    auto spec = perConfig(rows, {Ppl});
    spec.title = "Perplexity per config (lower is better)";
    spec.emptyHint = "No perplexity results yet: tick Perplexity, then Run (Ctrl+R).";
    spec.yLabel = "PPL";
    spec.lowerIsBetter = true;
    return spec;
}

ChartSpec throughputPerConfig(const std::vector<qb::ConfigRow>& rows)
{
    auto spec = perConfig(rows, {Prefill, Decode});
    spec.title = "Throughput per config: prefill samples/s and decode tokens/s";
    spec.emptyHint = "No throughput results yet: tick Throughput, then Run (Ctrl+R).";
    spec.yLabel = "per second";
    return spec;
}

} // namespace qb::ui
