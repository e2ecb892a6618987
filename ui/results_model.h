#pragma once
// The Results table: one row per config and source (core's ConfigRow, core/report/rows.h), fed
// with core ResultRecords. Columns: Config, Source, Status, then one per metric the records
// carry (core's metricColumns(): headline metrics first, any other metric after them, so a
// metric added to a record appears without code here naming it), then Seconds and Reason.
// Display text and a numeric sort role are kept apart so the proxy sorts numbers as numbers.
#include "core/report/rows.h"

#include <QAbstractTableModel>

#include <string>
#include <vector>

namespace qb::ui {

class ResultsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum FixedColumn { ConfigColumn, SourceColumn, StatusColumn, FirstMetricColumn };
    enum Roles { SortRole = Qt::UserRole, SourceRole, ConfigRole, MetricKeyRole };

    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

    // Adds records to their rows (a config's second record of a task replaces the first in the
    // view: the last ok one wins), in one batch.
    void addRecords(const std::vector<qb::ResultRecord>& records);
    void removeSource(const std::string& source); // "" removes the current run's rows
    void removeRows(const std::vector<int>& rows);
    void clear();
    const std::vector<qb::ConfigRow>& rows() const { return rows_; }
    std::vector<qb::ResultRecord> records() const; // every record, in row order
    const std::vector<qb::MetricColumn>& metricColumns() const { return columns_; }
    int columnOf(const std::string& metricKey) const; // -1 when no record has that metric
    int secondsColumn() const { return FirstMetricColumn + int(columns_.size()); }
    int errorColumn() const { return secondsColumn() + 1; }

private:
    void setRows(std::vector<qb::ConfigRow> next, const std::vector<size_t>& changed);

    std::vector<qb::ConfigRow> rows_;
    std::vector<qb::MetricColumn> columns_;
};

} // namespace qb::ui
