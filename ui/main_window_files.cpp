// MainWindow: everything about files: open results (menu, recent, drag and drop), sweep setup
// files, exports, and the recent lists in QSettings.
#include "ui/main_window.h"

#include "ui/analysis_page.h"

#include "ui/charts_page.h"
#include "ui/elide.h"
#include "ui/exporter.h"
#include "ui/results_model.h"
#include "ui/run_panel.h"
#include "ui/setup_panel.h"

#include <QAction>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>
#include <QUrl>

#include "core/results/store.h"

namespace qb::ui {

static constexpr int kMaxRecent = 10;

QStringList MainWindow::openPaths(const QStringList& paths)
{
    QStringList messages;
    std::vector<qb::ResultRecord> loaded;
    for (const QString& p : paths) {
        // core's loader: results.jsonl, record exports, the legacy window export, report-style files
        auto out = qb::loadResults({std::filesystem::path(p.toStdString())});
        for (auto& m : out.messages)
            messages << elidedQString(m, kMaxMessageChars);
        for (auto& m : out.notes) // how a file was read: logged, not an error
            runPanel_->appendLog(tr("open: note: %1").arg(elidedQString(m, kMaxMessageChars)));
        for (auto& r : out.records)
            loaded.push_back(std::move(r));
        if (!out.records.empty())
            addRecent(QStringLiteral("recentFiles"), QFileInfo(p).absoluteFilePath());
    }
    const int rowsBefore = model_->rowCount();
    model_->addRecords(loaded);
    const int newRows = model_->rowCount() - rowsBefore;
    flushViews();
    for (const auto& m : messages)
        runPanel_->appendLog(tr("open: %1").arg(m));
    runPanel_->appendLog(tr("opened %1 record(s) (%2 new row(s)) from %3 path(s)").arg(loaded.size()).arg(newRows).arg(paths.size()));
    statusBar()->showMessage(messages.isEmpty() ? tr("Loaded %1 records").arg(loaded.size())
                                                : tr("Loaded %1 records; %2 problem(s) reading the files (see the log)")
                                                      .arg(loaded.size())
                                                      .arg(messages.size()));
    if (!messages.isEmpty())
        showError(tr("Some files could not be read"), messages.join(QLatin1Char('\n')));
    lastMessages_ = messages;
    return messages;
}

void MainWindow::removeSources(const QStringList& sources)
{
    for (const auto& s : sources)
        model_->removeSource(s.toStdString());
    flushViews();
    statusBar()->showMessage(tr("Removed %1 loaded file(s)").arg(sources.size()));
}

bool MainWindow::loadSweep(const QString& path)
{
    try {
        setup_->setSetup(SweepSetup::load(path.toStdString()));
        runPanel_->appendLog(tr("sweep setup loaded from %1").arg(path));
        return true;
    } catch (const std::exception& e) {
        showError(tr("Cannot load the sweep"), QString::fromUtf8(e.what()));
        return false;
    }
}

bool MainWindow::saveSweep(const QString& path)
{
    try {
        setup_->setup().save(path.toStdString());
        runPanel_->appendLog(tr("sweep setup saved to %1").arg(path));
        return true;
    } catch (const std::exception& e) {
        showError(tr("Cannot save the sweep"), QString::fromUtf8(e.what()));
        return false;
    }
}

QString MainWindow::exportTo(const QString& path)
{
    flushViews();
    QString err = exportBySuffix(path, model_->records());
    if (err.isEmpty())
        statusBar()->showMessage(tr("Exported %1").arg(path));
    else
        showError(tr("Export failed"), err);
    return err;
}

QStringList MainWindow::exportChartsTo(const QString& dir)
{
    flushViews();
    QString err;
    QStringList files = exportCharts(dir, charts_->charts(), &err);
    if (!err.isEmpty())
        showError(tr("Chart export failed"), err);
    else
        statusBar()->showMessage(tr("Wrote %1 chart files to %2").arg(files.size()).arg(dir));
    return files;
}

QStringList MainWindow::exportAnalysisTo(const QString& dir)
{
    flushViews();
    updateAnalysis();
    QString err;
    QStringList files = analysis_->exportTo(dir, &err);
    if (!err.isEmpty())
        showError(tr("Analysis export failed"), err);
    else
        statusBar()->showMessage(tr("Wrote %1 analysis files to %2").arg(files.size()).arg(dir));
    return files;
}

void MainWindow::exportAnalysisDialog()
{
    QSettings s;
    QString dir = QFileDialog::getExistingDirectory(this, tr("Folder for the analysis charts, heat maps and analysis.md"),
                                                    s.value(QStringLiteral("dirs/export")).toString());
    if (!dir.isEmpty())
        exportAnalysisTo(dir);
}

void MainWindow::openDialog()
{
    QSettings s;
    QStringList files = QFileDialog::getOpenFileNames(this, tr("Open result files"),
                                                      s.value(QStringLiteral("dirs/open")).toString(),
                                                      tr("Results (*.jsonl *.json);;All files (*)"));
    if (files.isEmpty())
        return;
    s.setValue(QStringLiteral("dirs/open"), QFileInfo(files.first()).absolutePath());
    openPaths(files);
}

void MainWindow::exportDialog()
{
    QSettings s;
    QString selected;
    QString path = QFileDialog::getSaveFileName(this, tr("Export report"),
                                                s.value(QStringLiteral("dirs/export")).toString() + QStringLiteral("/quantbench_report.md"),
                                                tr("Markdown report (*.md);;CSV table (*.csv);;Results JSON (*.json)"), &selected);
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += selected.contains(QLatin1String("csv")) ? QStringLiteral(".csv")
                : selected.contains(QLatin1String("json")) ? QStringLiteral(".json") : QStringLiteral(".md");
    s.setValue(QStringLiteral("dirs/export"), QFileInfo(path).absolutePath());
    exportTo(path);
}

void MainWindow::exportChartsDialog()
{
    QSettings s;
    QString dir = QFileDialog::getExistingDirectory(this, tr("Folder for the chart PNG and SVG files"),
                                                    s.value(QStringLiteral("dirs/export")).toString());
    if (!dir.isEmpty())
        exportChartsTo(dir);
}

void MainWindow::loadSweepDialog()
{
    QString path = QFileDialog::getOpenFileName(this, tr("Load sweep setup"), QString(), tr("Sweep (*.json);;All files (*)"));
    if (!path.isEmpty())
        loadSweep(path);
}

void MainWindow::saveSweepDialog()
{
    QString path = QFileDialog::getSaveFileName(this, tr("Save sweep setup"), QStringLiteral("sweep.json"), tr("Sweep (*.json)"));
    if (!path.isEmpty())
        saveSweep(path);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e)
{
    if (e->mimeData()->hasUrls())
        e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e)
{
    QStringList paths;
    for (const QUrl& u : e->mimeData()->urls())
        if (u.isLocalFile())
            paths << u.toLocalFile();
    if (!paths.isEmpty()) {
        e->acceptProposedAction();
        openPaths(paths);
    }
}

void MainWindow::addRecent(const QString& key, const QString& path)
{
    if (path.isEmpty())
        return;
    QSettings s;
    QStringList list = s.value(key).toStringList();
    list.removeAll(path);
    list.prepend(path);
    while (list.size() > kMaxRecent)
        list.removeLast();
    s.setValue(key, list);
    if (key == QLatin1String("recentModels"))
        setup_->setRecentModels(list);
    else
        rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu()
{
    recentMenu_->clear();
    const QStringList files = QSettings().value(QStringLiteral("recentFiles")).toStringList();
    for (const QString& f : files)
        recentMenu_->addAction(f, this, [this, f] { openPaths({f}); });
    recentMenu_->setEnabled(!files.isEmpty());
}

} // namespace qb::ui
