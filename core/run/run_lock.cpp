#include "core/run/run_lock.h"

#include "core/results/record.h"
#include "core/util/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace qb {

RunLock::RunLock(const std::filesystem::path& runDir)
{
    std::error_code ec;
    std::filesystem::create_directories(runDir, ec);
    const std::filesystem::path p = runDir / kFileName;
    fd_ = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        fail(p.string(), std::string("cannot open the run folder's lock file: ") + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        std::string holder;
        char buf[512];
        const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
        if (n > 0)
            holder.assign(buf, size_t(n));
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\r'))
            holder.pop_back();
        ::close(fd_);
        fd_ = -1;
        if (err == EWOULDBLOCK)
            fail(runDir.string(), "another sweep is writing to this run folder (" +
                                      (holder.empty() ? std::string("holder unknown") : holder) +
                                      "); wait for it to finish or choose another --out");
        fail(p.string(), std::string("cannot lock: ") + std::strerror(err));
    }
    char host[256] = {0};
    if (::gethostname(host, sizeof host - 1) != 0)
        std::strcpy(host, "?");
    const std::string who = "pid " + std::to_string(::getpid()) + " on " + host + ", started " + isoNowUtc() + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, who.data(), who.size(), 0) != ssize_t(who.size()))
        fail(p.string(), std::string("cannot write the lock holder: ") + std::strerror(errno));
}

RunLock::~RunLock()
{
    if (fd_ >= 0) {
        // Emptied before the lock goes, so the file never names a finished sweep as the holder.
        if (::ftruncate(fd_, 0) != 0) {
        }
        ::close(fd_);
    }
}

} // namespace qb
