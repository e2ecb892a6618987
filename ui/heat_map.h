#pragma once
// A heat map widget (Qt Charts has none): a rows x columns grid of cells coloured by value on a
// colour-blind-friendly sequential palette (viridis; log10 scale when the data says so), row and
// column labels, a colour legend with values, the value in each cell when it fits, a tooltip per
// cell, click to select, and PNG / SVG / CSV export. The data is prepared once in setData();
// painting only maps values to colours.
#include "ui/analysis_specs.h"

#include <QColor>
#include <QRect>
#include <QString>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QPainter;
QT_END_NAMESPACE

namespace qb::ui {

class HeatMapWidget : public QWidget {
    Q_OBJECT
public:
    explicit HeatMapWidget(QWidget* parent = nullptr);

    void setData(const HeatMapData& d);
    const HeatMapData& data() const { return d_; }
    int cellCount() const { return d_.cellCount(); }
    bool showsHint() const { return d_.cellCount() == 0; }
    void setHighlightRow(int row); // outlined (the layer shown below it); -1: none
    QRect cellRect(int row, int col) const; // in widget coordinates, for the current size
    QColor cellColor(int row, int col) const;
    double scaleMin() const { return lo_; }
    double scaleMax() const { return hi_; }

    // size: render at that size; empty: as on screen (or the size hint when never shown).
    bool savePng(const QString& path, QString* error = nullptr, QSize size = {}) const;
    bool saveSvg(const QString& path, QString* error = nullptr, QSize size = {}) const;
    bool saveCsv(const QString& path, QString* error = nullptr) const;

    // The height that shows every row at a comfortable cell height at `width` (title included).
    int contentHeight(int width) const;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void cellClicked(int row, int col);

protected:
    void paintEvent(QPaintEvent* e) override;
    bool event(QEvent* e) override;
    void mousePressEvent(QMouseEvent* e) override;
    void contextMenuEvent(QContextMenuEvent* e) override;

private:
    struct Geometry {
        QRect title, grid, legend;
        double cellW = 0, cellH = 0;
    };
    Geometry geometryFor(QSize size) const;
    void render(QPainter& p, QSize size) const;
    double position(double v) const; // 0..1 on the colour scale
    QSize exportSize(QSize size) const;

    HeatMapData d_;
    double lo_ = 0, hi_ = 1; // colour scale range (log scale: positive)
    bool log_ = true;
    int highlightRow_ = -1;
};

// Viridis at t in [0, 1].
QColor viridis(double t);

} // namespace qb::ui
