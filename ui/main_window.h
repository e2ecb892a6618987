#pragma once
// The workbench window: it lays out the pages, owns the actions and menus, and connects the
// run controller to the views through one throttled refresh (~40 ms). File handling (open,
// drop, export, sweep files, recent lists) is in main_window_files.cpp.
#include "core/results/record.h"

#include <QMainWindow>
#include <QStringList>
#include <QTimer>

#include <vector>

QT_BEGIN_NAMESPACE
class QThread;
class QAction;
class QMenu;
class QSplitter;
class QTabWidget;
QT_END_NAMESPACE

namespace qb::ui {

class AnalysisPage;
class ChartsPage;
class ComparePage;
struct SummaryContent;
class LatencyProbe;
class ResultsModel;
class ResultsPage;
class RunFolderFollower;
class RunController;
class RunPanel;
class SetupPanel;
class SummaryPage;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    SetupPanel* setupPanel() const { return setup_; }
    RunPanel* runPanel() const { return runPanel_; }
    RunController* controller() const { return controller_; }
    ResultsModel* resultsModel() const { return model_; }
    ResultsPage* resultsPage() const { return resultsPage_; }
    ChartsPage* chartsPage() const { return charts_; }
    SummaryPage* summaryPage() const { return summary_; }
    ComparePage* comparePage() const { return compare_; }
    AnalysisPage* analysisPage() const { return analysis_; }
    QTabWidget* tabs() const { return tabs_; }
    QAction* runAction() const { return runAct_; }
    QAction* cancelAction() const { return cancelAct_; }

    void startRun();
    void cancelRun();
    // Opens result files and folders; returns the messages about what could not be read.
    QStringList openPaths(const QStringList& paths);
    QStringList lastMessages() const { return lastMessages_; }
    bool loadSweep(const QString& path); // errors go to a message box and the log
    bool saveSweep(const QString& path);
    // Cluster runs (main_window_cluster.cpp): the submit dialog, and following a run folder whose
    // shard files grow (table and charts reload that folder as one source; Slurm status in the log).
    void runOnClusterDialog();
    void followRunFolder(const QString& dir);
    void stopFollowing();
    RunFolderFollower* follower() const { return follower_; }
    void reloadRunFolder(const QString& dir);
    QString exportTo(const QString& path);          // .md / .csv / .json; "" on success
    QStringList exportChartsTo(const QString& dir); // PNG + SVG of every chart
    QStringList exportAnalysisTo(const QString& dir); // the Analysis tab: PNG + SVG + CSV, analysis.md
    void flushViews();                               // apply pending updates now (tests, screenshot)
    double maxLatencyMs() const;
    // CPU time of the GUI thread spent in the costliest single view refresh: what the window's
    // own work costs, apart from how busy the machine is (latency includes waiting for a core).
    double maxRefreshCpuMs() const { return maxRefreshCpuMs_; }
    void setConfirmClose(bool on) { confirmClose_ = on; }
    void setQuietDialogs(bool on) { quiet_ = on; } // no modal boxes (tests, --quit-when-done)
    // Says a problem in the log and the status bar, and in a (non-modal) box unless quiet.
    void showError(const QString& title, const QString& text);
    QString lastError() const { return lastError_; } // "title: text" of the last showError()
    QString lastRunError() const { return lastRunError_; } // why the last run failed as a whole, or ""

Q_SIGNALS:
    void runFinished(bool cancelled);
    void viewsUpdated();

protected:
    void closeEvent(QCloseEvent* e) override;
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;

private:
    void createActions();
    void createMenus();
    void connectController();
    void scheduleRefresh();
    void refreshViews(bool full);
    void updateSummary();
    void updateRunEnabled();
    void onRunFinished(bool cancelled, const QString& error);
    void showAbout();
    void readSettings();
    void writeSettings() const;
    void addRecent(const QString& key, const QString& path);
    void rebuildRecentMenu();
    void openDialog();
    void exportDialog();
    void exportChartsDialog();
    void exportAnalysisDialog();
    void loadSweepDialog();
    void saveSweepDialog();
    void removeSources(const QStringList& sources);

    SetupPanel* setup_ = nullptr;
    RunPanel* runPanel_ = nullptr;
    RunController* controller_ = nullptr;
    ResultsModel* model_ = nullptr;
    ResultsPage* resultsPage_ = nullptr;
    ChartsPage* charts_ = nullptr;
    SummaryPage* summary_ = nullptr;
    bool summaryDirty_ = false;
    bool compareDirty_ = false;
    void updateCompare();
    ComparePage* compare_ = nullptr;
    // The Analysis tab is rebuilt only while it is visible (and when it is opened).
    AnalysisPage* analysis_ = nullptr;
    bool analysisDirty_ = false;
    void updateAnalysis();
    // The report of a live run is built on its own thread (it reads NLL sidecars and bootstraps:
    // tens of ms); one build at a time, the newest state wins.
    QThread* reportThread_ = nullptr;
    bool reportAgain_ = false;
    quint64 reportGen_ = 0;
    void startReportBuild();
    void applySummary(const SummaryContent& c);
    double startMs_ = 0; // GUI-thread time of the last Run click
    LatencyProbe* probe_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    QSplitter* split_ = nullptr;
    QSplitter* leftSplit_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    QAction* runAct_ = nullptr;
    QAction* cancelAct_ = nullptr;
    QAction* openAct_ = nullptr;
    QAction* exportAct_ = nullptr;
    RunFolderFollower* follower_ = nullptr;
    QString lastSlurmStatus_;
    QTimer refreshTimer_;
    std::vector<qb::ResultRecord> pending_;
    QStringList lastMessages_;
    QString lastError_;
    QString lastRunError_;
    double maxRefreshCpuMs_ = 0;
    double lastReportMs_ = 0, lastTablesMs_ = 0; // of the last updateSummary (QB_UI_TIMING)
    bool confirmClose_ = true;
    bool quiet_ = false;
};

} // namespace qb::ui
