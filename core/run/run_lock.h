#pragma once
// One writer per run folder. A sweep holds an advisory flock(2) on <run folder>/.quantbench.lock
// for its whole lifetime and writes who it is (pid, host, start time) into that file; a second
// sweep on the same folder fails at once with that text instead of interleaving its records,
// manifest and report with the first one's. The kernel drops the lock when the holder exits,
// crashes included, so a stale lock file never blocks a later resume. (Shards of one sweep that
// run at the same time therefore need their own --out folders.)
#include <filesystem>
#include <string>

namespace qb {

class RunLock {
public:
    static constexpr const char* kFileName = ".quantbench.lock";
    // Creates the folder if needed; throws qb::Error naming the folder and the holder.
    explicit RunLock(const std::filesystem::path& runDir);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

private:
    int fd_ = -1;
};

} // namespace qb
