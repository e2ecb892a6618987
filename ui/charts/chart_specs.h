#pragma once
// Our own chart description, independent of the plotting library: the adapter in
// chart_adapter.h draws it with Qt Charts today and can draw it with Qt Graphs tomorrow.
// The builders turn core's rows of result records (core/report/rows.h) into these specs; they
// are pure functions (tested). Metric keys are core's "task.metric" keys. Names are elided.
#include "core/report/rows.h"

#include <string>
#include <vector>

namespace qb::ui {

struct ChartPoint {
    double x = 0;        // category index for category charts
    double y = 0;
    double err = 0;      // stderr, 0 when none
    std::string tooltip; // value, stderr and config
};

struct ChartSeries {
    std::string name;
    std::vector<ChartPoint> points;
    bool reference = false; // a horizontal reference line (baseline), drawn dashed
};

enum class ChartKind { Lines, Bars };

struct ChartSpec {
    std::string title;
    std::string yLabel;
    ChartKind kind = ChartKind::Lines;
    std::vector<std::string> categories; // x labels
    std::vector<ChartSeries> series;
    bool lowerIsBetter = false;

    int pointCount() const; // points over all non-reference series
};

// MMLU direct, MMLU generate or PPL vs granularity: one line per dtype x mode (+ SmoothQuant
// as single points) and the baseline as a reference line.
ChartSpec accuracyVsGranularity(const std::vector<qb::ConfigRow>& rows, const std::string& metricKey);

// The metric keys the charts draw.
namespace chart_metric {
extern const std::string Ppl, MmluDirect, MmluGenerate, Prefill, Decode, Sqnr;
}
ChartSpec pplPerConfig(const std::vector<qb::ConfigRow>& rows);
ChartSpec throughputPerConfig(const std::vector<qb::ConfigRow>& rows); // prefill + decode bars
ChartSpec sqnrVsGranularity(const std::vector<qb::ConfigRow>& rows);

// x-axis order from coarse to fine.
const std::vector<std::string>& granularityCategories();
int granularityIndex(const qb::QuantScheme& s); // -1 when not on the axis (baseline, SmoothQuant)

} // namespace qb::ui
