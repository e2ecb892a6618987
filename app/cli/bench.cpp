// `quantbench-cli bench NAME ...`: dispatcher over the benchmarks registered via registerBench.
#include "app/cli/bench.h"
#include "app/cli/command.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>

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

} // namespace qb::cli
