#include "ui/charts_page.h"

#include "ui/charts/chart_adapter.h"

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
    metric_->addItem(tr("Perplexity"), QString::fromLatin1(metric::PPL));
    metric_->addItem(tr("MMLU direct"), QString::fromLatin1(metric::MmluDirect));
    metric_->addItem(tr("MMLU generate"), QString::fromLatin1(metric::MmluGenerate));
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
    setResults({});
}

void ChartsPage::rebuildAccuracy()
{
    accuracy_->setSpec(accuracyVsGranularity(results_, metric_->currentData().toString().toStdString()));
}

void ChartsPage::setResults(const std::vector<ConfigResult>& results)
{
    results_ = results;
    // Pick a metric that has data when the chosen one has none (e.g. MMLU not run).
    auto has = [&](const char* key) {
        for (const auto& r : results_)
            if (!std::isnan(r.value(key)))
                return true;
        return false;
    };
    if (!has(metric_->currentData().toString().toLatin1().constData()))
        for (int i = 0; i < metric_->count(); ++i)
            if (has(metric_->itemData(i).toString().toLatin1().constData())) {
                QSignalBlocker b(metric_);
                metric_->setCurrentIndex(i);
                break;
            }
    rebuildAccuracy();
    ppl_->setSpec(pplPerConfig(results_));
    throughput_->setSpec(throughputPerConfig(results_));
    sqnr_->setSpec(sqnrVsGranularity(results_));
}

std::vector<std::pair<QString, ChartWidget*>> ChartsPage::charts() const
{
    return {{QStringLiteral("accuracy"), accuracy_},
            {QStringLiteral("ppl"), ppl_},
            {QStringLiteral("throughput"), throughput_},
            {QStringLiteral("sqnr"), sqnr_}};
}

} // namespace qb::ui
