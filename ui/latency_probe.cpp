// Measures the GUI event loop's worst latency while a sweep runs.
#include "ui/latency_probe.h"

#include <algorithm>

namespace qb::ui {

LatencyProbe::LatencyProbe(QObject* parent) : QObject(parent)
{
    timer_.setTimerType(Qt::PreciseTimer);
    timer_.setInterval(kIntervalMs);
    connect(&timer_, &QTimer::timeout, this, &LatencyProbe::tick);
}

void LatencyProbe::start()
{
    maxMs_ = 0;
    clock_.start();
    lastNs_ = 0;
    timer_.start();
}

void LatencyProbe::stop() { timer_.stop(); }

void LatencyProbe::tick()
{
    qint64 now = clock_.nsecsElapsed();
    double late = (now - lastNs_) / 1e6 - kIntervalMs;
    lastNs_ = now;
    maxMs_ = std::max(maxMs_, late);
}

} // namespace qb::ui
