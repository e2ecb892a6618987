#include "ui/results_model.h"

#include <QBrush>
#include <QColor>
#include <QFileInfo>

#include <algorithm>
#include <cmath>

namespace qb::ui {

int ResultsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int ResultsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : COLUMN_COUNT; }

const char* ResultsModel::metricKey(int column)
{
    switch (column) {
    case PplColumn: return metric::PPL;
    case MmluDirectColumn: return metric::MmluDirect;
    case MmluGenerateColumn: return metric::MmluGenerate;
    case PrefillColumn: return metric::PrefillSps;
    case DecodeColumn: return metric::DecodeTps;
    case SqnrColumn: return metric::SqnrDb;
    case KlColumn: return metric::KlDiv;
    default: return nullptr;
    }
}

QVariant ResultsModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case ConfigColumn: return tr("Config");
    case SourceColumn: return tr("Source");
    case StatusColumn: return tr("Status");
    case PplColumn: return tr("PPL");
    case MmluDirectColumn: return tr("MMLU direct");
    case MmluGenerateColumn: return tr("MMLU generate");
    case PrefillColumn: return tr("Prefill samples/s");
    case DecodeColumn: return tr("Decode tokens/s");
    case SqnrColumn: return tr("Matmul SQNR dB");
    case KlColumn: return tr("KL vs baseline");
    case SecondsColumn: return tr("Seconds");
    case ErrorColumn: return tr("Reason");
    }
    return {};
}

QVariant ResultsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto& r = rows_[size_t(index.row())];
    const int c = index.column();
    if (role == SourceRole)
        return QString::fromStdString(r.source);
    if (role == ConfigRole)
        return QString::fromStdString(r.config);
    if (role == Qt::ToolTipRole) {
        if (c == ConfigColumn)
            return QString::fromStdString(r.scheme.describe());
        if (c == SourceColumn)
            return QString::fromStdString(r.source);
        if (c == ErrorColumn || c == StatusColumn)
            return QString::fromStdString(r.error);
        return {};
    }
    if (role == Qt::ForegroundRole && !r.ok())
        return QBrush(QColor(0xb0, 0x20, 0x20));
    if (role == Qt::TextAlignmentRole && metricKey(c))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    if (const char* key = metricKey(c)) {
        double v = r.value(key), e = r.stderrOf(key);
        if (std::isnan(v))
            return role == SortRole ? QVariant(-1e300) : QVariant(QString());
        if (role == SortRole)
            return v;
        bool frac = c == MmluDirectColumn || c == MmluGenerateColumn;
        int prec = frac ? 4 : (c == KlColumn ? 5 : 2);
        QString s = QString::number(v, 'f', prec);
        if (!std::isnan(e))
            s += QStringLiteral(" ± ") + QString::number(e, 'f', prec);
        return s;
    }
    switch (c) {
    case ConfigColumn: return QString::fromStdString(r.config);
    case SourceColumn:
        return r.source.empty() ? tr("this run") : QFileInfo(QString::fromStdString(r.source)).fileName();
    case StatusColumn: return QString::fromStdString(r.status);
    case SecondsColumn: return role == SortRole ? QVariant(r.seconds) : QVariant(QString::number(r.seconds, 'f', 1));
    case ErrorColumn: return QString::fromStdString(r.error);
    }
    return {};
}

void ResultsModel::upsert(const std::vector<ConfigResult>& rows)
{
    std::vector<ConfigResult> fresh;
    for (const auto& r : rows) {
        auto it = std::find_if(rows_.begin(), rows_.end(),
                               [&](const ConfigResult& o) { return o.config == r.config && o.source == r.source; });
        if (it != rows_.end()) {
            *it = r;
            int row = int(it - rows_.begin());
            Q_EMIT dataChanged(index(row, 0), index(row, COLUMN_COUNT - 1));
        } else {
            fresh.push_back(r);
        }
    }
    if (fresh.empty())
        return;
    beginInsertRows({}, int(rows_.size()), int(rows_.size() + fresh.size()) - 1);
    rows_.insert(rows_.end(), fresh.begin(), fresh.end());
    endInsertRows();
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
    if (rows_.empty())
        return;
    beginResetModel();
    rows_.clear();
    endResetModel();
}

} // namespace qb::ui
