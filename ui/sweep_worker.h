#pragma once
// The worker object that runs a sweep on its own QThread. Core reports through plain callbacks
// and watches an std::atomic<bool>; this class turns the callbacks into queued signals, each
// tagged with the run's generation. Cancel is a direct atomic store, never a queued slot.
#include "ui/core_bridge.h"

#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <functional>
#include <memory>

Q_DECLARE_METATYPE(qb::ui::ConfigResult)
Q_DECLARE_METATYPE(qb::ui::SweepSetup)

namespace qb::ui {

using RunnerFactory = std::function<std::unique_ptr<SweepRunner>()>;

class SweepWorker : public QObject {
    Q_OBJECT
public:
    explicit SweepWorker(RunnerFactory factory);

public Q_SLOTS:
    // Runs on the worker thread. `cancel` is owned jointly with the controller.
    void run(quint64 generation, const qb::ui::SweepSetup& setup, const QStringList& done,
             std::shared_ptr<std::atomic<bool>> cancel);

Q_SIGNALS:
    void configStarted(quint64 generation, int index, int total, const QString& config);
    void configProgress(quint64 generation, int index, double fraction);
    void configFinished(quint64 generation, const qb::ui::ConfigResult& result);
    void logLine(quint64 generation, const QString& line);
    void finished(quint64 generation, bool cancelled, const QString& error);

private:
    RunnerFactory factory_;
};

} // namespace qb::ui

Q_DECLARE_METATYPE(std::shared_ptr<std::atomic<bool>>)
