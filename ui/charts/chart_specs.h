#pragma once
// Our own chart description, independent of the plotting library: the adapter in
// chart_adapter.h draws it with Qt Charts today and can draw it with Qt Graphs tomorrow.
// The builders turn core's rows of result records (core/report/rows.h) into these specs; they
// are pure functions (tested). Metric keys are core's "task.metric" keys. Names are elided.
#include "core/report/rows.h"

#include <cmath>
#include <string>
#include <vector>

namespace qb::ui {

struct ChartPoint {
    double x = 0;        // category index for category charts
    double y = 0;
    double err = 0;      // stderr, 0 when none
    std::string tooltip; // value, stderr and config
    double lo = NAN, hi = NAN; // a range instead of ± err (throughput: min and max of the repeats)
};

struct ChartSeries {
    std::string name;
    std::vector<ChartPoint> points;
    bool reference = false; // a horizontal reference line (baseline), drawn dashed
    std::string color;      // "#rrggbb": the same dtype x mode has the same colour in every chart
    bool dashed = false;    // a second source (compare view): same colour, dashed line
    bool markers = true;    // point markers (off for dense per-channel lines)
    int markerSize = 0;     // px; 0 = the default (7); a marked point (best, recommended) is larger
};

enum class ChartKind { Lines, Bars };

struct ChartSpec {
    std::string title;
    std::string yLabel;
    ChartKind kind = ChartKind::Lines;
    std::vector<std::string> categories; // x labels
    std::vector<ChartSeries> series;
    bool lowerIsBetter = false;
    bool logY = false; // log value axis (KLD spans orders of magnitude); points <= 0 are not drawn
    bool stacked = false; // bars: one bar per category, coloured by its series (dtype x mode)
    std::string emptyHint; // shown instead of empty axes when there is no point
    // Lines: x is a number (channel index, α) on a value axis instead of a category index.
    bool valueX = false;
    std::string xLabel; // x-axis title; "" = the granularity axis title
    // Error bars: drawn for every point with err > 0 (stderr; see the tooltip).

    int pointCount() const; // points over all non-reference series
};

// The colour of a series by what it is: INT8 blues, FP8 oranges (fake lighter than real),
// W8A8 darker, SmoothQuant green / purple, the baseline grey. Colour-blind safe (Okabe-Ito).
std::string seriesColor(const qb::QuantScheme& s);
std::string seriesGroup(const qb::QuantScheme& s); // "INT8 real", "FP8 fake W8A8", "SQ INT8 α0.5", ...

// MMLU direct, MMLU generate or PPL vs granularity: one line per dtype x mode (+ SmoothQuant
// as single points) and the baseline as a reference line.
ChartSpec accuracyVsGranularity(const std::vector<qb::ConfigRow>& rows, const std::string& metricKey);

// The metric keys the charts draw.
namespace chart_metric {
extern const std::string Ppl, MmluDirect, MmluGenerate, Prefill, Decode, Sqnr, Kld;
}
ChartSpec pplPerConfig(const std::vector<qb::ConfigRow>& rows);
ChartSpec throughputPerConfig(const std::vector<qb::ConfigRow>& rows); // prefill + decode bars
ChartSpec sqnrVsGranularity(const std::vector<qb::ConfigRow>& rows);
// KL(baseline || quantized) mean ± stderr vs granularity, log y axis (no baseline line: it is 0).
ChartSpec kldVsGranularity(const std::vector<qb::ConfigRow>& rows);

// Protocol guard for the charts: the rows whose records measured the same thing as the baseline
// row (core's protocolMismatch), and a note naming the others and why, so results that cannot be
// compared are never drawn on one axis. Without a baseline every row is kept.
struct ComparableRows {
    std::vector<qb::ConfigRow> rows;
    std::string note; // "" when everything is comparable
};
ComparableRows comparableRows(const std::vector<qb::ConfigRow>& rows);

// x-axis order from coarse to fine.
const std::vector<std::string>& granularityCategories();
int granularityIndex(const qb::QuantScheme& s); // -1 when not on the axis (baseline, SmoothQuant)

} // namespace qb::ui
