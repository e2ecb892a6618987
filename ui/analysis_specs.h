#pragma once
// The Analysis tab's data (docs/analysis.md): pure functions from core's rows of records to heat
// maps and chart specs. Records of task "sensitivity" (per-unit KL, the mixed-precision curve and
// its recommendation), "outliers" (per-channel activation / weight maxima, the act_ratio heat),
// and the SmoothQuant configs' "ppl" / "mmlu_direct" records (the α chart). Every reader is
// tolerant: a missing or malformed field is no cell / no point, never a crash. Nothing here is Qt.
#include "core/report/rows.h"
#include "ui/charts/chart_specs.h"

#include <string>
#include <utility>
#include <vector>

namespace qb::ui {

// A rows x columns grid of values for HeatMapWidget (heat_map.h).
struct HeatMapData {
    std::string title;
    std::string valueLabel;                 // what the colour means: "KL", "max/median"
    std::vector<std::string> rows, columns; // labels
    std::vector<double> values;             // row-major, rows x columns; NaN = no cell
    std::vector<std::string> tooltips;      // same layout; plain text, one fact per line
    bool logScale = true;                   // colour by log10(value); values <= 0 get the lowest colour
    std::string emptyHint;                  // shown when there is no cell

    double at(int r, int c) const;
    int cellCount() const;               // cells with a value
    std::pair<int, int> maxCell() const; // (row, column) of the largest value; (-1, -1) when none
};

// The seven decoder linears in model order, as the records name them.
const std::vector<std::string>& projSlots(); // q k v o gate up down
// The linear group whose input feeds a projection: q k v -> attn, o -> o, gate up -> mlp, down -> down.
std::string inputOfProj(const std::string& proj);
const std::vector<std::string>& outlierInputs(); // attn o mlp down

// A record shown in the tab, with the label its chooser shows (config, and source when loaded).
struct AnalysisItem {
    std::string label;
    qb::ResultRecord record;
};
// The newest ok record of `task` of every row (row order).
std::vector<AnalysisItem> analysisItems(const std::vector<qb::ConfigRow>& rows, const std::string& task);

// --- sensitivity ---
HeatMapData sensitivityHeat(const qb::ResultRecord& r); // layers x q..down (layer mode: one column)
ChartSpec mixedPrecisionCurve(const qb::ResultRecord& r);
struct Recommendation {
    bool present = false;
    std::string scheme; // the name a sweep runs ("INT8_Per_Tensor+keep:L3.q")
    int k = 0;
    double kl = 0, ppl = 0, dppl = 0, linearBytes = 0, fullBytes = 0, baseBytes = 0;
    bool met = false;
    std::string text; // one paragraph for the label under the curve
};
Recommendation recommendation(const qb::ResultRecord& r);
std::string sensitivitySummary(const qb::ResultRecord& r); // mode, windows, tokens, base PPL, full KL

// --- outliers ---
HeatMapData outlierHeat(const qb::ResultRecord& r, bool smoothed); // act_ratio (or act_ratio_smoothed)
bool outliersHaveSmoothed(const qb::ResultRecord& r);
int outlierLayerCount(const qb::ResultRecord& r);   // entries of details.outliers.layers
// Per-channel max |x| (weights = false: act, act_smoothed) or per-column max |W| (w, w_smoothed)
// of one layer's input; more than `maxPoints` channels are shown as the max of equal buckets.
ChartSpec outlierChannels(const qb::ResultRecord& r, int layerIndex, const std::string& input, bool weights,
                          size_t maxPoints = 1500);
std::string outliersSummary(const qb::ResultRecord& r);

// --- SmoothQuant α ---
namespace alpha_metric {
extern const std::string Ppl, Kl, Mmlu; // "ppl.ppl", "ppl.kl_mean", "mmlu_direct.accuracy"
}
struct AlphaBest {
    std::string group; // "SQ INT8 real"
    double alpha = 0, value = 0;
};
struct AlphaChart {
    ChartSpec spec;
    std::vector<AlphaBest> best; // one per series with a point
    int smoothQuantConfigs = 0;  // SmoothQuant rows seen (with or without the metric)
};
// SmoothQuant rows grouped by what they share apart from α, one series each (x = α), the best α
// of each marked (lowest PPL / KL, highest accuracy), the baseline as a reference line.
AlphaChart alphaChart(const std::vector<qb::ConfigRow>& rows, const std::string& metricKey);

// --- export ---
std::string heatMapCsv(const HeatMapData& d); // row label, then one column per column label
std::string chartCsv(const ChartSpec& s);     // series, x, category, y, err
// The tab as Markdown: recommendation, most sensitive units, curve, worst outlier layers, α table.
std::string analysisMarkdown(const std::vector<qb::ConfigRow>& rows);

} // namespace qb::ui
