#pragma once
// The Results tab: the results table behind a sort/filter proxy, a filter box, and a button
// that removes the rows of a loaded file.
#include <QWidget>

QT_BEGIN_NAMESPACE
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;
QT_END_NAMESPACE

namespace qb::ui {

class ResultsModel;

class ResultsPage : public QWidget {
    Q_OBJECT
public:
    ResultsPage(ResultsModel* model, QWidget* parent = nullptr);
    QSortFilterProxyModel* proxy() const { return proxy_; }
    QTableView* view() const { return view_; }
    QLineEdit* filter() const { return filter_; }

Q_SIGNALS:
    // The user asked to remove the loaded rows of these sources (file paths).
    void removeSourcesRequested(const QStringList& sources);

protected:
    void showEvent(QShowEvent* e) override;

private:
    static constexpr int kMaxColumnWidth = 360;
    void removeSelected();
    void fitColumns();
    bool fitPending_ = false; // columns are fitted when the tab is shown (sizing every cell costs)
    ResultsModel* model_;
    QSortFilterProxyModel* proxy_ = nullptr;
    QTableView* view_ = nullptr;
    QLineEdit* filter_ = nullptr;
};

} // namespace qb::ui
