#include "ui/run_folder_follower.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>

namespace qb::ui {

RunFolderFollower::RunFolderFollower(QObject* parent) : QObject(parent)
{
    poll_.setInterval(3000);
    debounce_.setSingleShot(true);
    debounce_.setInterval(300);
    cli_ = defaultCliPath();
    connect(&watcher_, &QFileSystemWatcher::directoryChanged, this, &RunFolderFollower::rescan);
    connect(&watcher_, &QFileSystemWatcher::fileChanged, this, &RunFolderFollower::rescan);
    connect(&poll_, &QTimer::timeout, this, [this] {
        rescan();
        queryStatus();
    });
    connect(&debounce_, &QTimer::timeout, this, [this] {
        if (following())
            Q_EMIT changed(dir_);
    });
}

RunFolderFollower::~RunFolderFollower()
{
    if (status_) {
        status_->disconnect(this);
        status_->kill();
        status_->waitForFinished(1000);
    }
}

QString RunFolderFollower::defaultCliPath()
{
    const QString local = QCoreApplication::applicationDirPath() + QStringLiteral("/quantbench-cli");
    if (QFileInfo(local).isExecutable())
        return local;
    const QString onPath = QStandardPaths::findExecutable(QStringLiteral("quantbench-cli"));
    return onPath.isEmpty() ? QStringLiteral("quantbench-cli") : onPath;
}

void RunFolderFollower::follow(const QString& dir)
{
    stop();
    dir_ = QDir::cleanPath(QDir(dir).absolutePath());
    last_.clear();
    poll_.start();
    rescan();
    queryStatus();
}

void RunFolderFollower::stop()
{
    poll_.stop();
    debounce_.stop();
    if (!watcher_.files().isEmpty())
        watcher_.removePaths(watcher_.files());
    if (!watcher_.directories().isEmpty())
        watcher_.removePaths(watcher_.directories());
    dir_.clear();
}

QString RunFolderFollower::signature() const
{
    QString sig;
    const QDir d(dir_);
    const auto shards = d.entryList({QStringLiteral("shard_*")}, QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    QStringList files{d.filePath(QStringLiteral("results.jsonl"))};
    for (const auto& s : shards)
        files << d.filePath(s + QStringLiteral("/results.jsonl"));
    for (const auto& f : files) {
        const QFileInfo fi(f);
        if (fi.exists())
            sig += f + QLatin1Char('|') + QString::number(fi.size()) + QLatin1Char('|') +
                   QString::number(fi.lastModified().toMSecsSinceEpoch()) + QLatin1Char('\n');
    }
    return sig;
}

void RunFolderFollower::rescan()
{
    if (!following())
        return;
    // (Re)watch the folder, the shard folders and their files: new shards appear as tasks start.
    const QDir d(dir_);
    QStringList want{dir_};
    for (const auto& s : d.entryList({QStringLiteral("shard_*")}, QDir::Dirs | QDir::NoDotAndDotDot)) {
        want << d.filePath(s);
        const QString f = d.filePath(s + QStringLiteral("/results.jsonl"));
        if (QFileInfo::exists(f))
            want << f;
    }
    QStringList have = watcher_.files() + watcher_.directories();
    QStringList add;
    for (const auto& p : want)
        if (!have.contains(p))
            add << p;
    if (!add.isEmpty())
        watcher_.addPaths(add);
    const QString sig = signature();
    if (sig != last_) {
        last_ = sig;
        debounce_.start();
    }
}

void RunFolderFollower::queryStatus()
{
    if (!following() || status_ || !QFileInfo::exists(QDir(dir_).filePath(QStringLiteral("slurm.json"))) ||
        QStandardPaths::findExecutable(QStringLiteral("squeue")).isEmpty())
        return;
    status_ = new QProcess(this);
    const QString dir = dir_;
    connect(status_, &QProcess::finished, this, [this, dir](int code, QProcess::ExitStatus st) {
        const QString out = QString::fromUtf8(status_->readAllStandardOutput()).trimmed();
        const QString err = QString::fromUtf8(status_->readAllStandardError()).trimmed();
        status_->deleteLater();
        status_ = nullptr;
        if (dir != dir_) // switched folders meanwhile: stale
            return;
        Q_EMIT statusText(st == QProcess::NormalExit && code == 0 ? out : tr("slurm status failed: %1").arg(err));
    });
    connect(status_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart || !status_)
            return;
        status_->deleteLater();
        status_ = nullptr;
        Q_EMIT statusText(tr("cannot run %1 for the Slurm status").arg(cli_));
    });
    status_->start(cli_, {QStringLiteral("slurm"), QStringLiteral("status"), dir});
}

} // namespace qb::ui
