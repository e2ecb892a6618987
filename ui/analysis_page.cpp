// The Analysis tab: sensitivity heat map + mixed-precision curve, outliers, SmoothQuant α.
#include "ui/analysis_page.h"

#include "ui/charts/chart_adapter.h"
#include "ui/elide.h"
#include "ui/exporter.h"
#include "ui/heat_map.h"

#include <QBoxLayout>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QPushButton>
#include <QResizeEvent>
#include <QScrollArea>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTabWidget>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace qb::ui {

static QLabel* hintLabel(const QString& text)
{
    auto* l = new QLabel(text);
    l->setWordWrap(true);
    l->setAlignment(Qt::AlignCenter);
    l->setTextFormat(Qt::RichText);
    l->setStyleSheet(QStringLiteral("QLabel { color: #505050; background: white; border: 1px solid #dddddd; padding: 24px; }"));
    l->setObjectName(QStringLiteral("analysisHint"));
    return l;
}

static QLabel* noteLabel(const QString& name)
{
    auto* l = new QLabel;
    l->setObjectName(name);
    l->setWordWrap(true);
    l->setStyleSheet(QStringLiteral("QLabel { color: #505050; }"));
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return l;
}

// A scrolling body that fills the viewport instead of growing to its preferred height: the
// charts' wrapped legends give the layout a height-for-width, and QScrollArea would otherwise
// size the body by it (a 740 px tall body in a 540 px view for three small widgets).
class ScrollBody : public QWidget {
public:
    int heightForWidth(int) const override { return -1; }
};

// A page: controls on top, then a scrolling body.
static QWidget* scrolled(QWidget* body)
{
    auto* s = new QScrollArea;
    s->setWidgetResizable(true);
    s->setFrameShape(QFrame::NoFrame);
    s->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    s->setWidget(body);
    return s;
}

static QComboBox* chooser(const QString& name, const QString& tip)
{
    auto* c = new QComboBox;
    c->setObjectName(name);
    c->setToolTip(tip);
    c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    c->setMinimumContentsLength(28);
    return c;
}

AnalysisPage::AnalysisPage(QWidget* parent) : QWidget(parent)
{
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    pages_ = new QTabWidget(this);
    pages_->setObjectName(QStringLiteral("analysisPages"));
    pages_->setDocumentMode(true);
    pages_->addTab(buildSensitivity(), tr("Sensitivity && mixed precision"));
    pages_->setTabToolTip(0, tr("Which layer and projection the scheme hurts (KL with one unit quantized at a time), "
                                "and how many units to keep in the baseline dtype to meet a KL budget"));
    pages_->addTab(buildOutliers(), tr("Activation outliers"));
    pages_->setTabToolTip(1, tr("Per-channel activation and weight maxima from the calibration pass, before and "
                                "after SmoothQuant"));
    pages_->addTab(buildAlpha(), tr("SmoothQuant α"));
    pages_->setTabToolTip(2, tr("PPL, KL or MMLU of SmoothQuant configs that differ only in α"));
    exportBtn_ = new QPushButton(tr("Export…"), this);
    exportBtn_->setObjectName(QStringLiteral("exportAnalysis"));
    exportBtn_->setToolTip(tr("Write every chart and heat map of this tab (PNG, SVG, CSV) and analysis.md to a folder"));
    pages_->setCornerWidget(exportBtn_, Qt::TopRightCorner);
    v->addWidget(pages_);
    connect(exportBtn_, &QPushButton::clicked, this, &AnalysisPage::exportRequested);
    setRows({});
}

QWidget* AnalysisPage::buildSensitivity()
{
    auto* page = new QWidget;
    auto* v = new QVBoxLayout(page);
    auto* h = new QHBoxLayout;
    sensConfig_ = chooser(QStringLiteral("sensitivityConfig"), tr("The config whose sensitivity record is shown"));
    h->addWidget(new QLabel(tr("Config:")));
    h->addWidget(sensConfig_, 1);
    v->addLayout(h);
    sensSummary_ = noteLabel(QStringLiteral("sensitivitySummary"));
    v->addWidget(sensSummary_);
    sensStack_ = new QStackedWidget;
    auto* body = new ScrollBody;
    sensBox_ = new QBoxLayout(QBoxLayout::TopToBottom, body);
    sensBox_->setContentsMargins(0, 0, 0, 0);
    sensHeat_ = new HeatMapWidget;
    sensHeat_->setObjectName(QStringLiteral("sensitivityHeat"));
    sensBox_->addWidget(sensHeat_, 2);
    auto* right = new QWidget;
    auto* rv = new QVBoxLayout(right);
    rv->setContentsMargins(0, 0, 0, 0);
    curve_ = new ChartWidget;
    curve_->setObjectName(QStringLiteral("chart_mixed_precision"));
    curve_->setMinimumHeight(280);
    rv->addWidget(curve_, 1);
    sensBox_->addWidget(right, 3);
    // The recommendation and its button stay in sight under the scrolling body.
    recLabel_ = noteLabel(QStringLiteral("recommendedLabel"));
    recLabel_->setTextFormat(Qt::RichText);
    recLabel_->setStyleSheet(QString());
    addBtn_ = new QPushButton(tr("Add to sweep"));
    addBtn_->setObjectName(QStringLiteral("addToSweep"));
    addBtn_->setToolTip(tr("Add the recommended mixed-precision scheme to the setup's extra schemes: the next Run "
                           "measures it like any other scheme"));
    auto* bh = new QHBoxLayout;
    bh->addWidget(recLabel_, 1);
    bh->addWidget(addBtn_, 0, Qt::AlignTop);
    sensStack_->addWidget(scrolled(body));
    sensStack_->addWidget(hintLabel(
        tr("<b>No sensitivity record.</b><br><br>Sensitivity quantizes one decoder linear (or layer) at a time and "
           "measures KL against the baseline; its mixed-precision curve says how many units to keep in the baseline "
           "dtype.<br><br>Run <code>quantbench-cli analyze --model DIR --scheme INT8_Per_Tensor</code> (or a sweep "
           "file with the <code>sensitivity</code> task) and open its <code>results.jsonl</code> here (Ctrl+O).")));
    v->addWidget(sensStack_, 1);
    v->addLayout(bh);
    connect(sensConfig_, qOverload<int>(&QComboBox::currentIndexChanged), this, &AnalysisPage::rebuildSensitivity);
    connect(addBtn_, &QPushButton::clicked, this, [this] {
        if (!recommended_.isEmpty())
            Q_EMIT addSchemeRequested(recommended_);
    });
    return page;
}

QWidget* AnalysisPage::buildOutliers()
{
    auto* page = new QWidget;
    auto* v = new QVBoxLayout(page);
    auto* h = new QHBoxLayout;
    outConfig_ = chooser(QStringLiteral("outlierConfig"), tr("The baseline or a SmoothQuant config (their outliers records)"));
    outConfig_->setMinimumContentsLength(20);
    outLayer_ = new QSpinBox;
    outLayer_->setObjectName(QStringLiteral("outlierLayer"));
    outLayer_->setToolTip(tr("Decoder layer whose channels are drawn (or click a heat-map cell)"));
    outInput_ = new QComboBox;
    outInput_->setObjectName(QStringLiteral("outlierInput"));
    outInput_->setToolTip(tr("Which linear group's input: attn feeds q/k/v, o the attention output projection, mlp "
                             "feeds gate/up, down the down projection"));
    for (const auto& in : outlierInputs())
        outInput_->addItem(QString::fromStdString(in), QString::fromStdString(in));
    smoothed_ = new QCheckBox(tr("smoothed"));
    smoothed_->setObjectName(QStringLiteral("outlierSmoothed"));
    smoothed_->setToolTip(tr("SmoothQuant configs: colour the heat map by the ratio after smoothing (x / s)"));
    h->addWidget(new QLabel(tr("Config:")));
    h->addWidget(outConfig_, 1);
    h->addWidget(new QLabel(tr("Layer")));
    h->addWidget(outLayer_);
    h->addWidget(new QLabel(tr("Input")));
    h->addWidget(outInput_);
    h->addWidget(smoothed_);
    v->addLayout(h);
    outSummary_ = noteLabel(QStringLiteral("outlierSummary"));
    v->addWidget(outSummary_);
    outStack_ = new QStackedWidget;
    auto* body = new ScrollBody;
    outBox_ = new QBoxLayout(QBoxLayout::TopToBottom, body);
    outBox_->setContentsMargins(0, 0, 0, 0);
    outHeat_ = new HeatMapWidget;
    outHeat_->setObjectName(QStringLiteral("outlierHeat"));
    outBox_->addWidget(outHeat_, 2);
    auto* right = new QWidget;
    auto* rv = new QVBoxLayout(right);
    rv->setContentsMargins(0, 0, 0, 0);
    actChart_ = new ChartWidget;
    actChart_->setObjectName(QStringLiteral("chart_outlier_act"));
    wChart_ = new ChartWidget;
    wChart_->setObjectName(QStringLiteral("chart_outlier_w"));
    for (auto* c : {actChart_, wChart_}) {
        c->setMinimumHeight(250);
        rv->addWidget(c, 1);
    }
    outBox_->addWidget(right, 3);
    outStack_->addWidget(scrolled(body));
    outStack_->addWidget(hintLabel(
        tr("<b>No outliers record.</b><br><br>The <code>outliers</code> task records, from the calibration pass, the "
           "per-channel max |x| of every linear's input and the weights' per-column max |W| — for the baseline and, "
           "before and after smoothing, for every SmoothQuant config.<br><br>Run <code>quantbench-cli analyze --model "
           "DIR --scheme S --alphas 0,0.5,1</code> (or a sweep with the <code>outliers</code> task) and open its "
           "<code>results.jsonl</code> here.")));
    v->addWidget(outStack_, 1);
    connect(outConfig_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { rebuildOutliers(true); });
    connect(smoothed_, &QCheckBox::toggled, this, [this] { rebuildOutliers(false); });
    connect(outLayer_, qOverload<int>(&QSpinBox::valueChanged), this, &AnalysisPage::rebuildOutlierCharts);
    connect(outInput_, qOverload<int>(&QComboBox::currentIndexChanged), this, &AnalysisPage::rebuildOutlierCharts);
    connect(outHeat_, &HeatMapWidget::cellClicked, this, &AnalysisPage::onOutlierCell);
    return page;
}

QWidget* AnalysisPage::buildAlpha()
{
    auto* page = new QWidget;
    auto* v = new QVBoxLayout(page);
    auto* h = new QHBoxLayout;
    alphaMetric_ = new QComboBox;
    alphaMetric_->setObjectName(QStringLiteral("alphaMetric"));
    alphaMetric_->setToolTip(tr("What is plotted against α: perplexity (with its stderr), mean KL against the baseline "
                                "(ppl records), or MMLU direct accuracy"));
    alphaMetric_->addItem(tr("Perplexity"), QString::fromStdString(alpha_metric::Ppl));
    alphaMetric_->addItem(tr("KL (mean)"), QString::fromStdString(alpha_metric::Kl));
    alphaMetric_->addItem(tr("MMLU direct accuracy"), QString::fromStdString(alpha_metric::Mmlu));
    h->addWidget(new QLabel(tr("Metric:")));
    h->addWidget(alphaMetric_);
    h->addStretch(1);
    v->addLayout(h);
    alphaBest_ = noteLabel(QStringLiteral("alphaBest"));
    v->addWidget(alphaBest_);
    alpha_ = new ChartWidget;
    alpha_->setObjectName(QStringLiteral("chart_alpha"));
    v->addWidget(alpha_, 1);
    connect(alphaMetric_, qOverload<int>(&QComboBox::currentIndexChanged), this, &AnalysisPage::rebuildAlpha);
    return page;
}

// Side by side when there is room, one above the other otherwise (the body scrolls).
void AnalysisPage::arrange()
{
    const bool wide = width() >= 1050;
    const auto dir = wide ? QBoxLayout::LeftToRight : QBoxLayout::TopToBottom;
    for (QBoxLayout* b : {sensBox_, outBox_})
        if (b->direction() != dir)
            b->setDirection(dir);
    // One above the other: the heat map takes the height its rows need (no empty band under a
    // small model's three rows), the charts the rest.
    for (HeatMapWidget* hm : {sensHeat_, outHeat_}) {
        const int h = std::clamp(hm->contentHeight(width() - 40), 170, 640);
        hm->setMinimumHeight(wide ? hm->minimumSizeHint().height() : h);
        hm->setMaximumHeight(wide ? QWIDGETSIZE_MAX : h);
    }
}

void AnalysisPage::resizeEvent(QResizeEvent* e)
{
    QWidget::resizeEvent(e);
    arrange();
}

// What the tab shows of a row changes only with its records: config, source, task, status, finish time.
static std::string rowSignature(const qb::ConfigRow& row)
{
    std::string sig;
    for (const auto& r : row.records)
        sig += row.config + '|' + row.source + '|' + r.task + '|' + r.status + '|' + r.provenance.finished + '|' +
               std::to_string(r.metrics.size()) + '\n';
    return sig;
}

static bool usedByTab(const qb::ConfigRow& row)
{
    return row.get(qb::task::Sensitivity) || row.get(qb::task::Outliers) ||
           (row.parsed && (row.scheme.smoothing == qb::Smoothing::SmoothQuant || row.scheme.isBaseline()));
}

void AnalysisPage::setRows(const std::vector<qb::ConfigRow>& rows)
{
    std::vector<const qb::ConfigRow*> used;
    for (const auto& r : rows)
        if (usedByTab(r))
            used.push_back(&r);
    std::string sig;
    for (const auto* r : used)
        sig += rowSignature(*r); // by reference: an outliers record carries megabytes of arrays
    if (sig == signature_)
        return; // a live refresh that brought nothing for this tab
    signature_ = sig;
    rows_.clear();
    for (const auto* r : used)
        rows_.push_back(*r);
    sens_ = analysisItems(rows_, qb::task::Sensitivity);
    out_ = analysisItems(rows_, qb::task::Outliers);
    auto refill = [](QComboBox* c, const std::vector<AnalysisItem>& items) {
        const QString cur = c->currentText();
        QSignalBlocker b(c);
        c->clear();
        for (const auto& it : items)
            c->addItem(QString::fromStdString(it.label));
        const int i = c->findText(cur);
        c->setCurrentIndex(i >= 0 ? i : 0);
        c->setEnabled(items.size() > 1);
    };
    refill(sensConfig_, sens_);
    refill(outConfig_, out_);
    // Pick a metric with data when the chosen one has none (e.g. no MMLU run).
    if (alphaChart(rows_, alphaMetric_->currentData().toString().toStdString()).best.empty())
        for (int i = 0; i < alphaMetric_->count(); ++i)
            if (!alphaChart(rows_, alphaMetric_->itemData(i).toString().toStdString()).best.empty()) {
                QSignalBlocker b(alphaMetric_);
                alphaMetric_->setCurrentIndex(i);
                break;
            }
    rebuildSensitivity();
    rebuildOutliers(true);
    rebuildAlpha();
    arrange();
}

bool AnalysisPage::sensitivityHintShown() const { return sensStack_->currentIndex() == 1; }
bool AnalysisPage::outliersHintShown() const { return outStack_->currentIndex() == 1; }

void AnalysisPage::rebuildSensitivity()
{
    const int i = sensConfig_->currentIndex();
    if (sens_.empty() || i < 0 || size_t(i) >= sens_.size()) {
        sensStack_->setCurrentIndex(1);
        sensSummary_->clear();
        sensSummary_->hide();
        recommended_.clear();
        recLabel_->clear();
        addBtn_->setEnabled(false);
        addBtn_->hide();
        return;
    }
    const qb::ResultRecord& r = sens_[size_t(i)].record;
    sensStack_->setCurrentIndex(0);
    sensSummary_->setText(QString::fromStdString(sensitivitySummary(r)));
    sensSummary_->show();
    sensHeat_->setData(sensitivityHeat(r));
    curve_->setSpec(mixedPrecisionCurve(r));
    const Recommendation rec = recommendation(r);
    recommended_ = rec.present ? QString::fromStdString(rec.scheme) : QString();
    addBtn_->setEnabled(rec.present);
    addBtn_->show();
    if (rec.present) {
        QString text = QString::fromStdString(rec.text).toHtmlEscaped();
        text.replace(QLatin1Char('\n'), QStringLiteral("<br>"));
        // A long keep list has no spaces: zero-width spaces after its commas let it wrap instead of
        // widening the window.
        QString name = elidedQString(rec.scheme, 300).toHtmlEscaped();
        name.replace(QLatin1Char(','), QStringLiteral(",\u200B")).replace(QLatin1Char('+'), QStringLiteral("\u200B+"));
        recLabel_->setText(QStringLiteral("%1 <b>%2</b><br>%3").arg(tr("Recommended:"), name, text));
    } else {
        recLabel_->setText(tr("No recommendation in this record (no curve was measured)."));
    }
}

void AnalysisPage::rebuildOutliers(bool pickWorst)
{
    const int i = outConfig_->currentIndex();
    if (out_.empty() || i < 0 || size_t(i) >= out_.size()) {
        outStack_->setCurrentIndex(1);
        outSummary_->hide();
        smoothed_->setEnabled(false);
        return;
    }
    const qb::ResultRecord& r = out_[size_t(i)].record;
    outStack_->setCurrentIndex(0);
    outSummary_->setText(QString::fromStdString(outliersSummary(r)));
    outSummary_->show();
    const bool has = outliersHaveSmoothed(r);
    smoothed_->setEnabled(has);
    smoothed_->setToolTip(has ? tr("Colour the heat map by the ratio after smoothing (x / s, this config's α)")
                              : tr("Only SmoothQuant configs have smoothed values"));
    outHeat_->setData(outlierHeat(r, has && smoothed_->isChecked()));
    {
        QSignalBlocker b(outLayer_);
        outLayer_->setRange(0, std::max(0, outlierLayerCount(r) - 1));
    }
    if (pickWorst) { // a new record: show its worst unit's layer and input
        const HeatMapData& d = outHeat_->data();
        const auto [row, col] = d.maxCell();
        if (row >= 0) {
            QSignalBlocker b1(outLayer_), b2(outInput_);
            outLayer_->setValue(std::atoi(d.rows[size_t(row)].c_str() + 1));
            outInput_->setCurrentIndex(outInput_->findData(QString::fromStdString(inputOfProj(d.columns[size_t(col)]))));
        }
    }
    rebuildOutlierCharts();
}

void AnalysisPage::rebuildOutlierCharts()
{
    const int i = outConfig_->currentIndex();
    if (out_.empty() || i < 0 || size_t(i) >= out_.size())
        return;
    const qb::ResultRecord& r = out_[size_t(i)].record;
    const std::string input = outInput_->currentData().toString().toStdString();
    actChart_->setSpec(outlierChannels(r, outLayer_->value(), input, false));
    wChart_->setSpec(outlierChannels(r, outLayer_->value(), input, true));
    const auto& rows = outHeat_->data().rows;
    const auto it = std::find(rows.begin(), rows.end(), "L" + std::to_string(outLayer_->value()));
    outHeat_->setHighlightRow(it == rows.end() ? -1 : int(it - rows.begin()));
}

void AnalysisPage::onOutlierCell(int row, int col)
{
    const HeatMapData& d = outHeat_->data();
    if (row < 0 || size_t(row) >= d.rows.size() || col < 0 || size_t(col) >= d.columns.size())
        return;
    QSignalBlocker b1(outLayer_), b2(outInput_);
    outLayer_->setValue(std::atoi(d.rows[size_t(row)].c_str() + 1));
    outInput_->setCurrentIndex(outInput_->findData(QString::fromStdString(inputOfProj(d.columns[size_t(col)]))));
    rebuildOutlierCharts();
}

void AnalysisPage::rebuildAlpha()
{
    const std::string key = alphaMetric_->currentData().toString().toStdString();
    AlphaChart a = alphaChart(rows_, key);
    alpha_->setSpec(a.spec);
    best_ = a.best;
    QStringList parts;
    bool single = !a.best.empty();
    for (const auto& b : a.best)
        parts << tr("%1: α %2 (%3)")
                     .arg(QString::fromStdString(b.group))
                     .arg(b.alpha, 0, 'g', 3)
                     .arg(b.value, 0, 'g', 4);
    for (const auto& s : a.spec.series)
        if (!s.reference && s.markerSize == 0 && s.points.size() > 1)
            single = false;
    QString text = parts.isEmpty() ? QString() : tr("Best α — ") + parts.join(QStringLiteral(" · "));
    if (single)
        text += tr(". One α per group: sweep α (quantbench-cli analyze --alphas 0,0.25,0.5,0.75,1) to see the trade-off.");
    alphaBest_->setText(text);
    alphaBest_->setVisible(!text.isEmpty());
}

QStringList AnalysisPage::exportTo(const QString& dir, QString* error)
{
    QStringList written;
    if (!QDir().mkpath(dir)) {
        if (error)
            *error = dir + QStringLiteral(": cannot create the folder");
        return written;
    }
    auto note = [&](bool ok, const QString& file, const QString& err) {
        if (ok)
            written << file;
        else if (error)
            *error = err.isEmpty() ? file + QStringLiteral(": cannot write") : err;
    };
    const QDir d(dir);
    const std::pair<QString, ChartWidget*> charts[] = {{QStringLiteral("mixed_precision"), curve_},
                                                       {QStringLiteral("outlier_activations"), actChart_},
                                                       {QStringLiteral("outlier_weights"), wChart_},
                                                       {QStringLiteral("smoothquant_alpha"), alpha_}};
    for (const auto& [stem, c] : charts) {
        if (c->showsHint() || c->spec().pointCount() == 0)
            continue;
        const QSize size = c->isVisible() ? QSize() : QSize(1000, 600); // a hidden page has no size of its own
        const QString base = d.filePath(QStringLiteral("analysis_") + stem);
        QString err;
        note(c->savePng(base + QStringLiteral(".png"), &err, size), base + QStringLiteral(".png"), err);
        note(c->saveSvg(base + QStringLiteral(".svg"), &err, size), base + QStringLiteral(".svg"), err);
        err = writeTextFile(base + QStringLiteral(".csv"), QByteArray::fromStdString(chartCsv(c->spec())));
        note(err.isEmpty(), base + QStringLiteral(".csv"), err);
    }
    const std::pair<QString, HeatMapWidget*> heats[] = {{QStringLiteral("sensitivity_heat"), sensHeat_},
                                                        {QStringLiteral("outlier_heat"), outHeat_}};
    for (const auto& [stem, h] : heats) {
        if (h->cellCount() == 0 || (h == sensHeat_ && sensitivityHintShown()) || (h == outHeat_ && outliersHintShown()))
            continue;
        const QString base = d.filePath(QStringLiteral("analysis_") + stem);
        QString err;
        note(h->savePng(base + QStringLiteral(".png"), &err), base + QStringLiteral(".png"), err);
        note(h->saveSvg(base + QStringLiteral(".svg"), &err), base + QStringLiteral(".svg"), err);
        note(h->saveCsv(base + QStringLiteral(".csv"), &err), base + QStringLiteral(".csv"), err);
    }
    const QString md = d.filePath(QStringLiteral("analysis.md"));
    const QString err = writeTextFile(md, QByteArray::fromStdString(analysisMarkdown(rows_)));
    note(err.isEmpty(), md, err);
    return written;
}

} // namespace qb::ui
