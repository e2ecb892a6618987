// The Analysis tab's data, part 2: the SmoothQuant α chart, CSV of charts and heat maps, and the
// tab as Markdown.
#include "ui/analysis_specs.h"

#include "ui/analysis_json.h"
#include "ui/elide.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace qb::ui {

using nlohmann::json;
using namespace analysis_detail;

// --- SmoothQuant α ---

namespace alpha_metric {
const std::string Ppl = qb::metricKey("ppl", "ppl");
const std::string Kl = qb::metricKey("ppl", "kl_mean");
const std::string Mmlu = qb::metricKey("mmlu_direct", "accuracy");
} // namespace alpha_metric

AlphaChart alphaChart(const std::vector<qb::ConfigRow>& rows, const std::string& metricKey)
{
    AlphaChart out;
    ChartSpec& c = out.spec;
    const bool higherBetter = metricKey == alpha_metric::Mmlu;
    c.valueX = true;
    c.lowerIsBetter = !higherBetter;
    c.xLabel = "SmoothQuant α (0: difficulty stays in the activations, 1: all moved into the weights)";
    c.yLabel = metricKey == alpha_metric::Ppl  ? "Perplexity (lower is better)"
               : metricKey == alpha_metric::Kl ? "KL(baseline ‖ SmoothQuant), mean (lower is better)"
                                               : "MMLU direct accuracy (higher is better)";
    c.title = "SmoothQuant: " + std::string(metricKey == alpha_metric::Ppl  ? "perplexity"
                                            : metricKey == alpha_metric::Kl ? "KL"
                                                                            : "MMLU accuracy") +
              " vs α";
    struct Group {
        std::string name, color, source;
        bool dashed = false;
        std::vector<ChartPoint> pts;
    };
    std::map<std::string, Group> groups;
    std::vector<std::string> order;
    double baseValue = NAN;
    std::string baseName;
    // Sources are named (and dashed) only when the SmoothQuant rows come from more than one.
    std::set<std::string> sources;
    for (const auto& row : rows)
        if (row.parsed && row.scheme.smoothing == qb::Smoothing::SmoothQuant)
            sources.insert(row.source);
    const bool manySources = sources.size() > 1;
    for (const auto& row : rows) {
        if (!row.parsed)
            continue;
        if (row.scheme.isBaseline()) { // the reference: this run's baseline first, else the first one
            const double v = row.value(metricKey);
            if (!std::isnan(v) && (std::isnan(baseValue) || (row.source.empty() && sources.count(""))))
                baseValue = v, baseName = elide(row.config, 40);
            continue;
        }
        if (row.scheme.smoothing != qb::Smoothing::SmoothQuant)
            continue;
        ++out.smoothQuantConfigs;
        qb::QuantScheme k = row.scheme;
        k.alpha = 0.5;
        const std::string key = k.name() + "|" + row.source;
        if (!groups.count(key)) {
            Group g;
            g.name = std::string("SQ ") + (row.scheme.dtype == qb::QDType::INT8 ? "INT8" : "FP8") +
                     (row.scheme.mode == qb::QuantMode::Fake ? " fake" : " real");
            if (k.name() != qb::QuantScheme::smoothQuant(row.scheme.dtype, 0.5, row.scheme.mode).name())
                g.name += " (" + elide(k.name(), 60) + ")";
            if (manySources)
                g.name += " · " + sourceLabel(row.source);
            g.color = seriesColor(row.scheme);
            g.dashed = manySources && !row.source.empty();
            groups[key] = g;
            order.push_back(key);
        }
        const double v = row.value(metricKey);
        if (std::isnan(v))
            continue;
        const double e = row.stderrOf(metricKey);
        ChartPoint p;
        p.x = row.scheme.alpha;
        p.y = v;
        p.err = std::isfinite(e) ? e : 0;
        p.tooltip = elide(row.config, 120) + "\nα " + fmt(row.scheme.alpha) + ": " + fmt(v, "%.4g") +
                    (p.err > 0 ? " ± " + fmt(p.err, "%.2g") : std::string());
        groups[key].pts.push_back(p);
    }
    c.emptyHint = out.smoothQuantConfigs == 0
                      ? "No SmoothQuant results. Tick SmoothQuant INT8 or FP8 in the setup (one α per run), or sweep α: "
                        "quantbench-cli analyze --model DIR --scheme S --alphas 0,0.25,0.5,0.75,1 (a sweep file: "
                        "\"schemes\": {\"smoothquant\": [{\"dtype\": \"INT8\", \"alpha\": [0, 0.5, 1]}]})."
                      : "The SmoothQuant configs have no " + c.yLabel.substr(0, c.yLabel.find(" (")) +
                            " yet: choose another metric or run that task.";
    double xlo = INFINITY, xhi = -INFINITY;
    std::vector<ChartSeries> marks, lines;
    for (const auto& key : order) {
        Group& g = groups[key];
        if (g.pts.empty())
            continue;
        std::stable_sort(g.pts.begin(), g.pts.end(), [](const ChartPoint& a, const ChartPoint& b) { return a.x < b.x; });
        ChartSeries s;
        s.name = g.name;
        s.color = g.color;
        s.dashed = g.dashed;
        s.points = g.pts;
        const ChartPoint* best = &g.pts.front();
        for (const auto& p : g.pts) {
            xlo = std::min(xlo, p.x), xhi = std::max(xhi, p.x);
            if (higherBetter ? p.y > best->y : p.y < best->y)
                best = &p;
        }
        out.best.push_back({g.name, best->x, best->y});
        ChartSeries m;
        m.name = "best α " + fmt(best->x) + " (" + g.name + ")";
        m.color = "#000000";
        m.markerSize = 15;
        ChartPoint bp = *best;
        bp.err = 0;
        bp.tooltip = "Best α of " + g.name + "\n" + best->tooltip;
        m.points.push_back(bp);
        marks.push_back(m);
        lines.push_back(s);
    }
    c.series = marks; // first: the line's own markers sit on top of the ring
    c.series.insert(c.series.end(), lines.begin(), lines.end());
    if (!lines.empty() && std::isfinite(baseValue) && metricKey != alpha_metric::Kl) {
        ChartSeries b;
        b.name = baseName + " baseline";
        b.reference = true;
        b.color = "#808080";
        b.points = {{xlo, baseValue, 0, baseName + ": " + fmt(baseValue, "%.4g")},
                    {xhi > xlo ? xhi : xlo + 1, baseValue, 0, baseName + ": " + fmt(baseValue, "%.4g")}};
        c.series.push_back(b);
    }
    return out;
}

// --- export ---

std::string heatMapCsv(const HeatMapData& d)
{
    std::string out = csvField(d.columns.size() == 1 && d.columns[0] == "layer" ? "unit" : "layer");
    for (const auto& c : d.columns)
        out += "," + csvField(c);
    out += "\n";
    for (size_t r = 0; r < d.rows.size(); ++r) {
        out += csvField(d.rows[r]);
        for (size_t c = 0; c < d.columns.size(); ++c) {
            const double v = d.at(int(r), int(c));
            out += "," + (std::isnan(v) ? std::string() : fmt(v, "%.6g"));
        }
        out += "\n";
    }
    return out;
}

std::string chartCsv(const ChartSpec& s)
{
    std::string out = "series,x,category,y,err\n";
    for (const auto& se : s.series)
        for (const auto& p : se.points) {
            const std::string cat = !s.valueX && p.x >= 0 && size_t(p.x) < s.categories.size() ? s.categories[size_t(p.x)]
                                                                                               : std::string();
            out += csvField(se.name) + "," + fmt(p.x, "%.6g") + "," + csvField(cat) + "," + fmt(p.y, "%.6g") + "," +
                   (p.err > 0 ? fmt(p.err, "%.6g") : std::string()) + "\n";
        }
    return out;
}

std::string analysisMarkdown(const std::vector<qb::ConfigRow>& rows)
{
    std::ostringstream md;
    md << "# QuantBench analysis\n\n";
    const auto sensItems = analysisItems(rows, qb::task::Sensitivity);
    if (sensItems.empty())
        md << "No sensitivity record.\n\n";
    for (const auto& it : sensItems) {
        const auto& r = it.record;
        md << "## Sensitivity: " << it.label << "\n\n" << sensitivitySummary(r) << "\n\n";
        const Recommendation rec = recommendation(r);
        if (rec.present)
            md << "**Recommended:** `" << rec.scheme << "`. " << rec.text << "\n\n";
        std::vector<const json*> units;
        for (const auto& u : arrayOf(sens(r), "units"))
            units.push_back(&u);
        std::stable_sort(units.begin(), units.end(), [](const json* a, const json* b) {
            return !(num(*a, "kl") <= num(*b, "kl")) && num(*a, "kl") > num(*b, "kl");
        });
        md << "| Unit | KL | ΔNLL | SQNR dB | max abs x | x kurtosis | x outlier % |\n|---|---:|---:|---:|---:|---:|---:|\n";
        for (size_t i = 0; i < std::min<size_t>(units.size(), 10); ++i) {
            const json& u = *units[i];
            md << "| " << (str(u, "short").empty() ? str(u, "name") : str(u, "short")) << " | " << fmt(num(u, "kl"))
               << " | " << fmt(num(u, "dnll")) << " | " << fmt(num(u, "sqnr_db"), "%.1f") << " | "
               << fmt(num(u, "x_absmax")) << " | " << fmt(num(u, "x_kurtosis")) << " | "
               << fmt(num(u, "x_outlier_frac") * 100, "%.2g") << " |\n";
        }
        md << "\n| k | KL | PPL | ΔPPL | Linear bytes | Scheme |\n|---:|---:|---:|---:|---:|---|\n";
        for (const auto& p : arrayOf(sens(r), "curve"))
            md << "| " << fmt(num(p, "k"), "%.0f") << " | " << fmt(num(p, "kl")) << " | " << fmt(num(p, "ppl"), "%.4g")
               << " | " << fmt(num(p, "dppl")) << " | " << fmtBytes(num(p, "linear_bytes")) << " | `"
               << elide(str(p, "scheme"), 200) << "` |\n";
        md << "\n";
    }
    for (const auto& it : analysisItems(rows, qb::task::Outliers)) {
        md << "## Activation outliers: " << it.label << "\n\n" << outliersSummary(it.record) << "\n\n";
        const bool sm = outliersHaveSmoothed(it.record);
        const HeatMapData h = outlierHeat(it.record, false), hs = outlierHeat(it.record, true);
        std::vector<std::pair<double, std::pair<int, int>>> cells;
        for (int r = 0; r < int(h.rows.size()); ++r)
            for (int c = 0; c < int(h.columns.size()); ++c)
                if (!std::isnan(h.at(r, c)))
                    cells.push_back({h.at(r, c), {r, c}});
        std::sort(cells.begin(), cells.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        md << "| Unit | act max/median |" << (sm ? " smoothed |\n|---|---:|---:|\n" : "\n|---|---:|\n");
        for (size_t i = 0; i < std::min<size_t>(cells.size(), 8); ++i) {
            const auto [r, c] = cells[i].second;
            md << "| " << h.rows[size_t(r)] << "." << h.columns[size_t(c)] << " | " << fmt(cells[i].first) << " |";
            if (sm)
                md << " " << fmt(hs.at(r, c)) << " |";
            md << "\n";
        }
        md << "\n";
    }
    for (const std::string* key : {&alpha_metric::Ppl, &alpha_metric::Kl, &alpha_metric::Mmlu}) {
        const AlphaChart a = alphaChart(rows, *key);
        if (a.best.empty())
            continue;
        md << "## " << a.spec.title << "\n\n| Series | α | " << a.spec.yLabel << " |\n|---|---:|---:|\n";
        for (const auto& s : a.spec.series) {
            if (s.reference || s.markerSize > 0)
                continue;
            for (const auto& p : s.points) {
                bool best = false;
                for (const auto& b : a.best)
                    best = best || (b.group == s.name && b.alpha == p.x);
                md << "| " << s.name << " | " << fmt(p.x) << " | " << (best ? "**" : "") << fmt(p.y, "%.4g")
                   << (p.err > 0 ? " ± " + fmt(p.err, "%.2g") : std::string()) << (best ? "**" : "") << " |\n";
            }
        }
        md << "\n";
    }
    return md.str();
}

} // namespace qb::ui
