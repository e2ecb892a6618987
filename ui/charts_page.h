#pragma once
// The Charts tab: accuracy vs granularity (metric selectable), PPL per config, throughput per
// config, matmul SQNR vs granularity, KLD vs granularity (log y). Points with a stderr carry error bars. setRows() rebuilds every chart from core's rows of records.
#include "core/report/rows.h"

#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
QT_END_NAMESPACE

namespace qb::ui {

class ChartWidget;

class ChartsPage : public QWidget {
    Q_OBJECT
public:
    explicit ChartsPage(QWidget* parent = nullptr);

    void setRows(const std::vector<qb::ConfigRow>& rows);
    // Each chart with a file-name stem: accuracy, ppl, throughput, sqnr, kld.
    std::vector<std::pair<QString, ChartWidget*>> charts() const;
    QComboBox* metricChooser() const { return metric_; }
    QString protocolNote() const; // "" when every row is drawn

private:
    void rebuildAccuracy();

    QComboBox* metric_ = nullptr;
    QLabel* note_ = nullptr;
    ChartWidget* accuracy_ = nullptr;
    ChartWidget* ppl_ = nullptr;
    ChartWidget* throughput_ = nullptr;
    ChartWidget* sqnr_ = nullptr;
    ChartWidget* kld_ = nullptr;
    std::vector<qb::ConfigRow> rows_;
};

} // namespace qb::ui
