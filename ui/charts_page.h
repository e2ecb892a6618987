#pragma once
// The Charts tab: accuracy vs granularity (metric selectable), PPL per config, throughput per
// config, matmul SQNR vs granularity. setRows() rebuilds every chart from core's rows of records.
#include "core/report/rows.h"

#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
QT_END_NAMESPACE

namespace qb::ui {

class ChartWidget;

class ChartsPage : public QWidget {
    Q_OBJECT
public:
    explicit ChartsPage(QWidget* parent = nullptr);

    void setRows(const std::vector<qb::ConfigRow>& rows);
    // Each chart with a file-name stem: accuracy, ppl, throughput, sqnr.
    std::vector<std::pair<QString, ChartWidget*>> charts() const;
    QComboBox* metricChooser() const { return metric_; }

private:
    void rebuildAccuracy();

    QComboBox* metric_ = nullptr;
    ChartWidget* accuracy_ = nullptr;
    ChartWidget* ppl_ = nullptr;
    ChartWidget* throughput_ = nullptr;
    ChartWidget* sqnr_ = nullptr;
    std::vector<qb::ConfigRow> rows_;
};

} // namespace qb::ui
