// MainWindow: cluster runs. "Run on cluster…" saves the setup as RUN_DIR/sweep.json and submits
// it through the CLI (ClusterDialog); "Follow run folder" reloads RUN_DIR as one source whenever
// its shard files change (RunFolderFollower: file watcher + poll) and logs `slurm status`.
#include "ui/main_window.h"

#include "ui/cluster_dialog.h"
#include "ui/elide.h"
#include "ui/results_model.h"
#include "ui/run_folder_follower.h"
#include "ui/run_panel.h"

#include <QDir>
#include <QStatusBar>

#include "core/results/store.h"

namespace qb::ui {

void MainWindow::runOnClusterDialog()
{
    auto* dlg = new ClusterDialog(
        RunFolderFollower::defaultCliPath(),
        [this](const QString& runDir, QString& error) -> QString {
            if (!QDir().mkpath(runDir)) {
                error = tr("Cannot create the run folder %1").arg(runDir);
                return {};
            }
            const QString path = QDir(runDir).filePath(QStringLiteral("sweep.json"));
            return saveSweep(path) ? path : (error = lastError_, QString());
        },
        this);
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    connect(dlg, &ClusterDialog::submitted, this, [this](const QString& dir, const QString& job) {
        runPanel_->appendLog(tr("submitted Slurm job %1 for %2; following the folder").arg(job, dir));
        followRunFolder(dir);
    });
    dlg->show(); // non-modal: the window keeps working while the user reads the script
}

void MainWindow::followRunFolder(const QString& dir)
{
    if (!follower_) {
        follower_ = new RunFolderFollower(this);
        connect(follower_, &RunFolderFollower::changed, this, &MainWindow::reloadRunFolder);
        connect(follower_, &RunFolderFollower::statusText, this, [this](const QString& text) {
            if (text == lastSlurmStatus_)
                return;
            lastSlurmStatus_ = text;
            runPanel_->appendLog(tr("slurm status:\n%1").arg(elided(text)));
            statusBar()->showMessage(text.section(QLatin1Char('\n'), -1));
        });
    }
    lastSlurmStatus_.clear();
    follower_->follow(dir);
    runPanel_->appendLog(tr("following %1").arg(follower_->folder()));
}

void MainWindow::stopFollowing()
{
    if (follower_ && follower_->following()) {
        runPanel_->appendLog(tr("stopped following %1").arg(follower_->folder()));
        follower_->stop();
    }
}

// The folder replaces its own rows (its shard files are one source, core/report/rows.h); read
// problems go to the log only, because a file being written may end in a torn line.
void MainWindow::reloadRunFolder(const QString& dir)
{
    auto out = qb::loadResults({std::filesystem::path(dir.toStdString())});
    model_->removeSource(dir.toStdString());
    model_->removeSource(QDir(dir).filePath(QStringLiteral("results.jsonl")).toStdString()); // an unsharded run
    std::vector<qb::ResultRecord> recs = std::move(out.records);
    model_->addRecords(recs);
    flushViews();
    statusBar()->showMessage(tr("%1: %2 record(s)").arg(dir).arg(recs.size()));
}

} // namespace qb::ui
