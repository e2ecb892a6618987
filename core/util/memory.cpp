#include "core/util/memory.h"

#include "core/util/error.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sstream>

namespace qb {

namespace {

uint64_t statusKb(const char* key)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string k = std::string(key) + ":";
    while (std::getline(in, line))
        if (line.rfind(k, 0) == 0)
            return std::strtoull(line.c_str() + k.size(), nullptr, 10);
    return 0;
}

bool readU64(const std::string& path, uint64_t& out)
{
    std::ifstream in(path);
    std::string v;
    if (!(in >> v) || v == "max")
        return false;
    char* end = nullptr;
    out = std::strtoull(v.c_str(), &end, 10);
    return end && *end == '\0';
}

// The cgroup v2 folder of this process ("0::/path" in /proc/self/cgroup).
std::string cgroupDir()
{
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("0::", 0) == 0)
            return "/sys/fs/cgroup" + line.substr(3);
    return {};
}

} // namespace

uint64_t residentBytes() { return statusKb("VmRSS") * 1024; }
uint64_t peakResidentBytes() { return statusKb("VmHWM") * 1024; }

bool resetPeakResident()
{
    std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
    if (!f)
        return false;
    const bool ok = std::fputs("5", f) >= 0;
    return std::fclose(f) == 0 && ok;
}

MemoryBudget memoryBudget()
{
    MemoryBudget b;
    b.available = UINT64_MAX;
    {
        std::ifstream in("/proc/meminfo");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("MemAvailable:", 0) == 0) {
                b.available = std::strtoull(line.c_str() + 13, nullptr, 10) * 1024;
                b.source = "MemAvailable in /proc/meminfo";
            }
    }
    if (const std::string cg = cgroupDir(); !cg.empty()) {
        uint64_t max = 0, cur = 0;
        if (readU64(cg + "/memory.max", max) && readU64(cg + "/memory.current", cur)) {
            const uint64_t left = max > cur ? max - cur : 0;
            if (left < b.available) {
                b.available = left;
                b.source = "cgroup limit " + cg + "/memory.max";
            }
        }
    }
    if (const char* e = std::getenv("QB_MEMORY_LIMIT_MB"); e && std::atoll(e) > 0) {
        const uint64_t lim = uint64_t(std::atoll(e)) << 20, rss = residentBytes();
        const uint64_t left = lim > rss ? lim - rss : 0;
        if (left < b.available) {
            b.available = left;
            b.source = "QB_MEMORY_LIMIT_MB=" + std::string(e);
        }
    }
    if (b.available == UINT64_MAX)
        b.source = "unknown (no /proc/meminfo)";
    return b;
}

void requireMemory(uint64_t needed, const std::string& what, const std::string& breakdown)
{
    const MemoryBudget b = memoryBudget();
    if (b.available == UINT64_MAX || needed <= b.available)
        return;
    throw Error(what + " needs " + formatBytes(needed) + " (" + breakdown + "), only " + formatBytes(b.available) +
                " available (" + b.source + ")");
}

std::string formatBytes(uint64_t v)
{
    char buf[48];
    const double d = double(v);
    if (v >= (uint64_t(1) << 30))
        std::snprintf(buf, sizeof buf, "%.2f GiB", d / double(uint64_t(1) << 30));
    else if (v >= (uint64_t(1) << 20))
        std::snprintf(buf, sizeof buf, "%.0f MiB", d / double(uint64_t(1) << 20));
    else
        std::snprintf(buf, sizeof buf, "%.0f KiB", d / 1024.0);
    return buf;
}

void configureAllocator()
{
#if defined(__GLIBC__)
    static bool done = false;
    if (done)
        return;
    done = true;
    if (const char* e = std::getenv("QB_MALLOC_DEFAULT"); e && *e && std::string(e) != "0")
        return;
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

void releaseFreeMemory()
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

} // namespace qb
