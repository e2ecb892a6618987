// `quantbench-cli bench NAME ...`: dispatcher over the benchmarks registered via registerBench.
#include "app/cli/bench.h"
#include "app/cli/command.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <vector>

namespace qb::cli {
namespace {

struct Entry { std::string summary; BenchFn fn; };
std::map<std::string, Entry>& benches() { static std::map<std::string, Entry> m; return m; }

void usage(std::ostream& os)
{
    os << "usage: quantbench-cli bench NAME [options]   (bench NAME --help for its options)\n\nbenchmarks:\n";
    for (const auto& [name, e] : benches())
        os << "  " << name << std::string(name.size() < 12 ? 12 - name.size() : 1, ' ') << e.summary << '\n';
}

int runBench(const std::vector<std::string>& argv)
{
    if (argv.empty()) { usage(std::cerr); return 2; }
    if (argv[0] == "--help" || argv[0] == "-h") { usage(std::cout); return 0; }
    auto it = benches().find(argv[0]);
    if (it == benches().end()) {
        std::cerr << "quantbench-cli bench: unknown benchmark '" << argv[0] << "'\n\n";
        usage(std::cerr);
        return 2;
    }
    return it->second.fn(std::vector<std::string>(argv.begin() + 1, argv.end()));
}

QB_CLI_COMMAND("bench", "micro-benchmarks (bench gemm, ...)", runBench);

} // namespace

void registerBench(const std::string& name, const std::string& summary, BenchFn fn)
{
    benches()[name] = Entry{summary, std::move(fn)};
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double medianSeconds(const std::function<void()>& fn, int maxReps, const std::function<void()>& sync)
{
    using Clock = std::chrono::steady_clock;
    const auto w0 = Clock::now();
    fn();                                                      // warm-up (first touch, caches, packing)
    if (sync) sync();
    // A call of seconds (libtorch's bf16 matmul on CPUs without bf16 hardware: ~25 s at 512 x 8192 x
    // 4096) is timed once: its spread is small next to its size, and three repeats would take minutes.
    const bool slow = std::chrono::duration<double>(Clock::now() - w0).count() > 2.0;
    std::vector<double> t;
    const auto start = Clock::now();
    while (int(t.size()) < maxReps) {
        const auto t0 = Clock::now();
        fn();
        if (sync) sync();
        t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        if (slow || (t.size() >= 3 && std::chrono::duration<double>(Clock::now() - start).count() > 0.25)) break;
    }
    return median(std::move(t));
}

uint64_t streamRead(const uint8_t* p, size_t bytes)
{
    const auto* buf = reinterpret_cast<const uint64_t*>(p);
    const size_t n = bytes / 8;
    uint64_t total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (size_t i = 0; i < n; i += 8)    // one 64-byte line per step
        total += (buf[i] + buf[i + 1]) + (buf[i + 2] + buf[i + 3]) + (buf[i + 4] + buf[i + 5]) + (buf[i + 6] + buf[i + 7]);
    return total;
}

double bandwidthGBs(size_t bytes, int reps)
{
    bytes = bytes / 64 * 64;
    std::vector<uint8_t> buf(bytes);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < bytes; ++i) buf[i] = uint8_t(i);
    volatile uint64_t sink = 0;
    const double s = medianSeconds([&] { sink = sink + streamRead(buf.data(), bytes); }, reps);
    return double(bytes) / s / 1e9;
}

} // namespace qb::cli
