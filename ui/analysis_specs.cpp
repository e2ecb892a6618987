// The Analysis tab's data: sensitivity / outliers / SmoothQuant α records -> heat maps and charts.
#include "ui/analysis_specs.h"

#include "ui/analysis_json.h"

#include "ui/elide.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

namespace qb::ui {

using nlohmann::json;

using namespace analysis_detail;

double HeatMapData::at(int r, int c) const
{
    const size_t i = size_t(r) * columns.size() + size_t(c);
    return r >= 0 && c >= 0 && size_t(c) < columns.size() && i < values.size() ? values[i] : NAN;
}

int HeatMapData::cellCount() const
{
    return int(std::count_if(values.begin(), values.end(), [](double v) { return !std::isnan(v); }));
}

std::pair<int, int> HeatMapData::maxCell() const
{
    std::pair<int, int> best{-1, -1};
    double hi = -INFINITY;
    for (size_t i = 0; i < values.size() && !columns.empty(); ++i)
        if (!std::isnan(values[i]) && values[i] > hi) {
            hi = values[i];
            best = {int(i / columns.size()), int(i % columns.size())};
        }
    return best;
}

const std::vector<std::string>& projSlots()
{
    static const std::vector<std::string> s = [] {
        std::vector<std::string> v;
        for (int i = 0; i < qb::kDecoderSlots; ++i)
            v.push_back(qb::slotShortName(i));
        return v;
    }();
    return s;
}

const std::vector<std::string>& outlierInputs()
{
    static const std::vector<std::string> s = {"attn", "o", "mlp", "down"};
    return s;
}

std::string inputOfProj(const std::string& proj)
{
    if (proj == "q" || proj == "k" || proj == "v")
        return "attn";
    if (proj == "gate" || proj == "up")
        return "mlp";
    return proj; // o, down
}

std::vector<AnalysisItem> analysisItems(const std::vector<qb::ConfigRow>& rows, const std::string& task)
{
    std::vector<AnalysisItem> out;
    for (const auto& row : rows)
        if (const qb::ResultRecord* r = row.get(task)) {
            std::string label = elide(row.config, 120);
            if (!row.source.empty())
                label += "  (" + sourceLabel(row.source) + ")";
            out.push_back({label, *r});
        }
    return out;
}

// --- sensitivity ---

// One row "L<n>" per layer (the columns already set), every cell empty; layer -> row index.
static std::map<int, int> layerRows(HeatMapData& d, const std::set<int>& layers)
{
    std::map<int, int> rowOf;
    for (int l : layers) {
        rowOf[l] = int(d.rows.size());
        d.rows.push_back("L" + std::to_string(l));
    }
    d.values.assign(d.rows.size() * d.columns.size(), NAN);
    d.tooltips.assign(d.values.size(), std::string());
    return rowOf;
}

HeatMapData sensitivityHeat(const qb::ResultRecord& r)
{
    HeatMapData d;
    const json& s = sens(r);
    const json& units = arrayOf(s, "units");
    d.title = "Sensitivity: KL when one unit is quantized — " + elide(r.config, 80);
    d.valueLabel = "KL";
    d.emptyHint = "This sensitivity record has no units.";
    bool layerMode = str(s, "mode") == "layer";
    std::set<int> layers;
    for (const auto& u : units) {
        const double l = num(u, "layer");
        if (std::isfinite(l) && l >= 0 && l < 1e6)
            layers.insert(int(l));
        layerMode = layerMode || str(u, "proj") == "layer";
    }
    d.columns = layerMode ? std::vector<std::string>{"layer"} : projSlots();
    const std::map<int, int> rowOf = layerRows(d, layers);
    std::map<std::string, int> rank;
    const json& ranking = arrayOf(s, "ranking");
    for (size_t i = 0; i < ranking.size(); ++i)
        if (ranking[i].is_string())
            rank.emplace(ranking[i].get<std::string>(), int(i) + 1);
    for (const auto& u : units) {
        const double l = num(u, "layer");
        if (!std::isfinite(l) || !rowOf.count(int(l)))
            continue;
        const int c = layerMode ? 0 : slotIndex(str(u, "proj"));
        if (c < 0)
            continue;
        const size_t i = size_t(rowOf.at(int(l))) * d.columns.size() + size_t(c);
        const double kl = num(u, "kl");
        d.values[i] = std::isfinite(kl) ? kl : NAN;
        const std::string name = str(u, "name"), shortName = str(u, "short");
        std::ostringstream t;
        t << (shortName.empty() ? name : shortName);
        if (layerMode)
            t << " (all 7 linears of the layer)";
        else if (!name.empty() && name != shortName)
            t << "  (" << name << ")";
        t << "\nKL(baseline ‖ quantized) " << fmt(kl) << ", p99 " << fmt(num(u, "kl_p99"));
        if (rank.count(name))
            t << "  ·  rank " << rank[name] << " of " << units.size();
        t << "\nΔNLL " << signedFmt(num(u, "dnll")) << " nats/token  ·  top-1 agreement "
          << fmt(num(u, "top1") * 100, "%.2f") << "%";
        t << "\nmatmul SQNR " << fmt(num(u, "sqnr_db"), "%.1f") << " dB" << (layerMode ? " (worst linear)" : "");
        t << "\nweight: max|W| " << fmt(num(u, "w_absmax")) << ", kurtosis " << fmt(num(u, "w_kurtosis"))
          << " (3 = Gaussian)";
        t << "\ninput: max|x| " << fmt(num(u, "x_absmax")) << ", kurtosis " << fmt(num(u, "x_kurtosis"))
          << ", " << fmt(num(u, "x_outlier_frac") * 100, "%.2g") << "% of channels > 6σ";
        if (std::isfinite(num(u, "bytes_base")))
            t << "\nweights " << fmtBytes(num(u, "bytes_base")) << " → " << fmtBytes(num(u, "bytes_quant"));
        d.tooltips[i] = t.str();
    }
    return d;
}

Recommendation recommendation(const qb::ResultRecord& r)
{
    Recommendation rec;
    const json& s = sens(r);
    const json* rj = field(s, "recommended");
    if (!rj || !rj->is_object() || str(*rj, "scheme").empty())
        return rec;
    rec.present = true;
    rec.scheme = str(*rj, "scheme");
    rec.k = int(std::max(0.0, std::isfinite(num(*rj, "k")) ? num(*rj, "k") : 0.0));
    rec.kl = num(*rj, "kl");
    rec.ppl = num(*rj, "ppl");
    rec.dppl = num(*rj, "dppl");
    rec.linearBytes = num(*rj, "linear_bytes");
    const json* met = field(*rj, "met");
    rec.met = met && met->is_boolean() ? met->get<bool>() : r.metric("budget_met", 0) > 0;
    rec.fullBytes = r.metric("full_linear_mb") * 1e6;
    rec.baseBytes = r.metric("baseline_linear_mb") * 1e6;
    const json& curve = arrayOf(s, "curve");
    for (const auto& p : curve) // the k = 0 point is the full scheme
        if (num(p, "k") == 0 && std::isfinite(num(p, "linear_bytes")))
            rec.fullBytes = num(p, "linear_bytes");
    const json& budget = field(s, "budget") ? *field(s, "budget") : json::object();
    const double bkl = num(budget, "kl"), bppl = num(budget, "dppl");
    const int units = int(arrayOf(s, "units").size());
    std::ostringstream t;
    t << "Keep the " << rec.k << " most sensitive of " << units << " units in " << baselineDtype(r) << ": KL "
      << fmt(rec.kl);
    if (bkl >= 0)
        t << " (budget " << fmt(bkl) << ")";
    t << ", ΔPPL " << signedFmt(rec.dppl);
    if (bppl >= 0)
        t << " (budget " << fmt(bppl) << ")";
    t << ", PPL " << fmt(rec.ppl, "%.4g") << ". ";
    t << (rec.met ? "Budget met." : "Budget NOT met even with every unit kept: this is the closest.");
    if (std::isfinite(rec.linearBytes)) {
        t << "\nLinear weights " << fmtBytes(rec.linearBytes);
        if (std::isfinite(rec.fullBytes) && rec.fullBytes > 0)
            t << " vs " << fmtBytes(rec.fullBytes) << " for the full scheme ("
              << signedFmt((rec.linearBytes / rec.fullBytes - 1) * 100) << "%)";
        if (std::isfinite(rec.baseBytes) && rec.baseBytes > 0)
            t << " and " << fmtBytes(rec.baseBytes) << " in " << baselineDtype(r);
        t << ".";
    }
    rec.text = t.str();
    return rec;
}

ChartSpec mixedPrecisionCurve(const qb::ResultRecord& r)
{
    ChartSpec c;
    const json& s = sens(r);
    c.title = "Mixed precision: KL vs units kept — " + elide(r.config, 60);
    c.yLabel = "KL(baseline ‖ mixed), log";
    c.xLabel = "k = most sensitive units kept in " + baselineDtype(r);
    c.logY = true;
    c.lowerIsBetter = true;
    c.emptyHint = "This sensitivity record has no mixed-precision curve (details.sensitivity.curve).";
    std::vector<const json*> pts;
    for (const auto& p : arrayOf(s, "curve"))
        if (std::isfinite(num(p, "k")))
            pts.push_back(&p);
    std::stable_sort(pts.begin(), pts.end(), [](const json* a, const json* b) { return num(*a, "k") < num(*b, "k"); });
    ChartSeries line;
    line.name = "KL, whole scheme with k units kept";
    line.color = "#0072b2";
    const Recommendation rec = recommendation(r);
    int recIndex = -1;
    // With every unit kept the KL is float rounding (1e-15 and below): shown at a floor four decades
    // under the largest KL, so the axis spends its height on the measured trade, not on noise.
    double klMax = 0;
    for (const json* p : pts)
        if (num(*p, "kl") > klMax)
            klMax = num(*p, "kl");
    const double floor = klMax * 1e-4;
    for (size_t i = 0; i < pts.size(); ++i) {
        const json& p = *pts[i];
        const int k = int(num(p, "k"));
        c.categories.push_back(std::to_string(k));
        ChartPoint pt;
        pt.x = double(i);
        pt.y = num(p, "kl");
        std::ostringstream t;
        t << "k = " << k << (field(p, "refined") && (*field(p, "refined")) == true ? " (bisection)" : "") << "\nKL "
          << fmt(pt.y) << ", PPL " << fmt(num(p, "ppl"), "%.4g") << " (Δ " << signedFmt(num(p, "dppl")) << ")"
          << "\nlinear weights " << fmtBytes(num(p, "linear_bytes")) << "\n" << elide(str(p, "scheme"), 200);
        if (floor > 0 && !(pt.y >= floor)) {
            t << "\n(drawn at the axis floor " << fmt(floor) << ": KL below 1e-4 of the largest is rounding)";
            pt.y = floor;
        } else if (!(pt.y > 0))
            t << "\n(KL 0: not on the log axis)";
        pt.tooltip = t.str();
        line.points.push_back(pt);
        if (rec.present && k == rec.k)
            recIndex = int(i);
    }
    if (line.points.empty())
        return c;
    const json* budget = field(s, "budget");
    const double bkl = budget ? num(*budget, "kl") : NAN;
    // The marked point goes first: the line's own marker is drawn on top of its ring.
    if (recIndex >= 0) {
        ChartSeries m;
        m.name = "recommended: k = " + std::to_string(rec.k);
        m.color = "#d55e00";
        m.markerSize = 15;
        ChartPoint p = line.points[size_t(recIndex)];
        p.tooltip = "Recommended (smallest k within the budget)\n" + p.tooltip;
        m.points.push_back(p);
        c.series.push_back(m);
    }
    c.series.push_back(line);
    if (bkl >= 0) {
        ChartSeries b;
        b.name = "budget: KL ≤ " + fmt(bkl);
        b.reference = true;
        b.color = "#b02020";
        for (size_t i = 0; i < line.points.size(); ++i)
            b.points.push_back({double(i), bkl, 0, "KL budget " + fmt(bkl)});
        c.series.push_back(b);
    }
    return c;
}

std::string sensitivitySummary(const qb::ResultRecord& r)
{
    const json& s = sens(r);
    std::ostringstream t;
    t << "mode " << (str(s, "mode").empty() ? std::string("?") : str(s, "mode")) << " · " << arrayOf(s, "units").size()
      << " units · " << fmt(num(s, "windows"), "%.0f") << " windows × " << fmt(num(s, "len"), "%.0f") << " tokens"
      << " · baseline PPL " << fmt(r.metric("base_ppl", num(s, "base_ppl")), "%.4g") << " · full scheme KL "
      << fmt(r.metric("full_kl")) << ", PPL " << fmt(r.metric("full_ppl"), "%.4g");
    return t.str();
}

// --- outliers ---

bool outliersHaveSmoothed(const qb::ResultRecord& r)
{
    for (const auto& h : arrayOf(outl(r), "heat"))
        if (std::isfinite(num(h, "act_ratio_smoothed")))
            return true;
    return false;
}

int outlierLayerCount(const qb::ResultRecord& r) { return int(arrayOf(outl(r), "layers").size()); }

HeatMapData outlierHeat(const qb::ResultRecord& r, bool smoothed)
{
    HeatMapData d;
    const json& o = outl(r);
    const json* alpha = field(o, "alpha");
    const std::string a = alpha && alpha->is_number() ? fmt(alpha->get<double>()) : std::string();
    d.title = std::string(smoothed ? "Activation outliers after smoothing (α " + a + ")" : "Activation outliers") +
              ": max/median of per-channel max |x| — " + elide(r.config, 60);
    d.valueLabel = "max/median";
    d.emptyHint = "This outliers record has no heat map (details.outliers.heat).";
    d.columns = projSlots();
    std::set<int> layers;
    for (const auto& h : arrayOf(o, "heat"))
        if (const double l = num(h, "layer"); std::isfinite(l) && l >= 0 && l < 1e6)
            layers.insert(int(l));
    const std::map<int, int> rowOf = layerRows(d, layers);
    for (const auto& h : arrayOf(o, "heat")) {
        const double l = num(h, "layer");
        const int c = slotIndex(str(h, "proj"));
        if (!std::isfinite(l) || !rowOf.count(int(l)) || c < 0)
            continue;
        const size_t i = size_t(rowOf.at(int(l))) * d.columns.size() + size_t(c);
        const double v = num(h, smoothed ? "act_ratio_smoothed" : "act_ratio");
        d.values[i] = v;
        const std::string input = str(h, "input").empty() ? inputOfProj(str(h, "proj")) : str(h, "input");
        std::ostringstream t;
        t << "L" << int(l) << "." << str(h, "proj") << " — " << inputWhat(input) << "\nactivation max/median "
          << fmt(num(h, "act_ratio")) << " (largest channel max |x| " << fmt(num(h, "act_max")) << ")"
          << "\nweight column max/median " << fmt(num(h, "w_ratio"));
        if (std::isfinite(num(h, "act_ratio_smoothed")))
            t << "\nafter smoothing: activation " << fmt(num(h, "act_ratio_smoothed")) << ", weight "
              << fmt(num(h, "w_ratio_smoothed"));
        else if (smoothed)
            t << "\nnot smoothed (SmoothQuant smooths the attn and mlp inputs only)";
        t << "\nclick: show this layer's channels below";
        d.tooltips[i] = t.str();
    }
    return d;
}

ChartSpec outlierChannels(const qb::ResultRecord& r, int layerIndex, const std::string& input, bool weights,
                          size_t maxPoints)
{
    ChartSpec c;
    c.valueX = true;
    c.logY = true;
    c.title = "Layer " + std::to_string(layerIndex) + ", " + inputWhat(input) + ": " +
              (weights ? "weight max |W| per input column" : "activation max |x| per channel");
    c.yLabel = weights ? "max |W| (log)" : "max |x| (log)";
    c.emptyHint = "No " + std::string(weights ? "weight" : "activation") + " maxima for layer " +
                  std::to_string(layerIndex) + ", " + input + " in this record.";
    const json* entry = nullptr;
    const json& layers = arrayOf(outl(r), "layers");
    for (const auto& l : layers)
        if (num(l, "layer") == layerIndex)
            entry = &l;
    if (!entry && layerIndex >= 0 && size_t(layerIndex) < layers.size())
        entry = &layers[size_t(layerIndex)];
    if (!entry)
        return c;
    const json* in = field(*entry, input.c_str());
    if (!in || !in->is_object())
        return c;
    const json* alpha = field(outl(r), "alpha");
    const std::string a = alpha && alpha->is_number() ? " (α " + fmt(alpha->get<double>()) + ")" : std::string();
    struct Src {
        const char* key;
        std::string name, color;
    };
    std::vector<Src> srcs;
    if (weights) {
        srcs.push_back({"w", "max |W| per input column", "#e69f00"});
        srcs.push_back({"w_smoothed", "after smoothing: max |W · s|" + a, "#cc79a7"});
    } else {
        srcs.push_back({"act", "max |x| per input channel", "#0072b2"});
        srcs.push_back({"act_smoothed", "after smoothing: max |x / s|" + a, "#009e73"});
    }
    size_t bucket = 1;
    for (const auto& src : srcs) {
        const json& arr = arrayOf(*in, src.key);
        if (arr.empty())
            continue;
        bucket = std::max<size_t>(1, (arr.size() + maxPoints - 1) / std::max<size_t>(1, maxPoints));
        ChartSeries s;
        s.name = src.name;
        s.color = src.color;
        s.markers = false;
        for (size_t b = 0; b < arr.size(); b += bucket) {
            double hi = NAN;
            size_t at = b;
            for (size_t i = b; i < std::min(arr.size(), b + bucket); ++i)
                if (arr[i].is_number() && !(arr[i].get<double>() <= hi)) {
                    hi = arr[i].get<double>();
                    at = i;
                }
            if (!std::isfinite(hi))
                continue;
            ChartPoint p;
            p.x = double(at);
            p.y = hi;
            p.tooltip = (bucket > 1 ? "channels " + std::to_string(b) + "–" + std::to_string(std::min(arr.size(), b + bucket) - 1) +
                                          ", largest at " + std::to_string(at)
                                    : "channel " + std::to_string(at)) +
                        "\n" + s.name + ": " + fmt(hi, "%.4g");
            s.points.push_back(p);
        }
        c.series.push_back(std::move(s));
    }
    c.xLabel = bucket > 1 ? "input channel (max of each " + std::to_string(bucket) + "-channel bucket)" : "input channel";
    if (c.series.size() == 1 && (input == "o" || input == "down") && outliersHaveSmoothed(r))
        c.title += " (not smoothed)";
    return c;
}

std::string outliersSummary(const qb::ResultRecord& r)
{
    const json& o = outl(r);
    std::ostringstream t;
    t << fmt(num(o, "sequences"), "%.0f") << " sequences, " << fmt(num(o, "tokens"), "%.0f")
      << " tokens · worst act max/median " << fmt(r.metric("act_ratio_max")) << " (median "
      << fmt(r.metric("act_ratio_median")) << ")";
    if (r.has("act_ratio_max_smoothed") && r.has("act_ratio_max_smoothable"))
        t << " · smoothed inputs (attn, mlp) " << fmt(r.metric("act_ratio_max_smoothable")) << " → "
          << fmt(r.metric("act_ratio_max_smoothed"));
    else if (r.has("act_ratio_max_smoothed"))
        t << ", after smoothing " << fmt(r.metric("act_ratio_max_smoothed"));
    if (r.has("worst_layer"))
        t << " · worst layer L" << fmt(r.metric("worst_layer"), "%.0f");
    return t.str();
}

} // namespace qb::ui
