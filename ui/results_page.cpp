// The Results tab: table view, sort/filter proxy, filter box, "Remove loaded".
#include "ui/results_page.h"

#include "ui/results_model.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QPushButton>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace qb::ui {

ResultsPage::ResultsPage(ResultsModel* model, QWidget* parent) : QWidget(parent), model_(model)
{
    proxy_ = new QSortFilterProxyModel(this);
    proxy_->setSourceModel(model_);
    proxy_->setSortRole(ResultsModel::SortRole);
    proxy_->setFilterKeyColumn(-1); // any column
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    auto* v = new QVBoxLayout(this);
    auto* h = new QHBoxLayout;
    filter_ = new QLineEdit(this);
    filter_->setObjectName(QStringLiteral("resultsFilter"));
    filter_->setPlaceholderText(tr("Filter (config, source, status…)"));
    filter_->setClearButtonEnabled(true);
    auto* remove = new QPushButton(tr("Remove loaded"), this);
    remove->setObjectName(QStringLiteral("removeLoaded"));
    remove->setToolTip(tr("Remove the loaded files of the selected rows (rows of this run stay)"));
    h->addWidget(filter_, 1);
    h->addWidget(remove);
    v->addLayout(h);
    view_ = new QTableView(this);
    view_->setObjectName(QStringLiteral("resultsTable"));
    view_->setModel(proxy_);
    view_->setSortingEnabled(true);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setAlternatingRowColors(true);
    view_->horizontalHeader()->setStretchLastSection(true);
    view_->verticalHeader()->hide();
    view_->setWordWrap(false); // "0.1875 ± 0.0690" on one line, rows of one height
    v->addWidget(view_, 1);
    // Columns fit their contents when rows or metric columns arrive (once per event-loop turn).
    auto* fit = new QTimer(this);
    fit->setSingleShot(true);
    fit->setInterval(0);
    connect(fit, &QTimer::timeout, this, &ResultsPage::fitColumns);
    connect(model_, &QAbstractItemModel::modelReset, fit, qOverload<>(&QTimer::start));
    connect(model_, &QAbstractItemModel::rowsInserted, fit, qOverload<>(&QTimer::start));
    connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
    connect(remove, &QPushButton::clicked, this, &ResultsPage::removeSelected);
}

void ResultsPage::showEvent(QShowEvent* e)
{
    QWidget::showEvent(e);
    if (fitPending_)
        fitColumns();
}

void ResultsPage::fitColumns()
{
    // Hidden (another tab is showing during a run): measuring every cell would only delay the
    // window; do it when the tab is opened.
    fitPending_ = !isVisible();
    if (fitPending_)
        return;
    view_->resizeColumnsToContents();
    for (int c = 0; c < view_->model()->columnCount(); ++c)
        if (view_->columnWidth(c) > kMaxColumnWidth)
            view_->setColumnWidth(c, kMaxColumnWidth); // elided names stay readable, not a screen wide
}

void ResultsPage::removeSelected()
{
    QSet<QString> sources;
    for (const auto& idx : view_->selectionModel()->selectedRows()) {
        QString s = proxy_->data(idx, ResultsModel::SourceRole).toString();
        if (!s.isEmpty())
            sources.insert(s);
    }
    if (!sources.isEmpty())
        Q_EMIT removeSourcesRequested(QStringList(sources.begin(), sources.end()));
}

} // namespace qb::ui
