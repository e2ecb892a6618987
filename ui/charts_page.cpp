// The Charts tab: five chart widgets and the accuracy-metric chooser, rebuilt from core rows.
#include "ui/charts_page.h"

#include "ui/charts/chart_adapter.h"
#include "ui/charts/chart_specs.h"
#include "ui/report_tables.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QResizeEvent>
#include <QScrollArea>
#include <QScrollBar>
#include <QTimer>
#include <QSplitter>
#include <QVBoxLayout>

#include <cmath>

namespace qb::ui {

ChartsPage::ChartsPage(QWidget* parent) : QWidget(parent)
{
    auto* v = new QVBoxLayout(this);
    auto* h = new QHBoxLayout;
    metric_ = new QComboBox(this);
    metric_->setObjectName(QStringLiteral("accuracyMetric"));
    metric_->addItem(tr("Perplexity"), QString::fromStdString(chart_metric::Ppl));
    metric_->addItem(tr("MMLU direct"), QString::fromStdString(chart_metric::MmluDirect));
    metric_->addItem(tr("MMLU generate"), QString::fromStdString(chart_metric::MmluGenerate));
    h->addWidget(new QLabel(tr("Accuracy metric:"), this));
    h->addWidget(metric_);
    h->addStretch(1);
    v->addLayout(h);
    note_ = new QLabel(this);
    note_->setObjectName(QStringLiteral("protocolNote"));
    note_->setWordWrap(true);
    note_->setStyleSheet(QStringLiteral("QLabel { color: #8a4b00; }"));
    note_->hide();
    v->addWidget(note_);
    auto* gridHost = new QWidget;
    grid_ = new QGridLayout(gridHost);
    grid_->setContentsMargins(0, 0, 0, 0);
    for (int c = 0; c < 6; ++c)
        grid_->setColumnStretch(c, 1);
    accuracy_ = new ChartWidget(gridHost);
    ppl_ = new ChartWidget(gridHost);
    throughput_ = new ChartWidget(gridHost);
    sqnr_ = new ChartWidget(gridHost);
    kld_ = new ChartWidget(gridHost);
    accuracy_->setObjectName(QStringLiteral("chart_accuracy"));
    ppl_->setObjectName(QStringLiteral("chart_ppl"));
    throughput_->setObjectName(QStringLiteral("chart_throughput"));
    sqnr_->setObjectName(QStringLiteral("chart_sqnr"));
    kld_->setObjectName(QStringLiteral("chart_kld"));
    auto* scroll = new QScrollArea;
    scroll->setObjectName(QStringLiteral("chartsScroll"));
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setWidget(gridHost);
    scroll->setFrameShape(QFrame::NoFrame);
    connect(scroll->verticalScrollBar(), &QScrollBar::valueChanged, this, &ChartsPage::flushPending);
    overview_ = new OverviewTable;
    split_ = new QSplitter(Qt::Vertical, this);
    split_->setObjectName(QStringLiteral("chartsSplit"));
    split_->addWidget(scroll);
    split_->addWidget(overview_);
    split_->setStretchFactor(0, 3);
    split_->setStretchFactor(1, 1);
    split_->setChildrenCollapsible(true);
    split_->setSizes({680, 260}); // charts first; the saved state (MainWindow) overrides this
    v->addWidget(split_, 1);
    arrange(2);
    connect(metric_, qOverload<int>(&QComboBox::currentIndexChanged), this, &ChartsPage::rebuildAccuracy);
    setRows({});
}

// Two columns on a laptop, three from about 1250 px of chart area; the per-config bar charts
// take whole rows (they grow with the configs), the granularity charts share one.
void ChartsPage::arrange(int columns)
{
    if (columns == columns_)
        return;
    columns_ = columns;
    for (ChartWidget* c : {accuracy_, ppl_, kld_, sqnr_, throughput_})
        grid_->removeWidget(c);
    // A 6-unit grid. The per-config bars need width for the config names (Qt Charts caps the
    // label column at a share of the chart), so they never sit in a narrow column.
    if (columns >= 3) {
        grid_->addWidget(accuracy_, 0, 0, 1, 2);
        grid_->addWidget(kld_, 0, 2, 1, 2);
        grid_->addWidget(sqnr_, 0, 4, 1, 2);
        grid_->addWidget(ppl_, 1, 0, 1, 3);
        grid_->addWidget(throughput_, 1, 3, 1, 3);
    } else {
        grid_->addWidget(accuracy_, 0, 0, 1, 3);
        grid_->addWidget(kld_, 0, 3, 1, 3);
        grid_->addWidget(ppl_, 1, 0, 1, 6);
        grid_->addWidget(throughput_, 2, 0, 1, 6);
        grid_->addWidget(sqnr_, 3, 0, 1, 3);
    }
}

void ChartsPage::resizeEvent(QResizeEvent* e)
{
    QWidget::resizeEvent(e);
    arrange(e->size().width() >= 1250 ? 3 : 2);
    QTimer::singleShot(0, this, &ChartsPage::flushPending);
}

void ChartsPage::showEvent(QShowEvent* e)
{
    QWidget::showEvent(e);
    QTimer::singleShot(0, this, &ChartsPage::flushPending); // the tab opened: draw what it shows
}

void ChartsPage::present(ChartWidget* w, const ChartSpec& spec)
{
    for (auto it = pending_.begin(); it != pending_.end(); ++it)
        if (it->first == w) {
            pending_.erase(it);
            break;
        }
    if (!lazy_) {
        w->setSpec(spec);
        return;
    }
    // Live refresh: queue it; flushPending() draws one chart in sight per event-loop turn, so
    // input and paints get in between (one Qt chart rebuild is ~5-10 ms, five in a row were ~30).
    pending_.push_back({w, spec});
    QTimer::singleShot(0, this, &ChartsPage::flushPending);
}

void ChartsPage::flushPending()
{
    for (auto it = pending_.begin(); it != pending_.end(); ++it)
        if (!it->first->visibleRegion().isEmpty()) {
            ChartWidget* w = it->first;
            const ChartSpec spec = std::move(it->second);
            pending_.erase(it);
            w->setSpec(spec);
            if (!pending_.empty())
                QTimer::singleShot(0, this, &ChartsPage::flushPending); // the next one, next turn
            return;
        }
}

void ChartsPage::rebuildAccuracy()
{
    present(accuracy_, accuracyVsGranularity(rows_, metric_->currentData().toString().toStdString()));
}

void ChartsPage::setRows(const std::vector<qb::ConfigRow>& rows, bool lazy)
{
    lazy_ = lazy;
    // Only what was measured like the baseline shares its axes; the rest is named in the note.
    ComparableRows c = comparableRows(rows);
    rows_ = std::move(c.rows);
    note_->setText(QString::fromStdString(c.note));
    note_->setVisible(!c.note.empty());
    // Pick a metric that has data when the chosen one has none (e.g. MMLU not run).
    auto has = [&](const QString& key) {
        for (const auto& r : rows_)
            if (!std::isnan(r.value(key.toStdString())))
                return true;
        return false;
    };
    if (!has(metric_->currentData().toString()))
        for (int i = 0; i < metric_->count(); ++i)
            if (has(metric_->itemData(i).toString())) {
                QSignalBlocker b(metric_);
                metric_->setCurrentIndex(i);
                break;
            }
    rebuildAccuracy();
    present(ppl_, pplPerConfig(rows_));
    present(throughput_, throughputPerConfig(rows_));
    present(sqnr_, sqnrVsGranularity(rows_));
    present(kld_, kldVsGranularity(rows_));
    lazy_ = false;
}

QString ChartsPage::protocolNote() const { return note_->text(); }

std::vector<std::pair<QString, ChartWidget*>> ChartsPage::charts() const
{
    return {{QStringLiteral("accuracy"), accuracy_},
            {QStringLiteral("ppl"), ppl_},
            {QStringLiteral("throughput"), throughput_},
            {QStringLiteral("sqnr"), sqnr_},
            {QStringLiteral("kld"), kld_}};
}

} // namespace qb::ui
