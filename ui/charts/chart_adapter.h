#pragma once
// The only place that knows Qt Charts (deprecated from Qt 6.10 in favour of Qt Graphs):
// a widget that draws a ChartSpec and exports itself as PNG or SVG.
#include "ui/charts/chart_specs.h"

#include <QString>

#include <string>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QAbstractAxis;
class QChart;
class QColor;
class QChartView;
QT_END_NAMESPACE

namespace qb::ui {

class ChartWidget : public QWidget {
    Q_OBJECT
public:
    explicit ChartWidget(QWidget* parent = nullptr);

    void setSpec(const ChartSpec& spec);
    const ChartSpec& spec() const { return spec_; }
    int drawnPointCount() const { return drawnPoints_; } // points actually handed to Qt Charts
    bool savePng(const QString& path, QString* error = nullptr) const;
    bool saveSvg(const QString& path, QString* error = nullptr) const;

private:
    void showTip(const std::string& text);
    void buildLines();
    void buildBars();
    void addErrorBars(const ChartSeries& s, const QColor& color, QAbstractAxis* ax, QAbstractAxis* ay, bool vertical);

    ChartSpec spec_;
    std::string signature_ = "-"; // of the spec on screen
    QChartView* view_ = nullptr;
    QChart* chart_ = nullptr;
    int drawnPoints_ = 0;
};

} // namespace qb::ui
