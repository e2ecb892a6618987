#include "core/util/atomic_write.h"

#include "core/util/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace qb {

namespace {

// Writes all of `bytes` to fd; returns 0 or the errno of the failure.
int writeAll(int fd, const std::string& bytes)
{
    const char* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
        const ssize_t w = ::write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        left -= size_t(w);
    }
    return 0;
}

} // namespace

void writeFileAtomic(const fs::path& target, const std::string& bytes, const std::string& what)
{
    const std::string where = target.string();
    std::error_code ec;
    // Follow symlinks: the link stays, its target gets the content.
    fs::path real = target;
    if (fs::is_symlink(fs::symlink_status(target, ec))) {
        real = fs::weakly_canonical(target, ec);
        if (ec)
            fail(where, "cannot resolve the symlink to write " + what + ": " + ec.message());
    }
    struct stat st {};
    if (::stat(real.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            fail(where, "cannot write " + what + ": this is a directory");
        const int fd = ::open(real.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            fail(where, "cannot open to write " + what + ": " + std::strerror(errno));
        const int err = writeAll(fd, bytes);
        const int closeErr = ::close(fd) != 0 ? errno : 0;
        if (err || closeErr)
            fail(where, "writing " + what + " failed: " + std::strerror(err ? err : closeErr));
        return;
    }
    fs::path dir = real.parent_path();
    if (dir.empty())
        dir = ".";
    std::string tmpl = (dir / ("." + real.filename().string() + ".tmp.XXXXXX")).string();
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0)
        fail(where, "cannot create a temporary file in " + dir.string() + " to write " + what + ": " +
                        std::strerror(errno));
    int err = writeAll(fd, bytes);
    if (!err && ::fsync(fd) != 0)
        err = errno;
    // Keep a file replaced in place readable like one the user created (mkstemp makes it 0600).
    if (!err)
        ::fchmod(fd, 0644);
    if (::close(fd) != 0 && !err)
        err = errno;
    if (err) {
        ::unlink(tmpl.c_str());
        fail(where, "writing " + what + " failed: " + std::strerror(err) + " (the previous file, if any, is unchanged)");
    }
    if (::rename(tmpl.c_str(), real.c_str()) != 0) {
        err = errno;
        ::unlink(tmpl.c_str());
        fail(where, "cannot move the finished " + what + " into place: " + std::strerror(err));
    }
}

} // namespace qb
