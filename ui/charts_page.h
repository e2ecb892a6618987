#pragma once
// The Charts tab: accuracy vs granularity (metric selectable), PPL per config, KLD vs
// granularity (log y), matmul SQNR vs granularity, throughput per config, in a scrolling grid
// (bar charts grow with the number of configs), and under a splitter one table of the report,
// so the charts and the summary are read together while a sweep runs. Points with a stderr
// carry error bars. setRows() rebuilds every chart from core's rows of records.
#include "core/report/rows.h"
#include "ui/charts/chart_specs.h"

#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
class QGridLayout;
class QLabel;
class QSplitter;
QT_END_NAMESPACE

namespace qb::ui {

class ChartWidget;
class OverviewTable;

class ChartsPage : public QWidget {
    Q_OBJECT
public:
    explicit ChartsPage(QWidget* parent = nullptr);

    // lazy (live refreshes during a run): charts are redrawn one per event-loop turn, and the
    // ones scrolled out of sight keep their new spec pending until they come into view.
    void setRows(const std::vector<qb::ConfigRow>& rows, bool lazy = false);
    // Each chart with a file-name stem: accuracy, ppl, throughput, sqnr, kld.
    std::vector<std::pair<QString, ChartWidget*>> charts() const;
    QComboBox* metricChooser() const { return metric_; }
    QString protocolNote() const; // "" when every row is drawn
    OverviewTable* overview() const { return overview_; }
    QSplitter* splitter() const { return split_; }

protected:
    void resizeEvent(QResizeEvent* e) override;
    void showEvent(QShowEvent* e) override;

private:
    void rebuildAccuracy();
    void arrange(int columns);
    void present(ChartWidget* w, const ChartSpec& spec); // now, or pending while out of sight
    void flushPending();

    QComboBox* metric_ = nullptr;
    QLabel* note_ = nullptr;
    ChartWidget* accuracy_ = nullptr;
    ChartWidget* ppl_ = nullptr;
    ChartWidget* throughput_ = nullptr;
    ChartWidget* sqnr_ = nullptr;
    ChartWidget* kld_ = nullptr;
    std::vector<qb::ConfigRow> rows_;
    OverviewTable* overview_ = nullptr;
    QSplitter* split_ = nullptr;
    QGridLayout* grid_ = nullptr;
    int columns_ = 0;
    bool lazy_ = false;
    std::vector<std::pair<ChartWidget*, ChartSpec>> pending_;
};

} // namespace qb::ui
