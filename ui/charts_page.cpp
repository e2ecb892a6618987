// The Charts tab: five chart widgets and the accuracy-metric chooser, rebuilt from core rows.
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
    note_ = new QLabel(this);
    note_->setObjectName(QStringLiteral("protocolNote"));
    note_->setWordWrap(true);
    note_->setStyleSheet(QStringLiteral("QLabel { color: #8a4b00; }"));
    note_->hide();
    v->addWidget(note_);
    auto* g = new QGridLayout;
    accuracy_ = new ChartWidget(this);
    ppl_ = new ChartWidget(this);
    throughput_ = new ChartWidget(this);
    sqnr_ = new ChartWidget(this);
    kld_ = new ChartWidget(this);
    // KLD sits beside the PPL chart: the two fidelity views of the same PPL pass.
    g->addWidget(accuracy_, 0, 0);
    g->addWidget(ppl_, 0, 1);
    g->addWidget(kld_, 0, 2);
    g->addWidget(throughput_, 1, 0, 1, 2);
    g->addWidget(sqnr_, 1, 2);
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
    ppl_->setSpec(pplPerConfig(rows_));
    throughput_->setSpec(throughputPerConfig(rows_));
    sqnr_->setSpec(sqnrVsGranularity(rows_));
    kld_->setSpec(kldVsGranularity(rows_));
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
