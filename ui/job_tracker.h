#pragma once
// Generation counter: every run gets a new number; results tagged with an older number belong
// to a superseded run and are dropped instead of overwriting the current view.
#include <QtGlobal>

namespace qb::ui {

class JobTracker {
public:
    quint64 start() { return ++current_; }
    bool isCurrent(quint64 generation) const { return generation == current_; }
    quint64 current() const { return current_; }
    void invalidate() { ++current_; } // e.g. the view was cleared: nothing running is current

private:
    quint64 current_ = 0;
};

} // namespace qb::ui
