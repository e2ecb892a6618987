// HeatMapWidget: a painted grid of coloured cells with labels, a colour legend and exports.
#include "ui/heat_map.h"

#include "ui/exporter.h"

#include <QContextMenuEvent>
#include <QFileDialog>
#include <QHelpEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QPixmap>
#include <QSvgGenerator>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace qb::ui {

QColor viridis(double t)
{
    static const QColor stops[] = {QColor(0x44, 0x01, 0x54), QColor(0x48, 0x28, 0x78), QColor(0x3e, 0x49, 0x89),
                                   QColor(0x31, 0x68, 0x8e), QColor(0x26, 0x82, 0x8e), QColor(0x1f, 0x9e, 0x89),
                                   QColor(0x35, 0xb7, 0x79), QColor(0x6e, 0xce, 0x58), QColor(0xfd, 0xe7, 0x25)};
    if (!std::isfinite(t))
        t = 0;
    t = std::clamp(t, 0.0, 1.0) * 8.0;
    const int i = std::min(7, int(t));
    const double f = t - i;
    const QColor &a = stops[i], &b = stops[i + 1];
    return QColor(int(a.red() + (b.red() - a.red()) * f + 0.5), int(a.green() + (b.green() - a.green()) * f + 0.5),
                  int(a.blue() + (b.blue() - a.blue()) * f + 0.5));
}

static QString num(double v) { return QString::number(v, 'g', 2); }

HeatMapWidget::HeatMapWidget(QWidget* parent) : QWidget(parent)
{
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void HeatMapWidget::setData(const HeatMapData& d)
{
    d_ = d;
    if (d_.tooltips.size() != d_.values.size())
        d_.tooltips.resize(d_.values.size());
    double lo = INFINITY, hi = -INFINITY, loPos = INFINITY;
    for (double v : d_.values) {
        if (std::isnan(v))
            continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        if (v > 0)
            loPos = std::min(loPos, v);
    }
    log_ = d_.logScale && std::isfinite(loPos);
    if (log_) {
        lo_ = loPos;
        hi_ = std::max(hi, loPos);
        if (hi_ <= lo_ * 1.0001) // one value: a decade around it
            lo_ /= std::sqrt(10.0), hi_ *= std::sqrt(10.0);
    } else {
        lo_ = std::isfinite(lo) ? lo : 0;
        hi_ = std::isfinite(hi) ? hi : 1;
        if (hi_ <= lo_)
            hi_ = lo_ + 1;
    }
    updateGeometry();
    update();
}

void HeatMapWidget::setHighlightRow(int row)
{
    if (row == highlightRow_)
        return;
    highlightRow_ = row;
    update();
}

double HeatMapWidget::position(double v) const
{
    if (std::isnan(v))
        return NAN;
    if (log_)
        return v <= 0 ? 0.0 : (std::log10(v) - std::log10(lo_)) / (std::log10(hi_) - std::log10(lo_));
    return (v - lo_) / (hi_ - lo_);
}

QColor HeatMapWidget::cellColor(int row, int col) const
{
    const double v = d_.at(row, col);
    return std::isnan(v) ? QColor(0xe8, 0xe8, 0xe8) : viridis(position(v));
}

static constexpr int kMargin = 8, kLegendBar = 14;

HeatMapWidget::Geometry HeatMapWidget::geometryFor(QSize size) const
{
    Geometry g;
    const QFontMetrics fm(font());
    int rowLabelW = 0;
    for (const auto& r : d_.rows)
        rowLabelW = std::max(rowLabelW, fm.horizontalAdvance(QString::fromStdString(r)));
    rowLabelW += 8;
    int tickW = 0;
    for (double v : {lo_, hi_, lo_ * 1.11, -hi_})
        tickW = std::max(tickW, fm.horizontalAdvance(num(v)));
    const int legendW = std::max(kLegendBar + 6 + tickW, fm.horizontalAdvance(QString::fromStdString(d_.valueLabel))) + 4;
    const QRect all(kMargin, kMargin, size.width() - 2 * kMargin, size.height() - 2 * kMargin);
    const QString title = QString::fromStdString(d_.title);
    QFont bold = font();
    bold.setBold(true); // the title is drawn bold: measured bold, or a wrapped line would overlap the header
    const int titleH = QFontMetrics(bold).boundingRect(QRect(0, 0, all.width(), 1000), Qt::TextWordWrap, title).height() + 6;
    g.title = QRect(all.left(), all.top(), all.width(), titleH);
    const int headerH = fm.height() + 4;
    const int gridTop = all.top() + titleH + headerH;
    const int gridLeft = all.left() + rowLabelW;
    const int availW = std::max(10, all.width() - rowLabelW - legendW - 12);
    const int availH = std::max(10, all.bottom() - gridTop);
    const int cols = std::max<int>(1, int(d_.columns.size())), rows = std::max<int>(1, int(d_.rows.size()));
    g.cellW = std::min(96.0, double(availW) / cols);
    g.cellH = std::min(40.0, double(availH) / rows);
    g.grid = QRect(gridLeft, gridTop, int(std::round(g.cellW * cols)), int(std::round(g.cellH * rows)));
    // The bar starts half a line below the grid's top (and ends half a line above its bottom), so
    // the end ticks' numbers stay clear of the caption above and inside the widget.
    const int legendH = std::min(availH, std::max(100, g.grid.height())) - fm.height();
    g.legend = QRect(g.grid.right() + 14, gridTop + fm.height() / 2, legendW, std::max(50, legendH));
    return g;
}

QRect HeatMapWidget::cellRect(int row, int col) const
{
    const Geometry g = geometryFor(size());
    return QRect(int(g.grid.left() + col * g.cellW), int(g.grid.top() + row * g.cellH), int(std::ceil(g.cellW)),
                 int(std::ceil(g.cellH)));
}

QSize HeatMapWidget::sizeHint() const
{
    const int rows = std::max<int>(1, int(d_.rows.size())), cols = std::max<int>(1, int(d_.columns.size()));
    return QSize(std::min(900, 120 + cols * 70), std::min(900, std::max(260, 70 + rows * 24)));
}

int HeatMapWidget::contentHeight(int width) const
{
    const int rows = std::max<int>(1, int(d_.rows.size()));
    QFont bold = font();
    bold.setBold(true);
    const QFontMetrics fm(font());
    const int titleH = QFontMetrics(bold)
                           .boundingRect(QRect(0, 0, std::max(100, width - 2 * kMargin), 1000), Qt::TextWordWrap,
                                         QString::fromStdString(d_.title))
                           .height() + 6;
    const int rowH = rows <= 12 ? 30 : rows <= 40 ? 18 : 12;
    return 2 * kMargin + titleH + fm.height() + 4 + std::max(110, rows * rowH);
}

QSize HeatMapWidget::minimumSizeHint() const
{
    const int rows = std::max<int>(1, int(d_.rows.size())), cols = std::max<int>(1, int(d_.columns.size()));
    const QFontMetrics fm(font());
    return QSize(std::max(260, 140 + cols * 34), std::max(160, 3 * fm.height() + 30 + rows * 12));
}

void HeatMapWidget::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    render(p, size());
}

void HeatMapWidget::render(QPainter& p, QSize size) const
{
    p.fillRect(QRect(QPoint(0, 0), size), Qt::white);
    p.setFont(font());
    const QFontMetrics fm(font());
    if (d_.cellCount() == 0) {
        p.setPen(QColor(0xdd, 0xdd, 0xdd));
        p.drawRect(QRect(0, 0, size.width() - 1, size.height() - 1));
        p.setPen(QColor(0x60, 0x60, 0x60));
        const QString t = QStringLiteral("%1\n\n%2").arg(QString::fromStdString(d_.title),
                                                         QString::fromStdString(d_.emptyHint.empty() ? "No data." : d_.emptyHint));
        p.drawText(QRect(12, 12, size.width() - 24, size.height() - 24), Qt::AlignCenter | Qt::TextWordWrap, t);
        return;
    }
    const Geometry g = geometryFor(size);
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(QColor(0x20, 0x20, 0x20));
    p.drawText(g.title, Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, QString::fromStdString(d_.title));
    p.setFont(font());
    // Column labels above, row labels left (every few rows when cells are short).
    for (size_t c = 0; c < d_.columns.size(); ++c) {
        const QRect r(int(g.grid.left() + c * g.cellW), g.grid.top() - fm.height() - 4, int(g.cellW), fm.height() + 2);
        p.drawText(r, Qt::AlignHCenter | Qt::AlignBottom, QString::fromStdString(d_.columns[c]));
    }
    const int rowStep = std::max(1, int(std::ceil((fm.height() + 1) / std::max(1.0, g.cellH))));
    for (size_t r = 0; r < d_.rows.size(); r += size_t(rowStep)) {
        const QRect rr(kMargin, int(g.grid.top() + r * g.cellH), g.grid.left() - kMargin - 6, int(std::ceil(g.cellH)));
        p.drawText(rr.adjusted(0, -fm.height(), 0, fm.height()), Qt::AlignRight | Qt::AlignVCenter,
                   QString::fromStdString(d_.rows[r]));
    }
    const bool cellText = g.cellH >= fm.height() + 2;
    for (size_t r = 0; r < d_.rows.size(); ++r)
        for (size_t c = 0; c < d_.columns.size(); ++c) {
            const QRectF cell(g.grid.left() + c * g.cellW, g.grid.top() + r * g.cellH, g.cellW, g.cellH);
            const QColor col = cellColor(int(r), int(c));
            p.fillRect(cell, col);
            p.setPen(QPen(Qt::white, 1));
            p.drawRect(cell);
            const double v = d_.at(int(r), int(c));
            if (!cellText)
                continue;
            const QString t = std::isnan(v) ? QStringLiteral("–") : num(v);
            if (fm.horizontalAdvance(t) + 4 > g.cellW)
                continue;
            p.setPen(std::isnan(v) || position(v) > 0.62 ? QColor(0x10, 0x10, 0x10) : Qt::white);
            p.drawText(cell, Qt::AlignCenter, t);
        }
    if (highlightRow_ >= 0 && size_t(highlightRow_) < d_.rows.size()) {
        p.setPen(QPen(QColor(0xd5, 0x5e, 0x00), 2.5));
        p.setBrush(Qt::NoBrush);
        p.drawRect(QRectF(g.grid.left() + 1, g.grid.top() + highlightRow_ * g.cellH + 1, g.grid.width() - 2, g.cellH - 2));
    }
    // Legend: the palette from low (bottom) to high (top), ticks at decades on a log scale.
    const QRect lab(g.legend.left(), g.grid.top() - fm.height() - 4, g.legend.width() + 10, fm.height() + 2);
    p.setPen(QColor(0x20, 0x20, 0x20));
    p.drawText(lab, Qt::AlignLeft | Qt::AlignBottom, QString::fromStdString(d_.valueLabel));
    const QRect bar(g.legend.left(), g.legend.top(), kLegendBar, g.legend.height());
    for (int y = 0; y < bar.height(); ++y)
        p.fillRect(QRect(bar.left(), bar.bottom() - y, bar.width(), 1), viridis(double(y) / std::max(1, bar.height() - 1)));
    p.setPen(QColor(0x80, 0x80, 0x80));
    p.drawRect(bar.adjusted(0, 0, -1, -1));
    std::vector<double> ticks;
    if (log_) {
        const int a = int(std::ceil(std::log10(lo_) - 1e-9)), b = int(std::floor(std::log10(hi_) + 1e-9));
        const int step = std::max(1, (b - a + 1) / 6 + ((b - a + 1) % 6 ? 1 : 0));
        for (int e = a; e <= b; e += step)
            ticks.push_back(std::pow(10.0, e));
        if (ticks.size() < 2)
            ticks = {lo_, std::sqrt(lo_ * hi_), hi_};
    } else {
        for (int i = 0; i <= 4; ++i)
            ticks.push_back(lo_ + (hi_ - lo_) * i / 4.0);
    }
    p.setPen(QColor(0x30, 0x30, 0x30));
    int lastY = -1000;
    for (double t : ticks) {
        const int y = int(bar.bottom() - position(t) * (bar.height() - 1));
        if (std::abs(y - lastY) < fm.height())
            continue;
        lastY = y;
        p.drawLine(bar.right() + 1, y, bar.right() + 4, y);
        p.drawText(QRect(bar.right() + 6, y - fm.height() / 2, g.legend.width(), fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                   num(t));
    }
}

bool HeatMapWidget::event(QEvent* e)
{
    if (e->type() == QEvent::ToolTip) {
        auto* he = static_cast<QHelpEvent*>(e);
        for (int r = 0; r < int(d_.rows.size()); ++r)
            for (int c = 0; c < int(d_.columns.size()); ++c)
                if (cellRect(r, c).contains(he->pos())) {
                    const size_t i = size_t(r) * d_.columns.size() + size_t(c);
                    const std::string& t = i < d_.tooltips.size() ? d_.tooltips[i] : std::string();
                    QToolTip::showText(he->globalPos(), t.empty() ? tr("no value") : QString::fromStdString(t), this);
                    return true;
                }
        QToolTip::showText(he->globalPos(),
                           tr("Hover a cell for its numbers; colour = %1 (%2 scale). Right-click: export PNG, SVG or CSV.")
                               .arg(QString::fromStdString(d_.valueLabel), log_ ? tr("log") : tr("linear")),
                           this);
        return true;
    }
    return QWidget::event(e);
}

void HeatMapWidget::mousePressEvent(QMouseEvent* e)
{
    if (e->button() != Qt::LeftButton)
        return QWidget::mousePressEvent(e);
    for (int r = 0; r < int(d_.rows.size()); ++r)
        for (int c = 0; c < int(d_.columns.size()); ++c)
            if (cellRect(r, c).contains(e->pos()))
                return Q_EMIT cellClicked(r, c);
}

void HeatMapWidget::contextMenuEvent(QContextMenuEvent* e)
{
    QMenu m(this);
    auto ask = [this](const QString& filter) { return QFileDialog::getSaveFileName(this, tr("Export heat map"), QString(), filter); };
    m.addAction(tr("Export PNG…"), this, [=] {
        if (const QString f = ask(tr("PNG (*.png)")); !f.isEmpty())
            savePng(f);
    });
    m.addAction(tr("Export SVG…"), this, [=] {
        if (const QString f = ask(tr("SVG (*.svg)")); !f.isEmpty())
            saveSvg(f);
    });
    m.addAction(tr("Export CSV…"), this, [=] {
        if (const QString f = ask(tr("CSV (*.csv)")); !f.isEmpty())
            saveCsv(f);
    });
    m.exec(e->globalPos());
}

QSize HeatMapWidget::exportSize(QSize size) const
{
    if (!size.isEmpty())
        return size;
    if (isVisible() && !this->size().isEmpty())
        return this->size();
    return sizeHint().expandedTo(QSize(640, 360));
}

bool HeatMapWidget::savePng(const QString& path, QString* error, QSize size) const
{
    const QSize sz = exportSize(size);
    QPixmap pm(sz * 2); // crisp at 2x
    pm.setDevicePixelRatio(2);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    render(p, sz);
    p.end();
    const bool ok = pm.save(path, "PNG");
    if (!ok && error)
        *error = path + QStringLiteral(": cannot write the PNG file");
    return ok;
}

bool HeatMapWidget::saveSvg(const QString& path, QString* error, QSize size) const
{
    const QSize sz = exportSize(size);
    QSvgGenerator gen;
    gen.setFileName(path);
    gen.setSize(sz);
    gen.setViewBox(QRect(QPoint(0, 0), sz));
    gen.setTitle(QString::fromStdString(d_.title));
    gen.setDescription(QStringLiteral("QuantBench heat map"));
    QPainter p;
    if (!p.begin(&gen)) {
        if (error)
            *error = path + QStringLiteral(": cannot write the SVG file");
        return false;
    }
    render(p, sz);
    p.end();
    return true;
}

bool HeatMapWidget::saveCsv(const QString& path, QString* error) const
{
    const QString err = writeTextFile(path, QByteArray::fromStdString(heatMapCsv(d_)));
    if (!err.isEmpty() && error)
        *error = err;
    return err.isEmpty();
}

} // namespace qb::ui
