#pragma once
// Bounded reads of input files. Every file a user names (config.json, tokenizer.json, a sweep
// file, PPL text, result files) is read through these: the path must resolve to a regular file
// (a symlink to /dev/zero or a FIFO is refused before a byte is read) no larger than a cap that
// depends on what the file is, and JSON-lines files are read one line at a time with a cap on a
// single line. Header-only so that qb_tokenizer, which does not link qb_core, can use it too.
// Errors are qb::Error naming the file, what it was read as, and the limit.
#include "core/util/error.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace qb {

constexpr uint64_t kMiB = uint64_t(1) << 20;
// Caps by kind of input (documented in docs/ and the folder README).
constexpr uint64_t kConfigJsonCap = 64 * kMiB;     // config.json, tokenizer_config.json
constexpr uint64_t kSweepJsonCap = 64 * kMiB;      // sweep files and run manifests
constexpr uint64_t kTokenizerJsonCap = 512 * kMiB; // tokenizer.json
constexpr uint64_t kTextCap = 1024 * kMiB;         // PPL / calibration text, MMLU files
constexpr uint64_t kResultJsonCap = 512 * kMiB;    // one .json results document or report file
constexpr uint64_t kResultLineCap = 64 * kMiB;     // one line of a .jsonl results file

inline std::string formatCap(uint64_t bytes)
{
    if (bytes >= kMiB && bytes % kMiB == 0)
        return std::to_string(bytes / kMiB) + " MiB";
    return std::to_string(bytes) + " bytes";
}

namespace detail {
// qb::fail lives in qb_core; this header must not need it.
[[noreturn]] inline void raise(const std::filesystem::path& p, const std::string& what)
{
    throw Error(p.string() + ": " + what);
}

inline std::string fileKind(mode_t m)
{
    if (S_ISDIR(m)) return "a directory";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

// Opens `p` for reading and checks it is a regular file of at most `cap` bytes; returns the fd
// and fills `size`. O_NONBLOCK keeps open() of a FIFO from waiting for a writer.
inline int openBounded(const std::filesystem::path& p, uint64_t cap, const std::string& what, uint64_t& size)
{
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        detail::raise(p, "cannot open " + what + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const std::string why = std::strerror(errno);
        ::close(fd);
        detail::raise(p, "cannot stat " + what + ": " + why);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        detail::raise(p, what + " must be a regular file, but this is " + fileKind(st.st_mode));
    }
    size = uint64_t(st.st_size);
    if (size > cap) {
        ::close(fd);
        detail::raise(p, what + " is " + std::to_string(size) + " bytes, over the " + formatCap(cap) + " limit");
    }
    return fd;
}
// One read(2) of up to n bytes, retried on EINTR/EAGAIN; 0 at end of file; throws naming the file.
inline size_t readSome(int fd, char* buf, size_t n, const std::filesystem::path& p, const std::string& what)
{
    for (;;) {
        const ssize_t r = ::read(fd, buf, n);
        if (r >= 0)
            return size_t(r);
        if (errno != EINTR && errno != EAGAIN)
            raise(p, "read of " + what + " failed: " + std::strerror(errno));
    }
}

} // namespace detail

// Throws unless `p` resolves to a regular file of at most `cap` bytes; returns its size.
inline uint64_t requireRegularFile(const std::filesystem::path& p, uint64_t cap, const std::string& what)
{
    uint64_t size = 0;
    ::close(detail::openBounded(p, cap, what, size));
    return size;
}

// The whole file, or qb::Error naming it. A file that grows past `cap` while being read is
// refused too (the size check alone would trust a moving target).
inline std::string readFileBounded(const std::filesystem::path& p, uint64_t cap, const std::string& what)
{
    uint64_t size = 0;
    const int fd = detail::openBounded(p, cap, what, size);
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    std::string out;
    out.reserve(size_t(size));
    char buf[1 << 16];
    for (;;) {
        const size_t r = detail::readSome(fd, buf, sizeof buf, p, what);
        if (r == 0)
            break;
        if (out.size() + size_t(r) > cap)
            detail::raise(p, what + " grew past the " + formatCap(cap) + " limit while being read");
        out.append(buf, size_t(r));
    }
    return out;
}

// JSON-lines reading, one line at a time (newline not included). A line longer than
// `lineCap` is not kept in memory: next() reports it with tooLong() and skips to its end.
class BoundedLineReader {
public:
    BoundedLineReader(const std::filesystem::path& p, uint64_t fileCap, uint64_t lineCap, const std::string& what)
        : path_(p), what_(what), lineCap_(lineCap)
    {
        uint64_t size = 0;
        fd_ = detail::openBounded(p, fileCap, what, size);
    }
    ~BoundedLineReader() { ::close(fd_); }
    BoundedLineReader(const BoundedLineReader&) = delete;
    BoundedLineReader& operator=(const BoundedLineReader&) = delete;

    // False at end of file. `line` holds the line (empty when tooLong()).
    bool next(std::string& line)
    {
        line.clear();
        tooLong_ = false;
        endedWithNewline_ = false;
        bool any = false;
        for (;;) {
            if (pos_ == len_) {
                if (!fill())
                    return any;
            }
            any = true;
            const char* start = buf_ + pos_;
            const void* nl = std::memchr(start, '\n', len_ - pos_);
            const size_t n = nl ? size_t(static_cast<const char*>(nl) - start) : len_ - pos_;
            if (!tooLong_) {
                if (line.size() + n > lineCap_) {
                    tooLong_ = true;
                    line.clear();
                    line.shrink_to_fit();
                } else {
                    line.append(start, n);
                }
            }
            pos_ += n;
            if (nl) {
                ++pos_;
                ++lineNo_;
                endedWithNewline_ = true;
                return true;
            }
        }
    }
    uint64_t lineNumber() const { return lineNo_ + (endedWithNewline_ ? 0 : 1); } // 1-based, of the last next()
    bool tooLong() const { return tooLong_; }
    bool endedWithNewline() const { return endedWithNewline_; }
    uint64_t lineCap() const { return lineCap_; }

private:
    bool fill()
    {
        pos_ = 0;
        len_ = detail::readSome(fd_, buf_, sizeof buf_, path_, what_);
        return len_ > 0;
    }
    std::filesystem::path path_;
    std::string what_;
    uint64_t lineCap_;
    int fd_ = -1;
    char buf_[1 << 16];
    size_t pos_ = 0, len_ = 0;
    uint64_t lineNo_ = 0;
    bool tooLong_ = false, endedWithNewline_ = false;
};

} // namespace qb
