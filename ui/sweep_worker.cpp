#include "ui/sweep_worker.h"

#include "core/util/error.h"

#include <exception>
#include <new>

namespace qb::ui {

SweepWorker::SweepWorker(RunnerFactory factory) : factory_(std::move(factory)) {}

void SweepWorker::run(quint64 gen, const SweepSetup& setup, const QStringList& done,
                      std::shared_ptr<std::atomic<bool>> cancel)
{
    // Runs on the worker thread; every emit below crosses to the GUI thread as a queued call.
    RunnerCallbacks cb;
    cb.configStarted = [this, gen](int i, int n, const std::string& c) {
        Q_EMIT configStarted(gen, i, n, QString::fromStdString(c));
    };
    cb.configProgress = [this, gen](int i, double f) { Q_EMIT configProgress(gen, i, f); };
    cb.configFinished = [this, gen](const ConfigResult& r) { Q_EMIT configFinished(gen, r); };
    cb.log = [this, gen](const std::string& l) { Q_EMIT logLine(gen, QString::fromStdString(l)); };
    std::vector<std::string> doneStd;
    for (const auto& d : done)
        doneStd.push_back(d.toStdString());
    QString error;
    try {
        auto runner = factory_();
        Q_EMIT logLine(gen, QStringLiteral("runner: ") + QString::fromStdString(runner->name()));
        runner->run(setup, doneStd, cb, *cancel);
    } catch (const qb::Cancelled&) {
        // a cancel observed deep in core: a stop, not a failure
    } catch (const std::bad_alloc&) {
        // The worker boundary: an allocation that did not fit ends the sweep with a message, not the app.
        error = QStringLiteral("out of memory (std::bad_alloc) while running the sweep: the model, its config "
                               "or the task settings need more memory than this machine has available");
    } catch (const std::exception& e) {
        error = QString::fromStdString(e.what());
    }
    Q_EMIT finished(gen, cancel->load(), error);
}

} // namespace qb::ui
