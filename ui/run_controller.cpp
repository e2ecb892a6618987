// RunController: the worker thread, generations, resume and progress/ETA of a run.
#include "ui/run_controller.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QStandardPaths>
#include <QEventLoop>
#include <QTimer>

#include <algorithm>
#include <map>
#include <set>

namespace qb::ui {

RunController::RunController(QObject* parent) : QObject(parent), factory_(modelBackendFactory())
{
    qRegisterMetaType<qb::ResultRecord>();
    qRegisterMetaType<qb::ui::SweepSetup>();
    qRegisterMetaType<std::shared_ptr<std::atomic<bool>>>();
    thread_.setObjectName(QStringLiteral("sweep-worker"));
    createWorker();
    thread_.start();
}

RunController::~RunController()
{
    if (cancel_)
        cancel_->store(true);
    thread_.quit();
    thread_.wait();
}

void RunController::createWorker()
{
    // The factory is read on the worker thread when a run starts, through this indirection,
    // so setBackendFactory() needs no new worker.
    worker_ = new SweepWorker([this] { return factory_(); });
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    connect(this, &RunController::requestRun, worker_, &SweepWorker::run, Qt::QueuedConnection);
    connect(worker_, &SweepWorker::configStarted, this, &RunController::onConfigStarted, Qt::QueuedConnection);
    connect(worker_, &SweepWorker::configProgress, this, &RunController::onConfigProgress, Qt::QueuedConnection);
    connect(worker_, &SweepWorker::recordFinished, this, &RunController::onRecordFinished, Qt::QueuedConnection);
    connect(worker_, &SweepWorker::logLine, this, &RunController::onLog, Qt::QueuedConnection);
    connect(worker_, &SweepWorker::finished, this, &RunController::onFinished, Qt::QueuedConnection);
}

void RunController::setBackendFactory(BackendFactory f)
{
    // Only between runs: the worker reads factory_ at the start of a run.
    factory_ = std::move(f);
}

int RunController::finishedConfigs() const
{
    std::set<std::string> configs;
    for (const auto& r : records_)
        configs.insert(r.config);
    return int(configs.size());
}

void RunController::start(const SweepSetup& setup)
{
    if (cancel_)
        cancel_->store(true); // a still-running old run stops; its signals are stale from now on
    std::string json = setup.toJson().dump();
    const auto configs = setup.configs();
    const size_t nTasks = setup.toSpec().tasks.enabledTasks().size();
    int alreadyDone = 0;
    if (json == lastSetupJson_) {
        // Failed records run again (core's runner retries them); ok ones stay and are skipped.
        records_.erase(std::remove_if(records_.begin(), records_.end(), [](const qb::ResultRecord& r) { return !r.ok(); }),
                       records_.end());
        std::map<std::string, size_t> okTasks;
        for (const auto& r : records_)
            ++okTasks[r.config];
        for (const auto& [c, n] : okTasks)
            alreadyDone += n >= nTasks ? 1 : 0;
    } else {
        records_.clear();
        Q_EMIT resultsCleared();
    }
    if (json != lastSetupJson_ || runDir_.isEmpty()) {
        // A new setup gets a new run folder; the same setup resumes in its folder.
        runDir_ = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/runs/") +
                  QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz"));
    }
    lastSetupJson_ = json;
    SweepSetup run = setup;
    run.run_dir = runDir_.toStdString();
    quint64 gen = jobs_.start();
    cancel_ = std::make_shared<std::atomic<bool>>(false);
    running_ = true;
    total_ = int(configs.size());
    startFraction_ = total_ > 0 ? double(alreadyDone) / total_ : 0.0;
    currentConfig_.clear();
    runClock_.start();
    Q_EMIT runStarted(total_, alreadyDone);
    if (alreadyDone > 0)
        Q_EMIT logLine(QStringLiteral("resuming: %1 of %2 configs already done").arg(alreadyDone).arg(total_));
    Q_EMIT requestRun(gen, run, cancel_);
}

void RunController::cancel()
{
    if (cancel_)
        cancel_->store(true);
}

void RunController::clearResults()
{
    records_.clear();
    lastSetupJson_.clear();
    runDir_.clear();
    Q_EMIT resultsCleared();
}

bool RunController::waitForIdle(int ms)
{
    if (!running_)
        return true;
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    connect(this, &RunController::runFinished, &loop, &QEventLoop::quit);
    loop.exec();
    return !running_;
}

void RunController::onConfigStarted(quint64 gen, int index, int total, const QString& config)
{
    if (!jobs_.isCurrent(gen))
        return;
    currentConfig_ = config;
    Q_EMIT configStarted(index, total, config);
    Q_EMIT logLine(QStringLiteral("[%1/%2] %3").arg(index + 1).arg(total).arg(config));
}

void RunController::onConfigProgress(quint64 gen, int index, double fraction)
{
    if (!jobs_.isCurrent(gen) || total_ == 0)
        return;
    // The runner's index is the config's place in the whole sweep; configs before it are done
    // (in this run or an earlier one of the same folder).
    double overall = std::clamp((index + std::min(fraction, 0.999)) / total_, 0.0, 1.0);
    double runFrac = startFraction_ < 1 ? (overall - startFraction_) / (1 - startFraction_) : 1.0;
    double elapsed = runClock_.elapsed() / 1000.0;
    double eta = runFrac > 0.01 ? elapsed / runFrac - elapsed : -1.0;
    Q_EMIT progress(index, fraction, overall, eta);
}

void RunController::onRecordFinished(quint64 gen, const qb::ResultRecord& r)
{
    if (!jobs_.isCurrent(gen))
        return; // a superseded run: never overwrite the current view
    records_.push_back(r);
    Q_EMIT recordFinished(r); // the runner's own progress message says "done" or "failed: why"
}
void RunController::onLog(quint64 gen, const QString& line)
{
    if (jobs_.isCurrent(gen))
        Q_EMIT logLine(line);
}

void RunController::onFinished(quint64 gen, bool cancelled, const QString& error)
{
    if (!jobs_.isCurrent(gen))
        return;
    running_ = false;
    Q_EMIT runFinished(cancelled, error);
}

} // namespace qb::ui
