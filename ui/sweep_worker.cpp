// SweepWorker: core's sweep runner on the worker thread, callbacks turned into signals.
#include "ui/sweep_worker.h"

#include "core/run/model_backend.h"
#include "core/run/runner.h"

#include "core/util/error.h"
#include "core/util/threads.h"

#include <algorithm>
#include <exception>
#include <new>
#include <filesystem>

namespace fs = std::filesystem;

namespace qb::ui {

BackendFactory modelBackendFactory()
{
    return [] { return std::make_unique<qb::ModelBackend>(); };
}

SweepWorker::SweepWorker(BackendFactory factory) : factory_(std::move(factory)) {}

void SweepWorker::run(quint64 gen, const SweepSetup& setup, std::shared_ptr<std::atomic<bool>> cancel)
{
    // Runs on the worker thread; every emit below crosses to the GUI thread as a queued call.
    QString error;
    bool cancelled = false;
    try {
        // OpenMP keeps the thread count per thread: the policy is applied here, on the thread that runs the ops.
        qb::applyThreadPolicy(setup.threads);
        qb::lowerThisThreadPriority(5); // the sweep yields to the window by design (never raised back)
        qb::SweepSpec spec = setup.toSpec();
        qb::RunOptions o;
        o.out_dir = setup.run_dir.empty() ? fs::temp_directory_path() / "quantbench-gui-run" : fs::path(setup.run_dir);
        o.resume = true;
        o.cancel = cancel.get();
        int lastConfig = -1;
        std::string lastMessage; // progress repeats its message with every fraction: log it once
        o.progress = [&](const qb::SweepProgress& p) {
            const int idx = p.config - 1;
            if (p.config != lastConfig && p.config > 0) {
                lastConfig = p.config;
                Q_EMIT configStarted(gen, idx, p.configs, QString::fromStdString(p.config_name));
            }
            double f = p.steps > 0 ? (std::max(0, p.step - 1) + p.task_fraction) / p.steps : p.task_fraction;
            if (p.config > 0)
                Q_EMIT configProgress(gen, idx, std::clamp(f, 0.0, 1.0));
            if (!p.message.empty() && p.message != lastMessage) {
                lastMessage = p.message;
                Q_EMIT logLine(gen, QString::fromStdString(p.message));
            }
        };
        o.on_record = [&](const qb::ResultRecord& r) {
            qb::ResultRecord rec = r;
            rec.source.clear(); // this run's records belong to the current view, not a loaded file
            Q_EMIT recordFinished(gen, rec);
        };
        Q_EMIT logLine(gen, QStringLiteral("run folder: ") + QString::fromStdString(o.out_dir.string()));
        auto backend = factory_();
        auto sum = qb::runSweep(spec, *backend, o);
        for (const auto& msg : sum.messages)
            Q_EMIT logLine(gen, QString::fromStdString(msg));
        Q_EMIT logLine(gen, QStringLiteral("recorded %1, skipped %2, failed %3 in %4 s; results in %5")
                                .arg(sum.recorded)
                                .arg(sum.skipped)
                                .arg(sum.failed)
                                .arg(int(sum.seconds))
                                .arg(QString::fromStdString(sum.results_file.string())));
        cancelled = sum.cancelled;
    } catch (const qb::Cancelled&) {
        cancelled = true; // a cancel observed outside the runner's loop: a stop, not a failure
    } catch (const std::exception& e) {
        // The worker boundary: an allocation that did not fit ends the sweep with a message, not the app.
        error = QString::fromStdString(qb::describeException(e));
        if (qb::isOutOfMemory(e))
            error += QStringLiteral(" while running the sweep: the model, its config or the task settings need more "
                                    "memory than this machine has available");
    }
    Q_EMIT finished(gen, cancelled || cancel->load(), error);
}

} // namespace qb::ui
