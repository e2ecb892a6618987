#pragma once
// The Compare tab: two sources of results (a loaded old run and this run, two models, two
// machines) side by side. core's compareSources() gives the diff table (Δ per metric with the
// paired test where the protocols match, the reason where they do not); the granularity chart
// overlays both sources, B dashed.
#include "core/results/record.h"

#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
QT_END_NAMESPACE

namespace qb::ui {

class ChartWidget;
class ReportTableView;

class ComparePage : public QWidget {
    Q_OBJECT
public:
    explicit ComparePage(QWidget* parent = nullptr);
    void setRecords(const std::vector<qb::ResultRecord>& records);
    QComboBox* sourceA() const { return a_; }
    QComboBox* sourceB() const { return b_; }
    ReportTableView* table() const { return table_; }
    ChartWidget* chart() const { return chart_; }

private:
    void rebuild();

    QComboBox* a_ = nullptr;
    QComboBox* b_ = nullptr;
    QComboBox* metric_ = nullptr;
    QLabel* hint_ = nullptr;
    ReportTableView* table_ = nullptr;
    ChartWidget* chart_ = nullptr;
    std::vector<qb::ResultRecord> records_;
};

} // namespace qb::ui
