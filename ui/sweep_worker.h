#pragma once
// The worker object that runs a sweep on its own QThread: core's sweep runner (core/run) with
// an evaluation backend from a factory (the real model backend in the app, a stub in tests).
// Core reports through plain callbacks and watches an std::atomic<bool>; this class turns the
// callbacks into queued signals, each tagged with the run's generation, and emits every
// finished core ResultRecord as it is appended to the run folder's results.jsonl. Cancel is a
// direct atomic store, never a queued slot.
#include "core/results/record.h"
#include "core/run/runner.h" // EvalBackend (no libtorch)
#include "ui/sweep_setup.h"

#include <QMetaType>
#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

Q_DECLARE_METATYPE(qb::ResultRecord)
Q_DECLARE_METATYPE(qb::ui::SweepSetup)

namespace qb::ui {

using BackendFactory = std::function<std::unique_ptr<qb::EvalBackend>()>;
// The model backend (core/run/model_backend.h): loads the model, quantizes, evaluates.
BackendFactory modelBackendFactory();

class SweepWorker : public QObject {
    Q_OBJECT
public:
    explicit SweepWorker(BackendFactory factory);

public Q_SLOTS:
    // Runs on the worker thread. Records go to setup.run_dir/results.jsonl; records already
    // there (ok) are skipped, so the same folder resumes. `cancel` is shared with the controller.
    void run(quint64 generation, const qb::ui::SweepSetup& setup, std::shared_ptr<std::atomic<bool>> cancel);

Q_SIGNALS:
    void configStarted(quint64 generation, int index, int total, const QString& config);
    void configProgress(quint64 generation, int index, double fraction);
    void recordFinished(quint64 generation, const qb::ResultRecord& record);
    void logLine(quint64 generation, const QString& line);
    void finished(quint64 generation, bool cancelled, const QString& error);

private:
    BackendFactory factory_;
};

} // namespace qb::ui

Q_DECLARE_METATYPE(std::shared_ptr<std::atomic<bool>>)
