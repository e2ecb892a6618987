#pragma once
// The only place that knows Qt Charts (deprecated from Qt 6.10 in favour of Qt Graphs):
// a widget that draws a ChartSpec and exports itself as PNG or SVG.
#include "ui/charts/chart_specs.h"

#include <QSize>
#include <QString>

#include <string>
#include <QWidget>

#include <QRectF>
#include <vector>

QT_BEGIN_NAMESPACE
class QAbstractAxis;
class QCategoryAxis;
class QChart;
class QColor;
class QChartView;
class QLabel;
class QStackedLayout;
QT_END_NAMESPACE

namespace qb::ui {

class ChartWidget : public QWidget {
    Q_OBJECT
public:
    explicit ChartWidget(QWidget* parent = nullptr);

    void setSpec(const ChartSpec& spec);
    const ChartSpec& spec() const { return spec_; }
    int drawnPointCount() const { return drawnPoints_; } // points actually handed to Qt Charts
    int errorBarCount() const { return errorBars_; }
    // size: render at that size (any size, independent of the window); empty: as on screen.
    bool savePng(const QString& path, QString* error = nullptr, QSize size = {}) const;
    bool saveSvg(const QString& path, QString* error = nullptr, QSize size = {}) const;
    bool showsHint() const; // the empty-chart hint instead of axes
    // The category labels as drawn (text, scene rectangle), visible ones only: for tests that
    // check every config is labelled and no two labels overlap.
    std::vector<std::pair<QString, QRectF>> categoryLabels() const;
    const std::vector<std::string>& shownCategories() const { return shownCategories_; }
    QString legendText() const; // the legend under the chart, plain text
    void popOut(); // the chart in its own resizable window (double-click does it too)

protected:
    void mouseDoubleClickEvent(QMouseEvent* e) override;
    void contextMenuEvent(QContextMenuEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;

private:
    void fitCategoryLabels(); // rotate the granularity labels when they would collide
    void updateMinimumHeight();
    void showTip(const std::string& text);
    void buildLines();
    void buildBars();
    void addErrorBars(const ChartSeries& s, const QColor& color, QAbstractAxis* ax, QAbstractAxis* ay, bool vertical,
                      double offset = 0);

    ChartSpec spec_;
    std::string signature_ = "-"; // of the spec on screen
    QChartView* view_ = nullptr;
    QChart* chart_ = nullptr;
    QLabel* legend_ = nullptr; // our own wrapping legend: Qt's cannot wrap and eats plot width
    QLabel* hint_ = nullptr;
    QStackedLayout* stack_ = nullptr;
    QCategoryAxis* lineAxis_ = nullptr; // the granularity axis of a line chart
    int drawnPoints_ = 0;
    int errorBars_ = 0;
    double capWidth_ = 0.08; // error-bar cap half-width of a line chart, in x units
    int labelBudget_ = 0;     // px for a bar chart's category labels (Qt Charts cuts what is wider)
    bool labelsElided_ = false;
    std::vector<std::string> shownCategories_; // the category labels as drawn (maybe shortened)
};

} // namespace qb::ui
