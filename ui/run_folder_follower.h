#pragma once
// Follows a run folder that other processes (Slurm array tasks) write: a QFileSystemWatcher on the
// folder, its shard_<i>/ folders and their results.jsonl, plus a poll timer because inotify sees
// nothing that another machine writes on a network file system (NFS, Lustre). When the shard
// files' sizes or times change, `changed` fires (at most once per 300 ms); every poll also runs
// `quantbench-cli slurm status RUN_DIR` through an asynchronous QProcess when `squeue` is on PATH
// and the folder holds slurm.json, and hands its text to `statusText`. Nothing here blocks.
#include <QFileSystemWatcher>
#include <QObject>
#include <QString>
#include <QTimer>

QT_BEGIN_NAMESPACE
class QProcess;
QT_END_NAMESPACE

namespace qb::ui {

class RunFolderFollower : public QObject {
    Q_OBJECT
public:
    explicit RunFolderFollower(QObject* parent = nullptr);
    ~RunFolderFollower() override;

    void follow(const QString& dir); // starts (or switches to) a folder; emits changed at once
    void stop();
    QString folder() const { return dir_; }
    bool following() const { return !dir_.isEmpty(); }
    void setPollInterval(int ms) { poll_.setInterval(ms); }
    void setCliPath(const QString& path) { cli_ = path; }
    static QString defaultCliPath(); // quantbench-cli next to this executable, else on PATH

Q_SIGNALS:
    void changed(const QString& dir);
    void statusText(const QString& text); // `slurm status` stdout, or its error

private:
    void rescan();
    void queryStatus();
    QString signature() const; // sizes and times of the shard files

    QFileSystemWatcher watcher_;
    QTimer poll_, debounce_;
    QString dir_, last_, cli_;
    QProcess* status_ = nullptr;
};

} // namespace qb::ui
