#include "ui/run_controller.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QStandardPaths>
#include <QEventLoop>
#include <QTimer>

#include <algorithm>

namespace qb::ui {

RunController::RunController(QObject* parent)
    : QObject(parent), factory_([] { return makeDefaultRunner(); })
{
    qRegisterMetaType<qb::ui::ConfigResult>();
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
    // so setRunnerFactory() needs no new worker.
    worker_ = new SweepWorker([this] { return factory_(); });
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    connect(this, &RunController::requestRun, worker_, &SweepWorker::run, Qt::QueuedConnection);
    connect(worker_, &SweepWorker::configStarted, this, &RunController::onConfigStarted, Qt::QueuedConnection);
    connect(worker_, &SweepWorker::configProgress, this, &RunController::onConfigProgress, Qt::QueuedConnection);
    connect(worker_, &SweepWorker::configFinished, this, &RunController::onConfigFinished, Qt::QueuedConnection);
    connect(worker_, &SweepWorker::logLine, this, &RunController::onLog, Qt::QueuedConnection);
    connect(worker_, &SweepWorker::finished, this, &RunController::onFinished, Qt::QueuedConnection);
}

void RunController::setRunnerFactory(RunnerFactory f)
{
    // Only between runs: the worker reads factory_ at the start of a run.
    factory_ = std::move(f);
}

void RunController::start(const SweepSetup& setup)
{
    if (cancel_)
        cancel_->store(true); // a still-running old run stops; its signals are stale from now on
    std::string json = setup.toJson().dump();
    QStringList done;
    if (json == lastSetupJson_) {
        for (const auto& r : results_)
            if (r.status == "ok")
                done << QString::fromStdString(r.config);
        // Failed or cancelled configs run again.
        results_.erase(std::remove_if(results_.begin(), results_.end(), [](const ConfigResult& r) { return r.status != "ok"; }),
                       results_.end());
    } else {
        results_.clear();
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
    total_ = int(setup.configs().size());
    skipped_ = int(done.size());
    doneInRun_ = 0;
    lastFraction_ = 0;
    runClock_.start();
    Q_EMIT runStarted(total_, skipped_);
    if (skipped_ > 0)
        Q_EMIT logLine(QStringLiteral("resuming: %1 of %2 configs already done").arg(skipped_).arg(total_));
    Q_EMIT requestRun(gen, run, done, cancel_);
}

void RunController::cancel()
{
    if (cancel_)
        cancel_->store(true);
}

void RunController::clearResults()
{
    results_.clear();
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
    Q_EMIT configStarted(index, total, config);
    Q_EMIT logLine(QStringLiteral("[%1/%2] %3").arg(index + 1).arg(total).arg(config));
}

void RunController::onConfigProgress(quint64 gen, int index, double fraction)
{
    if (!jobs_.isCurrent(gen) || total_ == 0)
        return;
    int remaining = total_ - skipped_;
    double overall = (skipped_ + doneInRun_ + std::min(fraction, 0.999)) / total_;
    double runFrac = remaining > 0 ? (doneInRun_ + fraction) / remaining : 1.0;
    double elapsed = runClock_.elapsed() / 1000.0;
    double eta = runFrac > 0.01 ? elapsed / runFrac - elapsed : -1.0;
    Q_EMIT progress(index, fraction, overall, eta);
}

void RunController::onConfigFinished(quint64 gen, const ConfigResult& r)
{
    if (!jobs_.isCurrent(gen))
        return; // a superseded run: never overwrite the current view
    // A runner may report a config again as more of its tasks finish: replace, count once.
    auto it = std::find_if(results_.begin(), results_.end(), [&](const ConfigResult& o) { return o.config == r.config; });
    if (it != results_.end()) {
        *it = r;
        Q_EMIT configFinished(r);
        return;
    }
    ++doneInRun_;
    results_.push_back(r);
    Q_EMIT configFinished(r);
    Q_EMIT logLine(r.ok() ? QStringLiteral("  done %1 in %2 s").arg(QString::fromStdString(r.config)).arg(r.seconds, 0, 'f', 1)
                          : QStringLiteral("  FAILED %1: %2").arg(QString::fromStdString(r.config), QString::fromStdString(r.error)));
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
