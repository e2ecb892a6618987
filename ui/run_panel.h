#pragma once
// Run / Cancel, overall and per-config progress with ETA, and the log view.
#include <QWidget>

QT_BEGIN_NAMESPACE
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
QT_END_NAMESPACE

namespace qb::ui {

class RunPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunPanel(QWidget* parent = nullptr);

    QPushButton* runButton() const { return run_; }
    QPushButton* cancelButton() const { return cancel_; }
    QPushButton* clusterButton() const { return cluster_; }
    void setRunning(bool running);
    void setRunEnabled(bool enabled, const QString& why);
    void onRunStarted(int total, int alreadyDone);
    void onConfigStarted(int index, int total, const QString& config);
    void onProgress(int index, double configFraction, double overall, double etaSeconds);
    void onFinished(bool cancelled, const QString& error);
    void appendLog(const QString& line);
    QString logText() const;

private:
    QPushButton* run_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QPushButton* cluster_ = nullptr;
    QProgressBar* overall_ = nullptr;
    QProgressBar* config_ = nullptr;
    QLabel* current_ = nullptr;
    QLabel* eta_ = nullptr;
    QPlainTextEdit* log_ = nullptr;
    bool running_ = false;
};

} // namespace qb::ui
