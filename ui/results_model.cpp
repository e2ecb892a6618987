// The Results table model: core ConfigRows with core's generic metric columns.
#include "ui/results_model.h"

#include "ui/elide.h"

#include <QBrush>
#include <QColor>
#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <set>

namespace qb::ui {

int ResultsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int ResultsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : errorColumn() + 1; }

int ResultsModel::columnOf(const std::string& key) const
{
    for (size_t i = 0; i < columns_.size(); ++i)
        if (columns_[i].key == key)
            return FirstMetricColumn + int(i);
    return -1;
}

QVariant ResultsModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal)
        return {};
    const int m = section - FirstMetricColumn;
    const bool isMetric = m >= 0 && m < int(columns_.size());
    if (role == MetricKeyRole)
        return isMetric ? QString::fromStdString(columns_[size_t(m)].key) : QString();
    if (role == Qt::ToolTipRole && isMetric)
        return tr("%1 (record metric %2)").arg(QString::fromStdString(columns_[size_t(m)].label),
                                               QString::fromStdString(columns_[size_t(m)].key));
    if (role != Qt::DisplayRole)
        return {};
    if (isMetric)
        return QString::fromStdString(columns_[size_t(m)].label);
    if (section == ConfigColumn)
        return tr("Config");
    if (section == SourceColumn)
        return tr("Source");
    if (section == StatusColumn)
        return tr("Status");
    if (section == secondsColumn())
        return tr("Seconds");
    if (section == errorColumn())
        return tr("Reason");
    return {};
}

QVariant ResultsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto& r = rows_[size_t(index.row())];
    const int c = index.column();
    const int m = c - FirstMetricColumn;
    const bool isMetric = m >= 0 && m < int(columns_.size());
    if (role == SourceRole)
        return QString::fromStdString(r.source);
    if (role == ConfigRole)
        return QString::fromStdString(r.config);
    if (role == Qt::ToolTipRole) {
        if (c == ConfigColumn)
            return r.parsed ? elidedQString(r.scheme.describe(), kMaxMessageChars) : elidedQString(r.config);
        if (c == SourceColumn)
            return elidedQString(r.source, kMaxMessageChars);
        if (c == errorColumn() || c == StatusColumn)
            return elidedQString(r.error(), kMaxMessageChars);
        return {};
    }
    if (role == Qt::ForegroundRole && r.status() == "failed")
        return QBrush(QColor(0xb0, 0x20, 0x20));
    if (role == Qt::TextAlignmentRole && (isMetric || c == secondsColumn()))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    if (isMetric) {
        const auto& col = columns_[size_t(m)];
        double v = r.value(col.key), e = r.stderrOf(col.key);
        if (std::isnan(v))
            return role == SortRole ? QVariant(-1e300) : QVariant(QString());
        if (role == SortRole)
            return v;
        QString s = QString::fromStdString(formatMetric(v, col.digits));
        if (!std::isnan(e))
            s += QStringLiteral(" ± ") + QString::fromStdString(formatMetric(e, col.digits));
        return s;
    }
    if (c == ConfigColumn)
        return elidedQString(r.config);
    if (c == SourceColumn)
        return r.source.empty() ? tr("this run") : elided(QFileInfo(QString::fromStdString(r.source)).fileName(), kMaxNameChars);
    if (c == StatusColumn)
        return QString::fromStdString(r.status());
    if (c == secondsColumn())
        return role == SortRole ? QVariant(r.seconds()) : QVariant(QString::number(r.seconds(), 'f', 1));
    if (c == errorColumn())
        return elidedQString(r.error(), kMaxMessageChars);
    return {};
}

void ResultsModel::addRecords(const std::vector<qb::ResultRecord>& records)
{
    if (records.empty())
        return;
    std::vector<qb::ConfigRow> next = rows_;
    std::vector<size_t> changed;
    for (const auto& r : records)
        changed.push_back(qb::addToRows(next, r, qb::RowKey::ConfigAndSource));
    setRows(std::move(next), changed);
}

// Applies `next` (rows_ with rows changed in place and rows appended) with the finest change
// notification that is true: a reset when the metric columns changed, else dataChanged for the
// changed rows and one insert for the new ones.
void ResultsModel::setRows(std::vector<qb::ConfigRow> next, const std::vector<size_t>& changed)
{
    auto cols = qb::metricColumns(next);
    bool sameColumns = cols.size() == columns_.size() &&
                       std::equal(cols.begin(), cols.end(), columns_.begin(),
                                  [](const qb::MetricColumn& a, const qb::MetricColumn& b) { return a.key == b.key; });
    if (!sameColumns) {
        beginResetModel();
        rows_ = std::move(next);
        columns_ = std::move(cols);
        endResetModel();
        return;
    }
    const size_t before = rows_.size();
    std::set<size_t> touched(changed.begin(), changed.end());
    for (size_t i : touched)
        if (i < before) {
            rows_[i] = next[i];
            Q_EMIT dataChanged(index(int(i), 0), index(int(i), columnCount() - 1));
        }
    if (next.size() > before) {
        beginInsertRows({}, int(before), int(next.size()) - 1);
        rows_.insert(rows_.end(), std::make_move_iterator(next.begin() + long(before)), std::make_move_iterator(next.end()));
        endInsertRows();
    }
}

std::vector<qb::ResultRecord> ResultsModel::records() const
{
    std::vector<qb::ResultRecord> out;
    for (const auto& row : rows_)
        out.insert(out.end(), row.records.begin(), row.records.end());
    return out;
}

void ResultsModel::removeRows(const std::vector<int>& rowsToRemove)
{
    std::vector<int> sorted = rowsToRemove;
    std::sort(sorted.rbegin(), sorted.rend());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (int row : sorted) {
        if (row < 0 || row >= int(rows_.size()))
            continue;
        beginRemoveRows({}, row, row);
        rows_.erase(rows_.begin() + row);
        endRemoveRows();
    }
    auto cols = qb::metricColumns(rows_);
    if (cols.size() != columns_.size()) { // a metric only the removed rows had
        beginResetModel();
        columns_ = std::move(cols);
        endResetModel();
    }
}

void ResultsModel::removeSource(const std::string& source)
{
    std::vector<int> rows;
    for (size_t i = 0; i < rows_.size(); ++i)
        if (rows_[i].source == source)
            rows.push_back(int(i));
    removeRows(rows);
}

void ResultsModel::clear()
{
    if (rows_.empty() && columns_.empty())
        return;
    beginResetModel();
    rows_.clear();
    columns_.clear();
    endResetModel();
}

} // namespace qb::ui
