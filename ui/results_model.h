#pragma once
// One row per config (current run and loaded files), one column per metric. Display text and
// a numeric sort role are kept apart so the proxy sorts numbers as numbers.
#include "ui/core_bridge.h"

#include <QAbstractTableModel>

#include <vector>

namespace qb::ui {

class ResultsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        ConfigColumn,
        SourceColumn,
        StatusColumn,
        PplColumn,
        MmluDirectColumn,
        MmluGenerateColumn,
        PrefillColumn,
        DecodeColumn,
        SqnrColumn,
        KlColumn,
        SecondsColumn,
        ErrorColumn,
        COLUMN_COUNT
    };
    enum Roles { SortRole = Qt::UserRole, SourceRole, ConfigRole };

    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

    // Appends or replaces (same config and source) rows in one batch.
    void upsert(const std::vector<ConfigResult>& rows);
    void removeSource(const std::string& source); // "" removes the current run's rows
    void removeRows(const std::vector<int>& rows);
    void clear();
    const std::vector<ConfigResult>& rows() const { return rows_; }
    static const char* metricKey(int column); // nullptr for non-metric columns

private:
    std::vector<ConfigResult> rows_;
};

} // namespace qb::ui
