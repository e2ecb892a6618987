#pragma once
// Measures how late the GUI event loop serves a short periodic timer: the lateness is the
// time the GUI thread was busy. Used during sweeps to prove the GUI never waits on compute.
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace qb::ui {

class LatencyProbe : public QObject {
    Q_OBJECT
public:
    explicit LatencyProbe(QObject* parent = nullptr);
    void start();
    void stop();
    double maxLatencyMs() const { return maxMs_; }
    bool isActive() const { return timer_.isActive(); }

private:
    void tick();
    QTimer timer_;
    QElapsedTimer clock_;
    qint64 lastNs_ = 0;
    double maxMs_ = 0;
    static constexpr int kIntervalMs = 5;
};

} // namespace qb::ui
