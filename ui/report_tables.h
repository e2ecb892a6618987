#pragma once
// Core's report tables (core/report/table.h) as real table views: sortable by the numbers (not
// the text), the best value per column bold, numbers right-aligned, config names never wrapped,
// the value ± error in a tooltip, and the table copied as Markdown, CSV or the selection as TSV.
// ReportTableView shows one table; OverviewTable adds a chooser of which report table to show.
#include "core/report/table.h"

#include <QAbstractTableModel>
#include <QTableView>
#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
QT_END_NAMESPACE

namespace qb::ui {

class ReportTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    using QAbstractTableModel::QAbstractTableModel;
    static constexpr int SortRole = Qt::UserRole + 1; // the number where there is one, else the text

    void setTable(const qb::Table& t);
    const qb::Table& table() const { return table_; }
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
    qb::Table table_;
};

class ReportTableView : public QTableView {
    Q_OBJECT
public:
    explicit ReportTableView(QWidget* parent = nullptr);
    void setTable(const qb::Table& t);
    const qb::Table& table() const { return model_->table(); }
    ReportTableModel* reportModel() const { return model_; }
    // Height for every row without an inner scroll bar (the Summary page scrolls as a whole).
    void setFitRows(bool fit) { fitRows_ = fit; }
    QString selectionAsTsv() const;

protected:
    void keyPressEvent(QKeyEvent* e) override;
    void contextMenuEvent(QContextMenuEvent* e) override;

private:
    ReportTableModel* model_ = nullptr;
    bool fitRows_ = false;
};

// The table that stays visible under the charts: one of the report's tables, chosen in a combo
// box (the choice is kept across refreshes).
class OverviewTable : public QWidget {
    Q_OBJECT
public:
    explicit OverviewTable(QWidget* parent = nullptr);
    void setTables(const std::vector<qb::Table>& tables);
    ReportTableView* view() const { return view_; }
    QComboBox* chooser() const { return chooser_; }

private:
    void showCurrent();

    QComboBox* chooser_ = nullptr;
    QLabel* empty_ = nullptr;
    ReportTableView* view_ = nullptr;
    std::vector<qb::Table> tables_;
};

} // namespace qb::ui
