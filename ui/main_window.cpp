// MainWindow: layout, actions and menus, the run controller wired to the views, settings.
#include "ui/main_window.h"

#include "ui/analysis_page.h"
#include "ui/charts_page.h"
#include "ui/compare_page.h"
#include "ui/elide.h"
#include "ui/latency_probe.h"
#include "ui/model_info.h"
#include "ui/results_model.h"
#include "ui/results_page.h"
#include "ui/run_controller.h"
#include "ui/run_panel.h"
#include "ui/setup_panel.h"
#include "ui/report_tables.h"
#include "ui/summary_page.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QKeySequence>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QThread>

#include "core/report/report.h"
#include "core/util/threads.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <utility>

// CPU time consumed by the calling thread, in ms.
static double threadCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// The .qrc is compiled into the static qb_ui: its initializer must be referenced explicitly.
static void initResources() { Q_INIT_RESOURCE(quantbench); }

namespace qb::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    initResources();
    setWindowTitle(tr("QuantBench"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/quantbench.svg")));
    setAcceptDrops(true);
    controller_ = new RunController(this);
    model_ = new ResultsModel(this);
    probe_ = new LatencyProbe(this);

    setup_ = new SetupPanel;
    auto* scroll = new QScrollArea;
    scroll->setWidget(setup_);
    scroll->setWidgetResizable(true);
    scroll->setMinimumWidth(520);
    runPanel_ = new RunPanel;
    leftSplit_ = new QSplitter(Qt::Vertical);
    leftSplit_->addWidget(scroll);
    leftSplit_->addWidget(runPanel_);
    leftSplit_->setStretchFactor(0, 3);
    leftSplit_->setStretchFactor(1, 1);

    tabs_ = new QTabWidget;
    charts_ = new ChartsPage;
    resultsPage_ = new ResultsPage(model_);
    summary_ = new SummaryPage;
    tabs_->addTab(charts_, tr("Charts"));
    tabs_->addTab(resultsPage_, tr("Results"));
    tabs_->addTab(summary_, tr("Summary"));
    compare_ = new ComparePage;
    tabs_->addTab(compare_, tr("Compare"));
    tabs_->setTabToolTip(3, tr("Two sources side by side: an opened old run and this run, or two files"));
    analysis_ = new AnalysisPage;
    tabs_->addTab(analysis_, tr("Analysis"));
    tabs_->setTabToolTip(4, tr("Where a scheme hurts and what to do about it: per-layer sensitivity and mixed "
                               "precision, activation outliers, SmoothQuant α"));

    split_ = new QSplitter(Qt::Horizontal);
    split_->addWidget(leftSplit_);
    split_->addWidget(tabs_);
    split_->setStretchFactor(1, 1);
    split_->setSizes({620, 880}); // the setup panel fits without a horizontal scroll bar
    setCentralWidget(split_);
    statusBar()->showMessage(tr("Ready: choose a model and schemes, then Run (Ctrl+R)"));

    // PlotJuggler habit: producers only mark data as new; views redraw at most every 40 ms.
    refreshTimer_.setSingleShot(true);
    // Records arrive up to 5 per config; one redraw per quarter second keeps the GUI thread's
    // share small while points still appear as configs finish.
    refreshTimer_.setInterval(250);
    connect(&refreshTimer_, &QTimer::timeout, this, [this] { refreshViews(false); });
    connect(tabs_, &QTabWidget::currentChanged, this, [this] {
        if (summaryDirty_ && (tabs_->currentWidget() == summary_ || tabs_->currentWidget() == charts_))
            updateSummary();
        if (compareDirty_ && tabs_->currentWidget() == compare_)
            updateCompare();
        if (analysisDirty_ && tabs_->currentWidget() == analysis_)
            updateAnalysis();
    });

    createActions();
    createMenus();
    connectController();
    connect(setup_, &SetupPanel::changed, this, &MainWindow::updateRunEnabled);
    connect(setup_, &SetupPanel::error, this, &MainWindow::showError);
    connect(setup_, &SetupPanel::modelChosen, this, [this](const QString& d) { addRecent(QStringLiteral("recentModels"), d); });
    connect(runPanel_->runButton(), &QPushButton::clicked, this, &MainWindow::startRun);
    connect(runPanel_->cancelButton(), &QPushButton::clicked, this, &MainWindow::cancelRun);
    connect(runPanel_->clusterButton(), &QPushButton::clicked, this, &MainWindow::runOnClusterDialog);
    connect(resultsPage_, &ResultsPage::removeSourcesRequested, this, &MainWindow::removeSources);
    connect(analysis_, &AnalysisPage::addSchemeRequested, this, [this](const QString& name) {
        setup_->addExtraScheme(name);
        runPanel_->appendLog(tr("added to the sweep: %1").arg(elided(name, 300)));
        statusBar()->showMessage(tr("Added %1 to the setup's extra schemes: Run measures it").arg(elided(name, 120)));
    });
    connect(analysis_, &AnalysisPage::exportRequested, this, &MainWindow::exportAnalysisDialog);
    readSettings();
    updateRunEnabled();
    refreshViews(true);
}

MainWindow::~MainWindow()
{
    if (reportThread_) { // its result has nowhere to go; let it finish, then free it
        reportThread_->disconnect(this);
        reportThread_->wait();
        delete reportThread_;
    }
}

void MainWindow::createActions()
{
    runAct_ = new QAction(QIcon(QStringLiteral(":/icons/run.svg")), tr("&Run sweep"), this);
    runAct_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    connect(runAct_, &QAction::triggered, this, &MainWindow::startRun);
    cancelAct_ = new QAction(QIcon(QStringLiteral(":/icons/cancel.svg")), tr("&Cancel"), this);
    cancelAct_->setShortcuts({QKeySequence(Qt::Key_Escape), QKeySequence(Qt::CTRL | Qt::Key_Period)});
    cancelAct_->setEnabled(false);
    connect(cancelAct_, &QAction::triggered, this, &MainWindow::cancelRun);
    openAct_ = new QAction(tr("&Open results…"), this);
    openAct_->setShortcut(QKeySequence::Open);
    connect(openAct_, &QAction::triggered, this, &MainWindow::openDialog);
    exportAct_ = new QAction(tr("&Export report…"), this);
    exportAct_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    connect(exportAct_, &QAction::triggered, this, &MainWindow::exportDialog);
    addActions({runAct_, cancelAct_, openAct_, exportAct_}); // shortcuts work without the menu bar focus
}

void MainWindow::createMenus()
{
    auto* file = menuBar()->addMenu(tr("&File"));
    file->addAction(openAct_);
    file->addAction(tr("&Follow run folder…"), this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Follow run folder (shard files as they grow)"));
        if (!d.isEmpty())
            followRunFolder(d);
    });
    file->addAction(tr("S&top following"), this, &MainWindow::stopFollowing);
    recentMenu_ = file->addMenu(tr("Open &recent"));
    file->addSeparator();
    file->addAction(tr("&Load sweep setup…"), this, &MainWindow::loadSweepDialog);
    file->addAction(tr("&Save sweep setup…"), this, &MainWindow::saveSweepDialog);
    file->addSeparator();
    file->addAction(exportAct_);
    file->addAction(tr("Export &charts (PNG + SVG)…"), this, &MainWindow::exportChartsDialog);
    file->addAction(tr("Export &analysis (PNG, SVG, CSV, Markdown)…"), this, &MainWindow::exportAnalysisDialog);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    auto* run = menuBar()->addMenu(tr("&Run"));
    run->addAction(runAct_);
    run->addAction(cancelAct_);
    run->addAction(tr("Run on c&luster…"), this, &MainWindow::runOnClusterDialog);
    run->addSeparator();
    run->addAction(tr("Use the &demo model and sweep"), setup_, &SetupPanel::useDemo);
    run->addAction(tr("C&lear results of this run"), controller_, &RunController::clearResults);
    auto* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About QuantBench"), this, &MainWindow::showAbout);
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::connectController()
{
    auto* c = controller_;
    connect(c, &RunController::runStarted, runPanel_, &RunPanel::onRunStarted);
    connect(c, &RunController::configStarted, runPanel_, &RunPanel::onConfigStarted);
    connect(c, &RunController::configStarted, this, [this](int i, int n, const QString& cfg) {
        statusBar()->showMessage(tr("Running %1 (%2 of %3)…").arg(cfg).arg(i + 1).arg(n));
    });
    connect(c, &RunController::progress, runPanel_, &RunPanel::onProgress);
    connect(c, &RunController::logLine, runPanel_, &RunPanel::appendLog);
    connect(c, &RunController::recordFinished, this, [this](const qb::ResultRecord& r) {
        pending_.push_back(r);
        scheduleRefresh();
    });
    connect(c, &RunController::resultsCleared, this, [this] {
        pending_.clear();
        model_->removeSource({});
        scheduleRefresh();
    });
    connect(c, &RunController::runFinished, this, &MainWindow::onRunFinished);
}

void MainWindow::startRun()
{
    if (controller_->isRunning())
        return;
    QStringList problems = setup_->problems();
    if (!problems.isEmpty()) {
        showError(tr("Cannot run"), problems.join(QLatin1Char('\n')));
        return;
    }
    SweepSetup s = setup_->setup();
    addRecent(QStringLiteral("recentModels"), QString::fromStdString(s.model_dir));
    runAct_->setEnabled(false);
    cancelAct_->setEnabled(true);
    // The click itself (run folder, cleared views) is timed apart from the sweep: the probe
    // measures the event loop while the worker computes.
    QElapsedTimer startCost;
    startCost.start();
    controller_->start(s);
    startMs_ = startCost.nsecsElapsed() / 1e6;
    probe_->start();
}

void MainWindow::cancelRun()
{
    if (!controller_->isRunning())
        return;
    controller_->cancel(); // an atomic store: returns at once, the worker stops within ~1 s
    statusBar()->showMessage(tr("Cancelling…"));
    runPanel_->appendLog(tr("cancel requested"));
}

void MainWindow::onRunFinished(bool cancelled, const QString& error)
{
    probe_->stop();
    lastRunError_ = error;
    runPanel_->onFinished(cancelled, error);
    cancelAct_->setEnabled(false);
    updateRunEnabled();
    const QString latency = tr("event-loop max latency during the sweep: %1 ms (starting the run: %2 ms)")
                                .arg(probe_->maxLatencyMs(), 0, 'f', 1)
                                .arg(startMs_, 0, 'f', 1);
    runPanel_->appendLog(latency);
    std::fprintf(stderr, "quantbench: %s\n", qPrintable(latency));
    if (!error.isEmpty()) {
        runPanel_->appendLog(tr("sweep failed: %1").arg(error));
        statusBar()->showMessage(tr("Sweep failed: %1").arg(error));
        showError(tr("Sweep failed"), error);
    } else {
        int n = controller_->finishedConfigs();
        statusBar()->showMessage(cancelled ? tr("Cancelled: %1 finished configs kept; Run resumes the rest").arg(n)
                                           : tr("Done: %1 configs").arg(n));
    }
    refreshViews(true); // the final state at once, not after the throttle
    Q_EMIT runFinished(cancelled);
}

double MainWindow::maxLatencyMs() const { return probe_->maxLatencyMs(); }

void MainWindow::scheduleRefresh()
{
    if (!refreshTimer_.isActive())
        refreshTimer_.start();
}

void MainWindow::flushViews()
{
    refreshTimer_.stop();
    refreshViews(true);
}

// core's report of every record shown, for the Summary tab and the table under the charts;
// names elided first, since a view lays out every character of a megabyte-long name.
static SummaryContent buildSummary(std::vector<qb::ResultRecord> records)
{
    for (auto& r : records) {
        r.config = elide(r.config);
        r.error = elide(r.error, kMaxMessageChars);
    }
    SummaryContent c;
    if (records.empty()) {
        c.markdown = QStringLiteral("# QuantBench results\n\nNo results yet: run a sweep or open result files.\n");
        return c;
    }
    const qb::Report rep = qb::buildReport(records);
    c.title = rep.title;
    c.findings = rep.findings;
    c.warnings = rep.warnings;
    c.tables = rep.tables;
    c.markdown = QString::fromStdString(rep.markdown());
    c.csv = QString::fromStdString(rep.csv());
    return c;
}

void MainWindow::applySummary(const SummaryContent& c)
{
    QElapsedTimer t;
    t.start();
    charts_->overview()->setTables(c.tables);
    summary_->setContent(c);
    lastTablesMs_ = t.nsecsElapsed() / 1e6;
}

void MainWindow::updateCompare()
{
    compare_->setRecords(model_->records());
    compareDirty_ = false;
}

void MainWindow::updateAnalysis()
{
    analysis_->setRows(model_->rows()); // cheap when no analysis record changed
    analysisDirty_ = false;
}

void MainWindow::updateSummary()
{
    ++reportGen_; // a build still in flight is now stale
    QElapsedTimer t;
    t.start();
    const SummaryContent c = buildSummary(model_->records());
    lastReportMs_ = t.nsecsElapsed() / 1e6;
    applySummary(c);
    summaryDirty_ = false;
}

// During a run: the report is built off the GUI thread, the views take it when it is done.
void MainWindow::startReportBuild()
{
    summaryDirty_ = false;
    if (reportThread_) {
        reportAgain_ = true;
        return;
    }
    auto out = std::make_shared<SummaryContent>();
    const quint64 gen = ++reportGen_;
    reportThread_ = QThread::create([records = model_->records(), out]() mutable {
        qb::lowerThisThreadPriority(5); // QThread::LowPriority is no nice value on Linux
        *out = buildSummary(std::move(records));
    });
    reportThread_->setObjectName(QStringLiteral("report-builder"));
    connect(reportThread_, &QThread::finished, this, [this, out, gen] {
        reportThread_->deleteLater();
        reportThread_ = nullptr;
        if (gen == reportGen_)
            applySummary(*out);
        if (std::exchange(reportAgain_, false))
            startReportBuild();
    });
    reportThread_->start(QThread::LowPriority);
}

// During a run (full = false) the Markdown report, the costliest view, is only rebuilt while its
// tab is showing; otherwise when the tab is opened or the run ends.
void MainWindow::refreshViews(bool full)
{
    QElapsedTimer t;
    t.start();
    const double cpu0 = threadCpuMs();
    if (!pending_.empty()) {
        model_->addRecords(pending_);
        pending_.clear();
    }
    const auto& rows = model_->rows();
    charts_->setRows(rows, /*lazy=*/!full);
    qint64 tCharts = t.elapsed();
    summaryDirty_ = true;
    compareDirty_ = true;
    if (full || tabs_->currentWidget() == compare_)
        updateCompare();
    analysisDirty_ = true;
    if (tabs_->currentWidget() == analysis_)
        updateAnalysis();
    if (full)
        updateSummary(); // the final state at once (run finished, files opened, tests)
    else if (tabs_->currentWidget() == summary_ || (tabs_->currentWidget() == charts_ && charts_->overview()->isVisible()))
        startReportBuild();
    maxRefreshCpuMs_ = std::max(maxRefreshCpuMs_, threadCpuMs() - cpu0);
    if (qEnvironmentVariableIsSet("QB_UI_TIMING"))
        std::fprintf(stderr, "refresh: %d rows, charts %lld ms, total %lld ms (report %.1f ms, tables %.1f ms)\n",
                     int(rows.size()), tCharts, t.elapsed(), lastReportMs_, lastTablesMs_);
    Q_EMIT viewsUpdated();
}

void MainWindow::updateRunEnabled()
{
    QStringList problems = setup_->problems();
    bool ok = problems.isEmpty();
    runPanel_->setRunEnabled(ok, problems.join(QLatin1Char('\n')));
    runAct_->setEnabled(ok && !controller_->isRunning());
}

void MainWindow::showError(const QString& title, const QString& text)
{
    lastError_ = title + QStringLiteral(": ") + text;
    runPanel_->appendLog(lastError_);
    statusBar()->showMessage(elided(title + QStringLiteral(": ") + text.section(QLatin1Char('\n'), 0, 0), 200));
    if (quiet_)
        return;
    auto* box = new QMessageBox(QMessageBox::Warning, title, elided(text, 4000), QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setModal(false); // the window stays usable
    box->show();
}

void MainWindow::showAbout()
{
    auto v = versions();
    QMessageBox::about(this, tr("About QuantBench"),
                       tr("<h3>QuantBench %1</h3><p>Post-training quantization workbench for decoder-only LLMs.</p>"
                          "<table><tr><td>Commit</td><td>%2</td></tr><tr><td>Qt</td><td>%3 (built with %4)</td></tr>"
                          "<tr><td>libtorch</td><td>%5</td></tr><tr><td>CUDA</td><td>%6</td></tr></table>")
                           .arg(QString::fromStdString(v.app), QString::fromStdString(v.commit),
                                QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR),
                                QString::fromStdString(v.torch), QString::fromStdString(v.cuda)));
}

void MainWindow::closeEvent(QCloseEvent* e)
{
    if (controller_->isRunning()) {
        if (confirmClose_ && !quiet_ &&
            QMessageBox::question(this, tr("Sweep running"),
                                  tr("A sweep is running. Cancel it and close? Finished configs are kept in the results file.")) !=
                QMessageBox::Yes) {
            e->ignore();
            return;
        }
        controller_->cancel();
        controller_->waitForIdle(5000);
    }
    writeSettings();
    e->accept();
}

void MainWindow::readSettings()
{
    QSettings s;
    if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray())) {
        // First start: most of the screen (the default 1190x665 left a 1600x1000 screen unused).
        if (const QScreen* sc = screen()) {
            const QRect a = sc->availableGeometry();
            resize(std::max(900, int(a.width() * 0.92)), std::max(600, int(a.height() * 0.92)));
            move(a.center() - rect().center());
        }
    }
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    split_->restoreState(s.value(QStringLiteral("window/split")).toByteArray());
    leftSplit_->restoreState(s.value(QStringLiteral("window/leftSplit")).toByteArray());
    charts_->splitter()->restoreState(s.value(QStringLiteral("window/chartsSplit")).toByteArray());
    tabs_->setCurrentIndex(s.value(QStringLiteral("window/tab"), 0).toInt());
    setup_->setRecentModels(s.value(QStringLiteral("recentModels")).toStringList());
    const QByteArray last = s.value(QStringLiteral("setup/last")).toByteArray();
    if (!last.isEmpty()) {
        try {
            setup_->setSetup(SweepSetup::fromJson(nlohmann::json::parse(last.toStdString()), "settings"));
        } catch (const std::exception& ex) {
            runPanel_->appendLog(tr("saved setup ignored: %1").arg(QString::fromUtf8(ex.what())));
        }
    }
    rebuildRecentMenu();
}

void MainWindow::writeSettings() const
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("window/split"), split_->saveState());
    s.setValue(QStringLiteral("window/leftSplit"), leftSplit_->saveState());
    s.setValue(QStringLiteral("window/chartsSplit"), charts_->splitter()->saveState());
    s.setValue(QStringLiteral("window/tab"), tabs_->currentIndex());
    s.setValue(QStringLiteral("setup/last"), QByteArray::fromStdString(setup_->setup().toJson().dump()));
}

} // namespace qb::ui
