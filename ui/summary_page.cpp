// The Summary tab: findings, warnings and one sortable table view per report table.
#include "ui/summary_page.h"

#include "ui/elide.h"
#include "ui/report_tables.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QVBoxLayout>

namespace qb::ui {

SummaryPage::SummaryPage(QWidget* parent) : QWidget(parent)
{
    auto* v = new QVBoxLayout(this);
    auto* h = new QHBoxLayout;
    head_ = new QLabel(this);
    head_->setObjectName(QStringLiteral("summaryTitle"));
    auto* copy = new QPushButton(tr("Copy Markdown"), this);
    copy->setObjectName(QStringLiteral("copyMarkdown"));
    copy->setToolTip(tr("Copy the whole report as Markdown (GitHub tables) to the clipboard"));
    auto* csv = new QPushButton(tr("Copy CSV"), this);
    csv->setObjectName(QStringLiteral("copyCsv"));
    csv->setToolTip(tr("Copy every table as CSV (errors in separate \"±\" columns) to the clipboard"));
    h->addWidget(head_, 1);
    h->addWidget(copy);
    h->addWidget(csv);
    v->addLayout(h);
    scroll_ = new QScrollArea(this);
    scroll_->setObjectName(QStringLiteral("summaryScroll"));
    scroll_->setWidgetResizable(true);
    body_ = new QWidget;
    bodyLayout_ = new QVBoxLayout(body_);
    scroll_->setWidget(body_);
    v->addWidget(scroll_, 1);
    connect(copy, &QPushButton::clicked, this, &SummaryPage::copyToClipboard);
    connect(csv, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(content_.csv); });
    rebuild();
}

void SummaryPage::setContent(const SummaryContent& c)
{
    if (c.markdown == content_.markdown && !c.markdown.isEmpty())
        return;
    content_ = c;
    // Rebuilding every table view costs the GUI thread 10-35 ms at 19 configs; while a run refreshes
    // the report every few hundred ms that work is only done for a page someone can see.
    if (!isVisible()) {
        stale_ = true;
        return;
    }
    rebuild();
}

void SummaryPage::showEvent(QShowEvent* e)
{
    QWidget::showEvent(e);
    if (stale_)
        rebuild();
}

std::vector<ReportTableView*> SummaryPage::tableViews()
{
    if (stale_)
        rebuild();
    return views_;
}

static QString bullets(const std::vector<std::string>& items, const QString& colour)
{
    QString html = QStringLiteral("<ul style='margin-left:-20px; color:%1'>").arg(colour);
    for (const auto& f : items)
        html += QStringLiteral("<li>") + elidedQString(f, kMaxMessageChars).toHtmlEscaped() + QStringLiteral("</li>");
    return html + QStringLiteral("</ul>");
}

void SummaryPage::rebuild()
{
    stale_ = false;
    // Keep the reader's place during a live run.
    const int pos = scroll_->verticalScrollBar()->value();
    head_->setText(QStringLiteral("<b>%1</b>").arg(
        QString::fromStdString(content_.title.empty() ? std::string("QuantBench results") : content_.title).toHtmlEscaped()));
    views_.clear();
    while (QLayoutItem* it = bodyLayout_->takeAt(0)) {
        delete it->widget();
        delete it;
    }
    auto label = [&](const QString& html) {
        auto* l = new QLabel(html, body_);
        l->setWordWrap(true);
        l->setTextFormat(Qt::RichText);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
        bodyLayout_->addWidget(l);
        return l;
    };
    if (content_.tables.empty() && content_.findings.empty())
        label(tr("No results yet: run a sweep or open result files (Ctrl+O, or drop them on the window)."));
    if (!content_.findings.empty())
        label(QStringLiteral("<b>%1</b>").arg(tr("Key findings")) + bullets(content_.findings, QStringLiteral("#202020")));
    if (!content_.warnings.empty())
        label(QStringLiteral("<b>%1</b>").arg(tr("Warnings")) + bullets(content_.warnings, QStringLiteral("#8a4b00")));
    for (const auto& t : content_.tables) {
        label(QStringLiteral("<h3 style='margin-bottom:0'>%1</h3>").arg(elidedQString(t.title, 200).toHtmlEscaped()));
        auto* view = new ReportTableView(body_);
        view->setObjectName(QStringLiteral("table_") + QString::fromStdString(t.id));
        view->setFitRows(true);
        view->setTable(t);
        bodyLayout_->addWidget(view);
        views_.push_back(view);
        if (!t.notes.empty()) {
            QString n;
            for (const auto& s : t.notes)
                n += (n.isEmpty() ? QString() : QStringLiteral("<br>")) + elidedQString(s, kMaxMessageChars).toHtmlEscaped();
            label(QStringLiteral("<span style='color:#505050'>%1</span>").arg(n));
        }
    }
    bodyLayout_->addStretch(1);
    scroll_->verticalScrollBar()->setValue(pos);
}

void SummaryPage::copyToClipboard() const { QApplication::clipboard()->setText(content_.markdown); }

} // namespace qb::ui
