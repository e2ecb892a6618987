#pragma once
// Owns the worker thread and the generation counter. The window asks it to start or cancel a
// run and receives only signals of the current run: core ResultRecords as each (config, task)
// finishes. Records of a cancelled run are kept, and running the same setup again resumes in
// the same run folder, where core's runner skips what is already recorded.
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

    // Tests can swap the evaluation backend (a stub); takes effect on the next start().
    void setBackendFactory(BackendFactory f);
    // Starts a run. When `setup` equals the previous run's setup, the run resumes in the same
    // folder (ok records are kept and skipped, failed ones run again); otherwise the previous
    // records are dropped and a new folder is used.
    void start(const SweepSetup& setup);
    void cancel();                 // returns at once; the run stops within about a second
    bool isRunning() const { return running_; }
    quint64 generation() const { return jobs_.current(); }
    const std::vector<qb::ResultRecord>& records() const { return records_; }
    int finishedConfigs() const; // configs of this run with at least one record
    void clearResults();
    // Waits (with a local event loop) at most `ms` for the current run to end; for shutdown only.
    bool waitForIdle(int ms);

Q_SIGNALS:
    void runStarted(int totalConfigs, int alreadyDone);
    void configStarted(int index, int total, const QString& config);
    void progress(int index, double configFraction, double overallFraction, double etaSeconds);
    void recordFinished(const qb::ResultRecord& record);
    void logLine(const QString& line);
    void runFinished(bool cancelled, const QString& error);
    void resultsCleared();
    // Internal: queued into the worker thread.
    void requestRun(quint64 generation, const qb::ui::SweepSetup& setup, std::shared_ptr<std::atomic<bool>> cancel);

private:
    void onConfigStarted(quint64 gen, int index, int total, const QString& config);
    void onConfigProgress(quint64 gen, int index, double fraction);
    void onRecordFinished(quint64 gen, const qb::ResultRecord& r);
    void onLog(quint64 gen, const QString& line);
    void onFinished(quint64 gen, bool cancelled, const QString& error);
    void createWorker();

    QThread thread_;
    SweepWorker* worker_ = nullptr;
    BackendFactory factory_;
    JobTracker jobs_;
    std::shared_ptr<std::atomic<bool>> cancel_;
    bool running_ = false;
    std::string lastSetupJson_;
    QString runDir_;
    std::vector<qb::ResultRecord> records_;
    int total_ = 0;
    double startFraction_ = 0; // overall fraction already done when the run started (resume)
    QString currentConfig_;
    QElapsedTimer runClock_;
};

} // namespace qb::ui
