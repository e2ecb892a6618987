// The Charts tab: four chart widgets and the accuracy-metric chooser, rebuilt from core rows.
#include "ui/charts_page.h"

#include "ui/charts/chart_adapter.h"
#include "ui/charts/chart_specs.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
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
    auto* g = new QGridLayout;
    accuracy_ = new ChartWidget(this);
    ppl_ = new ChartWidget(this);
    throughput_ = new ChartWidget(this);
    sqnr_ = new ChartWidget(this);
    g->addWidget(accuracy_, 0, 0);
    g->addWidget(ppl_, 0, 1);
    g->addWidget(throughput_, 1, 0);
    g->addWidget(sqnr_, 1, 1);
    v->addLayout(g, 1);
    connect(metric_, qOverload<int>(&QComboBox::currentIndexChanged), this, &ChartsPage::rebuildAccuracy);
    setRows({});
}

void ChartsPage::rebuildAccuracy()
{
    accuracy_->setSpec(accuracyVsGranularity(rows_, metric_->currentData().toString().toStdString()));
}

void ChartsPage::setRows(const std::vector<qb::ConfigRow>& rows)
{
    rows_ = rows;
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
    ppl_->setSpec(pplPerConfig(rows_));
    throughput_->setSpec(throughputPerConfig(rows_));
    sqnr_->setSpec(sqnrVsGranularity(rows_));
}

std::vector<std::pair<QString, ChartWidget*>> ChartsPage::charts() const
{
    return {{QStringLiteral("accuracy"), accuracy_},
            {QStringLiteral("ppl"), ppl_},
            {QStringLiteral("throughput"), throughput_},
            {QStringLiteral("sqnr"), sqnr_}};
}

} // namespace qb::ui
