#pragma once
// The Summary tab: the core's Markdown report rendered (QTextDocument::setMarkdown) with a
// button that copies the Markdown source.
#include <QString>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QTextBrowser;
QT_END_NAMESPACE

namespace qb::ui {

class SummaryPage : public QWidget {
    Q_OBJECT
public:
    explicit SummaryPage(QWidget* parent = nullptr);
    void setMarkdown(const QString& md);
    QString markdown() const { return markdown_; }
    void copyToClipboard() const;

private:
    QTextBrowser* view_ = nullptr;
    QString markdown_;
};

} // namespace qb::ui
