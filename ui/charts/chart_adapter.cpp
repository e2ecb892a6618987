// ChartWidget: draws a ChartSpec with Qt Charts (the only Qt Charts code), PNG/SVG export.
#include "ui/charts/chart_adapter.h"

#include <QBarCategoryAxis>
#include <QContextMenuEvent>
#include <QDialog>
#include <QFileDialog>
#include <QGraphicsTextItem>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QMenu>
#include <QResizeEvent>
#include <QStackedLayout>
#include <QBarSeries>
#include <QBarSet>
#include <QHorizontalBarSeries>
#include <QLegend>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPainter>
#include <QPixmap>
#include <QSvgGenerator>
#include <QTextDocument>
#include <QSet>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace qb::ui {

ChartWidget::ChartWidget(QWidget* parent) : QWidget(parent)
{
    chart_ = new QChart;
    chart_->setAnimationOptions(QChart::NoAnimation); // live updates: animation would lag behind
    chart_->legend()->setVisible(false);              // ours below wraps; Qt's truncates or eats width
    chart_->setMargins(QMargins(4, 4, 4, 4));
    view_ = new QChartView(chart_);
    view_->setRenderHint(QPainter::Antialiasing);
    legend_ = new QLabel;
    legend_->setObjectName(QStringLiteral("chartLegend"));
    legend_->setWordWrap(true);
    legend_->setAlignment(Qt::AlignHCenter);
    legend_->setTextFormat(Qt::RichText);
    legend_->setContentsMargins(6, 0, 6, 4);
    auto* page = new QWidget;
    auto* pv = new QVBoxLayout(page);
    pv->setContentsMargins(0, 0, 0, 0);
    pv->setSpacing(0);
    pv->addWidget(view_, 1);
    pv->addWidget(legend_);
    page->setAutoFillBackground(true);
    page->setStyleSheet(QStringLiteral("background: white;"));
    hint_ = new QLabel;
    hint_->setObjectName(QStringLiteral("chartHint"));
    hint_->setWordWrap(true);
    hint_->setAlignment(Qt::AlignCenter);
    hint_->setStyleSheet(QStringLiteral("QLabel { color: #606060; background: white; border: 1px solid #dddddd; }"));
    stack_ = new QStackedLayout(this);
    stack_->setContentsMargins(0, 0, 0, 0);
    stack_->addWidget(page);
    stack_->addWidget(hint_);
    setMinimumSize(300, 220);
    connect(chart_, &QChart::plotAreaChanged, this, [this] { fitCategoryLabels(); });
    setToolTip(tr("Double-click: open in its own window; right-click: export"));
}

void ChartWidget::showTip(const std::string& text)
{
    if (text.empty())
        QToolTip::hideText();
    else
        QToolTip::showText(QCursor::pos(), QString::fromStdString(text), this);
}

static void niceRange(double lo, double hi, bool fromZero, double& outLo, double& outHi)
{
    if (!(lo <= hi)) {
        lo = 0;
        hi = 1;
    }
    if (fromZero && lo > 0)
        lo = 0;
    double pad = (hi - lo) * 0.08;
    if (pad <= 0)
        pad = std::max(std::abs(hi) * 0.05, 1e-3);
    outLo = fromZero && lo >= 0 ? 0.0 : lo - pad;
    outHi = hi + pad;
}

static std::string signature(const ChartSpec& spec)
{
    std::string sig = spec.title + '|' + spec.yLabel + '|' + spec.xLabel + (spec.valueX ? "|vx" : "|cx");
    for (const auto& c : spec.categories)
        sig += '|' + c;
    for (const auto& s : spec.series) {
        sig += '#' + s.name + (s.markers ? "m" : "") + std::to_string(s.markerSize) + s.color;
        for (const auto& p : s.points)
            sig += ';' + std::to_string(p.x) + ',' + std::to_string(p.y) + ',' + p.tooltip;
    }
    return sig;
}

static QColor colorOf(const ChartSeries& s, int i)
{
    static const char* const fallback[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9"};
    return QColor(QString::fromStdString(s.color.empty() ? std::string(fallback[i % 6]) : s.color));
}

void ChartWidget::setSpec(const ChartSpec& spec)
{
    // Rebuilding a Qt chart is the expensive part of a refresh: skip it when nothing changed.
    std::string sig = signature(spec);
    if (sig == signature_)
        return;
    signature_ = sig;
    spec_ = spec;
    chart_->removeAllSeries();
    for (auto* a : chart_->axes())
        chart_->removeAxis(a), delete a;
    lineAxis_ = nullptr;
    shownCategories_ = spec.categories;
    chart_->setTitle(QString::fromStdString(spec.title));
    drawnPoints_ = 0;
    errorBars_ = 0;
    if (spec.pointCount() == 0) {
        // An empty chart says what would fill it, instead of axes labelled 0.000.
        hint_->setText(QStringLiteral("<b>%1</b><br><br>%2")
                           .arg(QString::fromStdString(spec.title).toHtmlEscaped(),
                                QString::fromStdString(spec.emptyHint.empty() ? "No results yet." : spec.emptyHint)
                                    .toHtmlEscaped()));
        stack_->setCurrentIndex(1);
        legend_->clear();
        updateMinimumHeight();
        return;
    }
    stack_->setCurrentIndex(0);
    if (spec.kind == ChartKind::Lines)
        buildLines();
    else
        buildBars();
    QStringList items;
    for (size_t i = 0; i < spec.series.size(); ++i) {
        const auto& s = spec.series[i];
        // Box-drawing dashes, not "- -": a line may break after a hyphen.
        const QString mark = s.reference ? (s.dashed ? QStringLiteral("&#9480;&#9480;") : QStringLiteral("&#9476;&#9476;"))
                             : s.dashed  ? QStringLiteral("&#9632;&#9476;")
                                         : QStringLiteral("&#9632;");
        // Non-breaking spaces inside an entry: the legend wraps between entries, never within one.
        QString name = QString::fromStdString(s.name).toHtmlEscaped();
        name.replace(QLatin1Char(' '), QStringLiteral("&nbsp;"));
        QString m = mark;
        m.replace(QLatin1Char(' '), QStringLiteral("&nbsp;"));
        items << QStringLiteral("<span style='color:%1'>%2</span>&nbsp;%3").arg(colorOf(s, int(i)).name(), m, name);
    }
    legend_->setText(items.join(QStringLiteral(" &nbsp; ")));
    legend_->setVisible(!items.isEmpty());
    updateMinimumHeight();
    fitCategoryLabels();
}

// Bars get at least a readable number of pixels per config: the chart grows (its page scrolls)
// instead of squeezing 60 configs into unreadable slivers.
void ChartWidget::updateMinimumHeight()
{
    int h = 220;
    if (spec_.kind == ChartKind::Bars && stack_->currentIndex() == 0) {
        const int sets = spec_.stacked ? 1 : std::max<int>(1, int(spec_.series.size()));
        const int perCategory = std::max(17, 9 * sets + 6);
        h = std::max(h, int(spec_.categories.size()) * perCategory + 130);
    }
    setMinimumHeight(h);
}

// The granularity labels sit under their points; when the plot is too narrow for them side by
// side they turn 90 degrees (one line height each), so they never overlap.
void ChartWidget::fitCategoryLabels()
{
    if (!lineAxis_ || spec_.categories.empty())
        return;
    const QFontMetrics fm(lineAxis_->labelsFont());
    int widest = 0;
    for (const auto& c : spec_.categories)
        widest = std::max(widest, fm.horizontalAdvance(QString::fromStdString(c)));
    const double slot = chart_->plotArea().width() / double(spec_.categories.size());
    const int angle = slot >= widest + 6 ? 0 : -90;
    if (lineAxis_->labelsAngle() != angle)
        lineAxis_->setLabelsAngle(angle);
}

void ChartWidget::buildLines()
{
    QAbstractAxis* ax = nullptr;
    capWidth_ = 0.08; // error-bar caps, in x units
    if (spec_.valueX) {
        // A numeric x (channel index, α): a value axis over the points' range.
        double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo;
        for (const auto& s : spec_.series)
            for (const auto& p : s.points)
                xlo = std::min(xlo, p.x), xhi = std::max(xhi, p.x);
        if (!(xlo <= xhi))
            xlo = 0, xhi = 1;
        const double pad = xhi > xlo ? (xhi - xlo) * 0.03 : 0.5;
        auto* vx = new QValueAxis;
        vx->setRange(xlo - pad, xhi + pad);
        // Ticks on round numbers (0, 0.25, 0.5 ...; 0, 10, 20 ...), not on the padded range's ends.
        const double raw = xhi > xlo ? (xhi - xlo) / 5.0 : 0.25, mag = std::pow(10.0, std::floor(std::log10(raw)));
        double step = mag;
        for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
            if (m * mag >= raw) {
                step = m * mag;
                break;
            }
        vx->setTickType(QValueAxis::TicksDynamic);
        vx->setTickAnchor(0.0);
        vx->setTickInterval(step);
        vx->setLabelFormat(QStringLiteral("%g"));
        vx->setTruncateLabels(false);
        vx->setTitleText(QString::fromStdString(spec_.xLabel));
        capWidth_ = std::max(1e-9, (xhi - xlo + 2 * pad) * 0.012);
        ax = vx;
    } else {
        // Labels on the category values (the points), not between boundaries.
        auto* cx = new QCategoryAxis;
        cx->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
        cx->setStartValue(-0.5);
        for (size_t i = 0; i < spec_.categories.size(); ++i)
            cx->append(QString::fromStdString(spec_.categories[i]), double(i));
        cx->setRange(-0.5, double(spec_.categories.size()) - 0.5);
        cx->setTitleText(spec_.xLabel.empty() ? tr("granularity: coarse → fine") : QString::fromStdString(spec_.xLabel));
        cx->setTruncateLabels(false);
        cx->setGridLineVisible(false);
        lineAxis_ = cx;
        ax = cx;
    }
    QAbstractAxis* ay = nullptr;
    QValueAxis* ayLin = nullptr;
    QLogValueAxis* ayLog = nullptr;
    if (spec_.logY) {
        ayLog = new QLogValueAxis;
        ayLog->setBase(10);
        ayLog->setLabelFormat(QStringLiteral("%.0e"));
        ayLog->setMinorTickCount(-1);
        ayLog->setTruncateLabels(false);
        ay = ayLog;
    } else {
        ayLin = new QValueAxis;
        ay = ayLin;
    }
    ay->setTitleText(QString::fromStdString(spec_.yLabel));
    chart_->addAxis(ax, Qt::AlignBottom);
    chart_->addAxis(ay, Qt::AlignLeft);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (size_t si = 0; si < spec_.series.size(); ++si) {
        const auto& s = spec_.series[si];
        auto* ls = new QLineSeries;
        ls->setName(QString::fromStdString(s.name));
        int drawn = 0;
        for (const auto& p : s.points) {
            if (spec_.logY && !(p.y > 0))
                continue; // no place on a log axis
            ls->append(p.x, p.y);
            ++drawn;
            lo = std::min(lo, spec_.logY ? std::max(p.y - p.err, p.y * 0.5) : p.y - p.err);
            hi = std::max(hi, p.y + p.err);
        }
        chart_->addSeries(ls); // the theme picks a colour here; ours (by dtype x mode) replaces it
        QPen pen(colorOf(s, int(si)));
        if (s.reference) {
            pen.setStyle(s.dashed ? Qt::DotLine : Qt::DashLine);
            pen.setWidthF(1.5);
        } else {
            ls->setPointsVisible(s.markers);
            ls->setMarkerSize(s.markerSize > 0 ? s.markerSize : 7);
            pen.setWidthF(s.markers ? 2.0 : 1.2);
            pen.setStyle(s.dashed ? Qt::DashLine : Qt::SolidLine);
            drawnPoints_ += drawn;
        }
        ls->setPen(pen);
        ls->setColor(pen.color());
        ls->attachAxis(ax);
        ls->attachAxis(ay);
        if (!s.reference)
            addErrorBars(s, ls->pen().color(), ax, ay, /*vertical=*/true);
        connect(ls, &QLineSeries::hovered, this, [this, si](const QPointF& pt, bool state) {
            if (!state || si >= spec_.series.size())
                return showTip({});
            const auto& pts = spec_.series[si].points;
            auto best = std::min_element(pts.begin(), pts.end(), [&](const ChartPoint& a, const ChartPoint& b) {
                return std::abs(a.x - pt.x()) < std::abs(b.x - pt.x());
            });
            showTip(best == pts.end() ? std::string() : best->tooltip);
        });
    }
    if (ayLog) {
        if (!(lo > 0 && lo <= hi)) {
            lo = 1e-4;
            hi = 1;
        }
        // A hair outside the decades: Qt places log ticks from ceil(log10(min)), and pow(10, -1) is a bit
        // above 0.1 in binary, so the bottom decade's label went missing (a 0.1..1 weight chart showed "1e+00" only).
        ayLog->setRange(std::pow(10.0, std::floor(std::log10(lo))) * (1 - 1e-9),
                        std::pow(10.0, std::ceil(std::log10(hi))) * (1 + 1e-9));
        return;
    }
    double rlo, rhi;
    niceRange(lo, hi, false, rlo, rhi);
    ayLin->setRange(rlo, rhi);
    ayLin->setTickCount(6);
    ayLin->applyNiceNumbers();
    ayLin->setLabelFormat(QStringLiteral("%.3g")); // 3 significant digits, never 0.000...
    ayLin->setTruncateLabels(false);
}

// Qt Charts has no error-bar series: each bar is one thin QLineSeries (with short caps) in the
// series' colour, hidden from the legend. vertical: value on y (line charts); else on x (bars).
void ChartWidget::addErrorBars(const ChartSeries& s, const QColor& color, QAbstractAxis* ax, QAbstractAxis* ay,
                               bool vertical, double offset)
{
    QPen pen(color);
    pen.setWidthF(1.2);
    const double cap = vertical ? capWidth_ : 0.08; // in x units (category units on bars)
    for (const auto& p0 : s.points) {
        const bool range = std::isfinite(p0.lo) && std::isfinite(p0.hi);
        if ((!range && (!(p0.err > 0) || !std::isfinite(p0.err))) || (spec_.logY && !(p0.y > 0)))
            continue;
        ChartPoint p = p0;
        p.x += offset; // a set's bar beside the others of its category
        const double a = range ? p.lo : spec_.logY ? std::max(p.y - p.err, p.y * 0.5) : p.y - p.err,
                     b = range ? p.hi : p.y + p.err;
        auto* e = new QLineSeries;
        if (vertical)
            e->append({QPointF(p.x - cap, a), QPointF(p.x + cap, a), QPointF(p.x, a), QPointF(p.x, b),
                       QPointF(p.x - cap, b), QPointF(p.x + cap, b)});
        else
            e->append({QPointF(a, p.x - cap), QPointF(a, p.x + cap), QPointF(a, p.x), QPointF(b, p.x),
                       QPointF(b, p.x - cap), QPointF(b, p.x + cap)});
        chart_->addSeries(e);
        ++errorBars_;
        e->setPen(pen);
        e->attachAxis(ax);
        e->attachAxis(ay);
        for (auto* m : chart_->legend()->markers(e))
            m->setVisible(false);
    }
}

static int barLabelBudget(int chartWidth) { return std::max(60, int(chartWidth * 0.33) - 4); }

void ChartWidget::resizeEvent(QResizeEvent* e)
{
    QWidget::resizeEvent(e);
    // Re-fit the bar labels when the budget changes and it matters (some were, or would be, cut).
    if (spec_.kind == ChartKind::Bars && stack_->currentIndex() == 0 && barLabelBudget(width()) != labelBudget_) {
        const QFontMetrics fm(chart_->font());
        bool anyLong = labelsElided_;
        for (const auto& c : spec_.categories)
            anyLong = anyLong || fm.horizontalAdvance(QString::fromStdString(c)) > barLabelBudget(width());
        if (anyLong) {
            signature_ = "-";
            const ChartSpec s = spec_;
            setSpec(s);
        }
    }
}

void ChartWidget::buildBars()
{
    // Horizontal bars: config names are long and read best on the vertical axis. One metric:
    // stacked sets, one per dtype x mode with a value only on its own configs, so each config
    // has one bar in its group's colour. Several metrics: side-by-side sets in metric colours.
    QAbstractBarSeries* bars = spec_.stacked ? static_cast<QAbstractBarSeries*>(new QHorizontalStackedBarSeries)
                                             : static_cast<QAbstractBarSeries*>(new QHorizontalBarSeries);
    bars->setBarWidth(spec_.stacked ? 0.7 : 0.8);
    for (size_t si = 0; si < spec_.series.size(); ++si) {
        const auto& s = spec_.series[si];
        auto* set = new QBarSet(QString::fromStdString(s.name));
        std::vector<double> vals(spec_.categories.size(), 0.0);
        for (const auto& p : s.points)
            if (p.x >= 0 && size_t(p.x) < vals.size())
                vals[size_t(p.x)] = p.y;
        for (double v : vals)
            set->append(v);
        set->setColor(colorOf(s, int(si)));
        set->setBorderColor(colorOf(s, int(si)).darker(115));
        drawnPoints_ += int(s.points.size());
        bars->append(set);
        connect(set, &QBarSet::hovered, this, [this, si](bool state, int index) {
            if (!state || si >= spec_.series.size())
                return showTip({});
            for (const auto& p : spec_.series[si].points)
                if (int(p.x) == index)
                    return showTip(p.tooltip);
            showTip({});
        });
    }
    chart_->addSeries(bars);
    auto* ax = new QBarCategoryAxis;
    // Qt Charts gives the label column only a share of the chart's width and cuts longer
    // labels at the chart's edge: shorten them in the middle to that share instead (the
    // full name is in the bar's tooltip). Resizing the chart redoes this.
    labelBudget_ = barLabelBudget(width());
    labelsElided_ = false;
    shownCategories_.clear();
    const QFontMetrics fm(ax->labelsFont());
    QStringList cats;
    for (const auto& c : spec_.categories) {
        const QString full = QString::fromStdString(c);
        QString shown = fm.horizontalAdvance(full) > labelBudget_ ? fm.elidedText(full, Qt::ElideMiddle, labelBudget_) : full;
        labelsElided_ |= shown != full;
        // Two names shortened alike stay distinct (a category axis needs unique labels).
        while (cats.contains(shown))
            shown += QChar(0x200B);
        cats << shown;
        shownCategories_.push_back(shown.toStdString());
    }
    ax->append(cats);
    ax->setTruncateLabels(false); // config names must stay readable (the chart grows instead)
    ax->setGridLineVisible(false);
    auto* ay = new QValueAxis;
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const auto& s : spec_.series)
        for (const auto& p : s.points) {
            const bool range = std::isfinite(p.lo) && std::isfinite(p.hi);
            lo = std::min(lo, range ? p.lo : p.y - p.err);
            hi = std::max(hi, range ? p.hi : p.y + p.err);
        }
    // Values within a few percent of each other (PPL of nearby schemes) are invisible on bars
    // from zero: zoom to the data and say so on the axis.
    const bool zoom = spec_.stacked && lo > 0 && lo > 0.8 * hi;
    double rlo, rhi;
    niceRange(zoom ? lo : 0, hi, !zoom, rlo, rhi);
    ay->setRange(rlo, rhi);
    ay->setTickCount(6);
    ay->applyNiceNumbers();
    if (!zoom && ay->min() < 0)
        ay->setMin(0);
    ay->setLabelFormat(QStringLiteral("%.3g"));
    ay->setTruncateLabels(false);
    ay->setTitleText(QString::fromStdString(spec_.yLabel) + (zoom ? tr(" (axis does not start at 0)") : QString()));
    chart_->addAxis(ax, Qt::AlignLeft);
    chart_->addAxis(ay, Qt::AlignBottom);
    bars->attachAxis(ax);
    bars->attachAxis(ay);
    if (spec_.stacked) { // one bar per category: the bar sits on the category's centre line
        for (const auto& s : spec_.series)
            addErrorBars(s, QColor(0x20, 0x20, 0x20), ay, ax, /*vertical=*/false);
    } else { // n sets side by side: set i's bar centre is offset within the category
        const double n = double(spec_.series.size()), w = bars->barWidth() / n;
        for (size_t i = 0; i < spec_.series.size(); ++i)
            addErrorBars(spec_.series[i], QColor(0x20, 0x20, 0x20), ay, ax, /*vertical=*/false,
                         (double(i) - (n - 1) / 2.0) * w);
    }
}

std::vector<std::pair<QString, QRectF>> ChartWidget::categoryLabels() const
{
    std::vector<std::pair<QString, QRectF>> out;
    if (stack_->currentIndex() != 0 || !chart_->scene())
        return out;
    QSet<QString> cats;
    for (const auto& c : shownCategories_)
        cats.insert(QString::fromStdString(c));
    for (QGraphicsItem* it : chart_->scene()->items())
        if (auto* t = dynamic_cast<QGraphicsTextItem*>(it); t && t->isVisible()) {
            const QString text = t->toPlainText();
            if (cats.contains(text))
                out.push_back({text, t->sceneBoundingRect()});
        }
    return out;
}

bool ChartWidget::showsHint() const { return stack_->currentIndex() == 1; }

QString ChartWidget::legendText() const
{
    QTextDocument d;
    d.setHtml(legend_->text());
    return d.toPlainText();
}

void ChartWidget::popOut()
{
    auto* dlg = new QDialog(window());
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    dlg->setWindowTitle(QString::fromStdString(spec_.title));
    dlg->setWindowFlags(dlg->windowFlags() | Qt::WindowMaximizeButtonHint);
    auto* l = new QVBoxLayout(dlg);
    auto* c = new ChartWidget(dlg);
    c->setSpec(spec_);
    l->addWidget(c);
    dlg->resize(1000, std::max(650, c->minimumHeight()));
    dlg->show();
}

void ChartWidget::mouseDoubleClickEvent(QMouseEvent*) { popOut(); }

void ChartWidget::contextMenuEvent(QContextMenuEvent* e)
{
    QMenu m(this);
    m.addAction(tr("Open in a window"), this, &ChartWidget::popOut);
    m.addAction(tr("Export PNG…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export chart"), QString(), tr("PNG (*.png)"));
        if (!f.isEmpty())
            savePng(f);
    });
    m.addAction(tr("Export SVG…"), this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export chart"), QString(), tr("SVG (*.svg)"));
        if (!f.isEmpty())
            saveSvg(f);
    });
    m.exec(e->globalPos());
}

// What is saved is the chart with its legend. At a size other than the one on screen, a
// fresh widget lays the same spec out at that size (nothing on screen changes).
template <class F> static bool atSize(const ChartWidget& self, QSize size, const ChartSpec& spec, F&& draw)
{
    if (size.isEmpty() || size == self.size())
        return draw(self);
    ChartWidget w;
    w.setAttribute(Qt::WA_DontShowOnScreen);
    w.setSpec(spec);
    w.resize(size);
    w.show();
    return draw(w);
}

bool ChartWidget::savePng(const QString& path, QString* error, QSize size) const
{
    const bool ok = atSize(*this, size, spec_, [&](const ChartWidget& w) {
        const QPixmap pm = w.stack_->currentWidget()->grab();
        return !pm.isNull() && pm.save(path, "PNG");
    });
    if (!ok && error)
        *error = path + QStringLiteral(": cannot write the PNG file");
    return ok;
}

bool ChartWidget::saveSvg(const QString& path, QString* error, QSize size) const
{
    const bool ok = atSize(*this, size, spec_, [&](const ChartWidget& w) {
        QWidget* page = w.stack_->currentWidget();
        const QSize sz = page->size().isEmpty() ? QSize(800, 500) : page->size();
        QSvgGenerator gen;
        gen.setFileName(path);
        gen.setSize(sz);
        gen.setViewBox(QRect(QPoint(0, 0), sz));
        gen.setTitle(QString::fromStdString(spec_.title));
        gen.setDescription(QStringLiteral("QuantBench chart"));
        QPainter p;
        if (!p.begin(&gen))
            return false;
        page->render(&p);
        p.end();
        return true;
    });
    if (!ok && error)
        *error = path + QStringLiteral(": cannot write the SVG file");
    return ok;
}

} // namespace qb::ui
