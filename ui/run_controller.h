#pragma once
// Owns the worker thread and the generation counter. The window asks it to start or cancel a
// run and receives only signals of the current run; finished results of a cancelled run are
// kept, and running the same setup again resumes with the configs still missing.
#include "ui/job_tracker.h"
#include "ui/sweep_worker.h"

#include <QElapsedTimer>
#include <QObject>
#include <QThread>

#include <atomic>
#include <memory>
#include <vector>

namespace qb::ui {

class RunController : public QObject {
    Q_OBJECT
public:
    explicit RunController(QObject* parent = nullptr);
    ~RunController() override; // cancels, quits and joins the worker thread

    // Tests and the app can swap the runner (e.g. a simulated one); takes effect on next start().
    void setRunnerFactory(RunnerFactory f);
    // Starts a run. When `setup` equals the previous run's setup, configs that already finished
    // are skipped (resume); otherwise the previous results are dropped.
    void start(const SweepSetup& setup);
    void cancel();                 // returns at once; the run stops within about a second
    bool isRunning() const { return running_; }
    quint64 generation() const { return jobs_.current(); }
    const std::vector<ConfigResult>& results() const { return results_; }
    void clearResults();
    // Waits (with a local event loop) at most `ms` for the current run to end; for shutdown only.
    bool waitForIdle(int ms);

Q_SIGNALS:
    void runStarted(int totalConfigs, int alreadyDone);
    void configStarted(int index, int total, const QString& config);
    void progress(int index, double configFraction, double overallFraction, double etaSeconds);
    void configFinished(const qb::ui::ConfigResult& result);
    void logLine(const QString& line);
    void runFinished(bool cancelled, const QString& error);
    void resultsCleared();
    // Internal: queued into the worker thread.
    void requestRun(quint64 generation, const qb::ui::SweepSetup& setup, const QStringList& done,
                    std::shared_ptr<std::atomic<bool>> cancel);

private:
    void onConfigStarted(quint64 gen, int index, int total, const QString& config);
    void onConfigProgress(quint64 gen, int index, double fraction);
    void onConfigFinished(quint64 gen, const ConfigResult& r);
    void onLog(quint64 gen, const QString& line);
    void onFinished(quint64 gen, bool cancelled, const QString& error);
    void createWorker();

    QThread thread_;
    SweepWorker* worker_ = nullptr;
    RunnerFactory factory_;
    JobTracker jobs_;
    std::shared_ptr<std::atomic<bool>> cancel_;
    bool running_ = false;
    std::string lastSetupJson_;
    QString runDir_;
    std::vector<ConfigResult> results_;
    int total_ = 0, doneInRun_ = 0, skipped_ = 0;
    QElapsedTimer runClock_;
    double lastFraction_ = 0;
};

} // namespace qb::ui
