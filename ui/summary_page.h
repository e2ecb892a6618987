#pragma once
// The Summary tab: core's report as real tables (ReportTableView: sortable, best bold, numbers
// right-aligned), with its key findings and warnings above, and buttons that copy the whole
// report as Markdown or CSV. The Markdown source stays available (markdown()).
#include "core/report/table.h"

#include <QString>
#include <QWidget>

#include <string>
#include <vector>

QT_BEGIN_NAMESPACE
class QLabel;
class QScrollArea;
class QVBoxLayout;
QT_END_NAMESPACE

namespace qb::ui {

class ReportTableView;

struct SummaryContent {
    std::string title;
    std::vector<std::string> findings, warnings;
    std::vector<qb::Table> tables;
    QString markdown, csv;
};

class SummaryPage : public QWidget {
    Q_OBJECT
public:
    explicit SummaryPage(QWidget* parent = nullptr);
    void setContent(const SummaryContent& c);
    QString markdown() const { return content_.markdown; }
    void copyToClipboard() const;
    // The views of the current content (built now if the page has not been shown since).
    std::vector<ReportTableView*> tableViews();

protected:
    void showEvent(QShowEvent* e) override;

private:
    void rebuild();

    SummaryContent content_;
    QLabel* head_ = nullptr;
    QScrollArea* scroll_ = nullptr;
    QWidget* body_ = nullptr;
    QVBoxLayout* bodyLayout_ = nullptr;
    std::vector<ReportTableView*> views_;
    bool stale_ = false; // content_ changed while the page was hidden: rebuilt when shown
};

} // namespace qb::ui
