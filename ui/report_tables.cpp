// Report tables as sortable views (model over core's Table), and the overview under the charts.
#include "ui/report_tables.h"

#include "ui/elide.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QContextMenuEvent>
#include <QFont>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QMenu>
#include <QScrollBar>
#include <QStyle>
#include <QSortFilterProxyModel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace qb::ui {

void ReportTableModel::setTable(const qb::Table& t)
{
    beginResetModel();
    table_ = t;
    endResetModel();
}

int ReportTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(table_.rows.size());
}

int ReportTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(table_.columns.size());
}

QVariant ReportTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || size_t(index.row()) >= table_.rows.size())
        return {};
    const auto& row = table_.rows[size_t(index.row())];
    if (size_t(index.column()) >= row.size())
        return {};
    const qb::Cell& c = row[size_t(index.column())];
    switch (role) {
    case Qt::DisplayRole:
        return elidedQString(c.text);
    case Qt::ToolTipRole: {
        QString tip = QString::fromStdString(c.text);
        if (c.value && c.err)
            tip += QStringLiteral("\n± %1 (standard error or CI half-width)").arg(*c.err, 0, 'g', 4);
        if (c.bold)
            tip += QStringLiteral("\nbest in this column");
        return tip;
    }
    case Qt::FontRole:
        if (c.bold) {
            QFont f;
            f.setBold(true);
            return f;
        }
        return {};
    case Qt::TextAlignmentRole:
        return int((c.value ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
    case SortRole:
        // Numbers sort as numbers; cells without one (text, "—") after every number.
        if (c.value && std::isfinite(*c.value))
            return *c.value;
        return QString::fromStdString(c.text);
    }
    return {};
}

QVariant ReportTableModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || section < 0 || size_t(section) >= table_.columns.size())
        return {};
    if (role == Qt::DisplayRole)
        return QString::fromStdString(table_.columns[size_t(section)]);
    if (role == Qt::ToolTipRole && size_t(section) < table_.better.size()) {
        switch (table_.better[size_t(section)]) {
        case qb::Better::Lower: return tr("lower is better; the best value is bold");
        case qb::Better::Higher: return tr("higher is better; the best value is bold");
        case qb::Better::None: break;
        }
    }
    return {};
}

namespace {
// Numbers before text whatever the order; numbers by value, text by text.
class NumberFirstProxy : public QSortFilterProxyModel {
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

protected:
    bool lessThan(const QModelIndex& a, const QModelIndex& b) const override
    {
        const QVariant x = a.data(ReportTableModel::SortRole), y = b.data(ReportTableModel::SortRole);
        const bool xn = x.typeId() == QMetaType::Double, yn = y.typeId() == QMetaType::Double;
        if (xn && yn)
            return x.toDouble() < y.toDouble();
        if (xn != yn)
            return (sortOrder() == Qt::AscendingOrder) ? xn : !xn;
        return QString::localeAwareCompare(x.toString(), y.toString()) < 0;
    }
};
} // namespace

ReportTableView::ReportTableView(QWidget* parent) : QTableView(parent)
{
    model_ = new ReportTableModel(this);
    auto* proxy = new NumberFirstProxy(this);
    proxy->setSourceModel(model_);
    setModel(proxy);
    setSortingEnabled(true);
    sortByColumn(-1, Qt::AscendingOrder); // the report's own order until a header is clicked
    setWordWrap(false);
    setTextElideMode(Qt::ElideNone);
    setAlternatingRowColors(true);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    verticalHeader()->hide();
    verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    horizontalHeader()->setHighlightSections(false);
    horizontalHeader()->setStretchLastSection(false);
}

void ReportTableView::setTable(const qb::Table& t)
{
    model_->setTable(t);
    resizeColumnsToContents();
    for (int c = 0; c < model_->columnCount(); ++c) // a long note column must not push the rest away
        setColumnWidth(c, std::min(columnWidth(c), 420));
    if (fitRows_) {
        setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
        const int h = horizontalHeader()->height() + verticalHeader()->defaultSectionSize() * model_->rowCount() +
                      2 * frameWidth() + 2 +
                      // The horizontal bar's visibility is decided after layout: always leave it room
                      // (else a wide table's last row hides behind it).
                      style()->pixelMetric(QStyle::PM_ScrollBarExtent, nullptr, this);
        setFixedHeight(h);
    }
}

QString ReportTableView::selectionAsTsv() const
{
    QModelIndexList sel = selectionModel()->selectedIndexes();
    std::sort(sel.begin(), sel.end(), [](const QModelIndex& a, const QModelIndex& b) {
        return a.row() != b.row() ? a.row() < b.row() : a.column() < b.column();
    });
    QString out;
    int row = -1;
    for (const auto& i : sel) {
        if (row != -1)
            out += i.row() != row ? QStringLiteral("\n") : QStringLiteral("\t");
        row = i.row();
        out += i.data(Qt::ToolTipRole).toString().section(QLatin1Char('\n'), 0, 0);
    }
    return out;
}

void ReportTableView::keyPressEvent(QKeyEvent* e)
{
    if (e->matches(QKeySequence::Copy)) {
        QApplication::clipboard()->setText(selectionAsTsv());
        return;
    }
    QTableView::keyPressEvent(e);
}

void ReportTableView::contextMenuEvent(QContextMenuEvent* e)
{
    QMenu m(this);
    m.addAction(tr("Copy selection (tab-separated)"), this,
                [this] { QApplication::clipboard()->setText(selectionAsTsv()); });
    m.addAction(tr("Copy table as Markdown"), this,
                [this] { QApplication::clipboard()->setText(QString::fromStdString(table().markdown())); });
    m.addAction(tr("Copy table as CSV"), this,
                [this] { QApplication::clipboard()->setText(QString::fromStdString(table().csv())); });
    m.addAction(tr("Report order"), this, [this] { sortByColumn(-1, Qt::AscendingOrder); });
    m.exec(e->globalPos());
}

OverviewTable::OverviewTable(QWidget* parent) : QWidget(parent)
{
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 2, 0, 0);
    auto* h = new QHBoxLayout;
    chooser_ = new QComboBox(this);
    chooser_->setObjectName(QStringLiteral("overviewChooser"));
    chooser_->setToolTip(tr("Which table of the report to show under the charts (all are on the Summary tab)"));
    chooser_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    h->addWidget(new QLabel(tr("Table:"), this));
    h->addWidget(chooser_);
    h->addStretch(1);
    v->addLayout(h);
    empty_ = new QLabel(tr("The summary table appears here as configs finish."), this);
    empty_->setStyleSheet(QStringLiteral("QLabel { color: #606060; }"));
    v->addWidget(empty_);
    view_ = new ReportTableView(this);
    view_->setObjectName(QStringLiteral("overviewTable"));
    v->addWidget(view_, 1);
    connect(chooser_, qOverload<int>(&QComboBox::currentIndexChanged), this, &OverviewTable::showCurrent);
    setTables({});
}

void OverviewTable::setTables(const std::vector<qb::Table>& tables)
{
    const QString keep = chooser_->currentData().toString();
    tables_ = tables;
    {
        QSignalBlocker b(chooser_);
        chooser_->clear();
        for (const auto& t : tables_)
            chooser_->addItem(elidedQString(t.title, 60), QString::fromStdString(t.id));
        const int i = chooser_->findData(keep.isEmpty() ? QStringLiteral("accuracy") : keep);
        chooser_->setCurrentIndex(i >= 0 ? i : 0);
    }
    showCurrent();
}

void OverviewTable::showCurrent()
{
    const int i = chooser_->currentIndex();
    const bool has = i >= 0 && size_t(i) < tables_.size();
    empty_->setVisible(!has);
    view_->setVisible(has);
    chooser_->setEnabled(has);
    if (has)
        view_->setTable(tables_[size_t(i)]);
}

} // namespace qb::ui
