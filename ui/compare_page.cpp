// The Compare tab: source choosers, core's compare table, an overlaid granularity chart.
#include "ui/compare_page.h"

#include "core/report/report.h"
#include "core/report/rows.h"
#include "ui/charts/chart_adapter.h"
#include "ui/charts/chart_specs.h"
#include "ui/elide.h"
#include "ui/report_tables.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QVBoxLayout>

namespace qb::ui {

// The combo names a source by its folder or file (core's sourceLabel); the tooltip has the path.
static QString comboLabel(const std::string& s) { return elidedQString(qb::sourceLabel(s), 80); }

ComparePage::ComparePage(QWidget* parent) : QWidget(parent)
{
    auto* v = new QVBoxLayout(this);
    auto* h = new QHBoxLayout;
    a_ = new QComboBox(this);
    b_ = new QComboBox(this);
    metric_ = new QComboBox(this);
    a_->setObjectName(QStringLiteral("compareA"));
    b_->setObjectName(QStringLiteral("compareB"));
    for (QComboBox* c : {a_, b_}) {
        c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        c->setMinimumContentsLength(18);
    }
    a_->setToolTip(tr("Reference source A (Δ = B − A)"));
    b_->setToolTip(tr("Source B, compared with A config by config"));
    metric_->addItem(tr("Perplexity"), QString::fromStdString(chart_metric::Ppl));
    metric_->addItem(tr("MMLU direct"), QString::fromStdString(chart_metric::MmluDirect));
    metric_->addItem(tr("MMLU generate"), QString::fromStdString(chart_metric::MmluGenerate));
    metric_->addItem(tr("KLD"), QString::fromStdString(chart_metric::Kld));
    h->addWidget(new QLabel(tr("A:"), this));
    h->addWidget(a_, 1);
    h->addWidget(new QLabel(tr("B:"), this));
    h->addWidget(b_, 1);
    h->addWidget(new QLabel(tr("Chart:"), this));
    h->addWidget(metric_);
    v->addLayout(h);
    hint_ = new QLabel(tr("Open a second results file or folder (Ctrl+O, or drop it on the window) to compare it "
                          "with this run or with another file."),
                       this);
    hint_->setWordWrap(true);
    hint_->setStyleSheet(QStringLiteral("QLabel { color: #606060; }"));
    v->addWidget(hint_);
    auto* split = new QSplitter(Qt::Vertical, this);
    table_ = new ReportTableView;
    table_->setObjectName(QStringLiteral("compareTable"));
    chart_ = new ChartWidget;
    split->addWidget(table_);
    split->addWidget(chart_);
    split->setSizes({400, 300});
    v->addWidget(split, 1);
    for (QComboBox* c : {a_, b_, metric_})
        connect(c, qOverload<int>(&QComboBox::currentIndexChanged), this, &ComparePage::rebuild);
    setRecords({});
}

void ComparePage::setRecords(const std::vector<qb::ResultRecord>& records)
{
    records_ = records;
    const std::vector<std::string> sources = qb::resultSources(records_);
    const QString keepA = a_->currentData().toString(), keepB = b_->currentData().toString();
    {
        QSignalBlocker ba(a_), bb(b_);
        a_->clear();
        b_->clear();
        for (const auto& s : sources)
            for (QComboBox* c : {a_, b_}) {
                c->addItem(comboLabel(s), QString::fromStdString(s));
                c->setItemData(c->count() - 1, QString::fromStdString(s.empty() ? "this run" : s), Qt::ToolTipRole);
            }
        // Defaults: the first source as A, the next as B; a choice the user made is kept.
        const int ia = a_->findData(keepA), ib = b_->findData(keepB);
        a_->setCurrentIndex(ia >= 0 && a_->count() ? ia : 0);
        b_->setCurrentIndex(ib >= 0 ? ib : std::min(1, b_->count() - 1));
    }
    rebuild();
}

void ComparePage::rebuild()
{
    const bool two = a_->count() >= 2 && a_->currentIndex() != b_->currentIndex() && a_->currentIndex() >= 0;
    hint_->setVisible(!two);
    table_->setEnabled(two);
    if (!two) {
        table_->setTable({});
        chart_->setSpec({});
        return;
    }
    const std::string a = a_->currentData().toString().toStdString(), b = b_->currentData().toString().toStdString();
    table_->setTable(qb::compareSources(records_, a, b));
    std::vector<qb::ResultRecord> both;
    for (const auto& r : records_)
        if (qb::rowSource(r) == a || qb::rowSource(r) == b)
            both.push_back(r);
    auto rows = qb::groupRecords(both);
    // A first, so B's lines are the dashed ones.
    std::stable_partition(rows.begin(), rows.end(), [&](const qb::ConfigRow& r) { return r.source == a; });
    ChartSpec spec = accuracyVsGranularity(rows, metric_->currentData().toString().toStdString());
    spec.title += " — A solid, B dashed";
    chart_->setSpec(spec);
}

} // namespace qb::ui
