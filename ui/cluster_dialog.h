#pragma once
// "Run on cluster…": the Slurm fields of `quantbench-cli slurm submit` (run folder, shards or one
// task per config, partition, gres, time, CPUs, memory, account), remembered in QSettings. The
// script is shown (a --dry-run) before anything is submitted; Submit runs the CLI through an
// asynchronous QProcess and shows sbatch's own message when it refuses. The CLI does the
// validation and the writing, so the window and the command line submit the same job.
#include <QDialog>
#include <QStringList>

#include <functional>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProcess;
class QPushButton;
class QSpinBox;
QT_END_NAMESPACE

namespace qb::ui {

class ClusterDialog : public QDialog {
    Q_OBJECT
public:
    // `prepareSweep(runDir)` saves the current setup as a sweep file and returns its path, or ""
    // with `error` set.
    using PrepareFn = std::function<QString(const QString& runDir, QString& error)>;
    ClusterDialog(const QString& cliPath, PrepareFn prepare, QWidget* parent = nullptr);
    ~ClusterDialog() override;

    QString runDir() const;
    QString jobId() const { return jobId_; }
    QStringList submitArgs(const QString& sweepFile, bool dryRun) const; // tests
    QPlainTextEdit* scriptView() const { return script_; }
    void preview(); // fills the script view (asynchronously)

Q_SIGNALS:
    void submitted(const QString& runDir, const QString& jobId);

private:
    void submit();
    void launch(bool dryRun); // checks the folder, prepares the sweep file, runs slurm submit [--dry-run]
    void start(const QStringList& args, bool dryRun);
    void readSettings();
    void writeSettings() const;
    void setBusy(bool busy);

    QString cli_;
    PrepareFn prepare_;
    QLineEdit* dir_ = nullptr;
    QSpinBox* shards_ = nullptr;
    QCheckBox* perConfig_ = nullptr;
    QLineEdit *partition_ = nullptr, *gres_ = nullptr, *time_ = nullptr, *mem_ = nullptr, *account_ = nullptr;
    QSpinBox* cpus_ = nullptr;
    QPlainTextEdit* script_ = nullptr;
    QLabel* message_ = nullptr;
    QPushButton *previewBtn_ = nullptr, *submitBtn_ = nullptr;
    QProcess* proc_ = nullptr;
    QString jobId_;
};

} // namespace qb::ui
