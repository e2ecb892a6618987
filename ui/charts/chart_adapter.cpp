// ChartWidget: draws a ChartSpec with Qt Charts (the only Qt Charts code), PNG/SVG export.
#include "ui/charts/chart_adapter.h"

#include <QBarCategoryAxis>
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
    chart_->legend()->setAlignment(Qt::AlignBottom);
    chart_->legend()->setVisible(true);
    QFont small = chart_->legend()->font();
    small.setPointSizeF(std::max(6.5, small.pointSizeF() - 1.5));
    chart_->legend()->setFont(small);
    chart_->setMargins(QMargins(4, 4, 4, 4));
    view_ = new QChartView(chart_, this);
    view_->setRenderHint(QPainter::Antialiasing);
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    lay->addWidget(view_);
    setMinimumSize(320, 220);
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
    std::string sig = spec.title + '|' + spec.yLabel;
    for (const auto& c : spec.categories)
        sig += '|' + c;
    for (const auto& s : spec.series) {
        sig += '#' + s.name;
        for (const auto& p : s.points)
            sig += ';' + std::to_string(p.x) + ',' + std::to_string(p.y) + ',' + p.tooltip;
    }
    return sig;
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
    chart_->setTitle(QString::fromStdString(spec.title));
    drawnPoints_ = 0;
    if (spec.kind == ChartKind::Lines)
        buildLines();
    else
        buildBars();
    chart_->legend()->setVisible(!spec.series.empty());
    // Line charts carry up to six series with long names: a column at the right keeps them whole.
    const Qt::Alignment want = spec.kind == ChartKind::Lines ? Qt::AlignRight : Qt::AlignBottom;
    if (chart_->legend()->alignment() != want) // a change re-lays out the whole chart
        chart_->legend()->setAlignment(want);

}

void ChartWidget::buildLines()
{
    auto* ax = new QCategoryAxis;
    ax->setStartValue(-0.5);
    for (size_t i = 0; i < spec_.categories.size(); ++i)
        ax->append(QString::fromStdString(spec_.categories[i]), double(i) + 0.5);
    ax->setRange(-0.5, double(spec_.categories.size()) - 0.5);
    ax->setTitleText(tr("granularity: coarse → fine"));
    ax->setTruncateLabels(false);
    QFont f = ax->labelsFont(); // six granularities must fit beside the legend column
    f.setPointSizeF(std::max(6.5, f.pointSizeF() - 1.5));
    ax->setLabelsFont(f);
    QAbstractAxis* ay = nullptr;
    QValueAxis* ayLin = nullptr;
    QLogValueAxis* ayLog = nullptr;
    if (spec_.logY) {
        ayLog = new QLogValueAxis;
        ayLog->setBase(10);
        ayLog->setLabelFormat(QStringLiteral("%.0e"));
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
        chart_->addSeries(ls); // the theme picks the colour here; pens are adjusted after
        if (s.reference) {
            QPen pen(QColor(0x40, 0x40, 0x40));
            pen.setStyle(Qt::DashLine);
            pen.setWidthF(1.5);
            ls->setPen(pen);
        } else {
            ls->setPointsVisible(true);
            QPen pen = ls->pen();
            pen.setWidthF(2.0);
            ls->setPen(pen);
            drawnPoints_ += drawn;
        }
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
        ayLog->setRange(std::pow(10.0, std::floor(std::log10(lo))), std::pow(10.0, std::ceil(std::log10(hi))));
        return;
    }
    double rlo, rhi;
    niceRange(lo, hi, false, rlo, rhi);
    ayLin->setRange(rlo, rhi);
}

// Qt Charts has no error-bar series: each bar is one thin QLineSeries (with short caps) in the
// series' colour, hidden from the legend. vertical: value on y (line charts); else on x (bars).
void ChartWidget::addErrorBars(const ChartSeries& s, const QColor& color, QAbstractAxis* ax, QAbstractAxis* ay,
                               bool vertical)
{
    QPen pen(color);
    pen.setWidthF(1.2);
    const double cap = 0.08; // in category units
    for (const auto& p : s.points) {
        if (!(p.err > 0) || !std::isfinite(p.err) || (spec_.logY && !(p.y > 0)))
            continue;
        const double a = spec_.logY ? std::max(p.y - p.err, p.y * 0.5) : p.y - p.err, b = p.y + p.err;
        auto* e = new QLineSeries;
        if (vertical)
            e->append({QPointF(p.x - cap, a), QPointF(p.x + cap, a), QPointF(p.x, a), QPointF(p.x, b),
                       QPointF(p.x - cap, b), QPointF(p.x + cap, b)});
        else
            e->append({QPointF(a, p.x - cap), QPointF(a, p.x + cap), QPointF(a, p.x), QPointF(b, p.x),
                       QPointF(b, p.x - cap), QPointF(b, p.x + cap)});
        chart_->addSeries(e);
        e->setPen(pen);
        e->attachAxis(ax);
        e->attachAxis(ay);
        for (auto* m : chart_->legend()->markers(e))
            m->setVisible(false);
    }
}

void ChartWidget::buildBars()
{
    // Horizontal bars: config names are long and read best on the vertical axis.
    auto* bars = new QHorizontalBarSeries;
    for (size_t si = 0; si < spec_.series.size(); ++si) {
        const auto& s = spec_.series[si];
        auto* set = new QBarSet(QString::fromStdString(s.name));
        std::vector<double> vals(spec_.categories.size(), 0.0);
        for (const auto& p : s.points)
            if (p.x >= 0 && size_t(p.x) < vals.size())
                vals[size_t(p.x)] = p.y;
        for (double v : vals)
            set->append(v);
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
    QStringList cats;
    for (const auto& c : spec_.categories)
        cats << QString::fromStdString(c);
    ax->append(cats);
    ax->setTruncateLabels(false); // config names must stay readable
    QFont f = ax->labelsFont();     // one label per config, up to ~30 of them
    f.setPointSizeF(std::max(6.5, f.pointSizeF() - 1.5));
    ax->setLabelsFont(f);
    auto* ay = new QValueAxis;
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const auto& s : spec_.series)
        for (const auto& p : s.points) {
            lo = std::min(lo, p.y - p.err);
            hi = std::max(hi, p.y + p.err);
        }
    // Values within a few percent of each other (PPL of nearby schemes) are invisible on bars
    // from zero: zoom to the data and say so on the axis.
    const bool zoom = spec_.series.size() == 1 && lo > 0 && lo > 0.8 * hi;
    double rlo, rhi;
    niceRange(zoom ? lo : 0, hi, !zoom, rlo, rhi);
    ay->setRange(rlo, rhi);
    ay->setTitleText(QString::fromStdString(spec_.yLabel) + (zoom ? tr(" (axis does not start at 0)") : QString()));
    chart_->addAxis(ax, Qt::AlignLeft);
    chart_->addAxis(ay, Qt::AlignBottom);
    bars->attachAxis(ax);
    bars->attachAxis(ay);
    if (spec_.series.size() == 1) // one bar per category: the bar sits on the category's centre line
        addErrorBars(spec_.series[0], QColor(0x20, 0x20, 0x20), ay, ax, /*vertical=*/false);
}

bool ChartWidget::savePng(const QString& path, QString* error) const
{
    QPixmap pm = view_->grab();
    if (pm.isNull() || !pm.save(path, "PNG")) {
        if (error)
            *error = path + QStringLiteral(": cannot write the PNG file");
        return false;
    }
    return true;
}

bool ChartWidget::saveSvg(const QString& path, QString* error) const
{
    QSvgGenerator gen;
    gen.setFileName(path);
    QSize size = view_->size().isEmpty() ? QSize(800, 500) : view_->size();
    gen.setSize(size);
    gen.setViewBox(QRect(QPoint(0, 0), size));
    gen.setTitle(QString::fromStdString(spec_.title));
    gen.setDescription(QStringLiteral("QuantBench chart"));
    QPainter p;
    if (!p.begin(&gen)) {
        if (error)
            *error = path + QStringLiteral(": cannot write the SVG file");
        return false;
    }
    view_->render(&p);
    p.end();
    return true;
}

} // namespace qb::ui
