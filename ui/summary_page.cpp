// The Summary tab: core's Markdown report rendered, with a copy button.
#include "ui/summary_page.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QPushButton>
#include <QScrollBar>
#include <QTextBrowser>
#include <QTextCursor>
#include <QVBoxLayout>

namespace qb::ui {

SummaryPage::SummaryPage(QWidget* parent) : QWidget(parent)
{
    auto* v = new QVBoxLayout(this);
    auto* h = new QHBoxLayout;
    auto* copy = new QPushButton(tr("Copy Markdown"), this);
    copy->setObjectName(QStringLiteral("copyMarkdown"));
    copy->setToolTip(tr("Copy the report as Markdown (GitHub tables) to the clipboard"));
    h->addStretch(1);
    h->addWidget(copy);
    v->addLayout(h);
    view_ = new QTextBrowser(this);
    view_->setObjectName(QStringLiteral("summaryView"));
    view_->setOpenExternalLinks(true);
    v->addWidget(view_, 1);
    connect(copy, &QPushButton::clicked, this, &SummaryPage::copyToClipboard);
}

void SummaryPage::setMarkdown(const QString& md)
{
    if (md == markdown_)
        return;
    markdown_ = md;
    int pos = view_->verticalScrollBar()->value(); // keep the reader's place during a live run
    view_->document()->setMarkdown(md, QTextDocument::MarkdownDialectGitHub);
    // The cursor would sit at the end, and showing the page scrolls to it: start at the top.
    view_->moveCursor(QTextCursor::Start);
    view_->verticalScrollBar()->setValue(pos);
}

void SummaryPage::copyToClipboard() const { QApplication::clipboard()->setText(markdown_); }

} // namespace qb::ui
