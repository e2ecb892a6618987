#pragma once
// `quantbench-cli bench <name> [options]`: one CLI command that dispatches on its first
// positional to benchmarks registered with registerBench (gemm, forward, ...), each in its
// own bench_<name>.cpp.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qb::cli {

using BenchFn = std::function<int(const std::vector<std::string>& args)>;  // args after the name

void registerBench(const std::string& name, const std::string& summary, BenchFn fn);

// Median of timings (mean of the middle two for an even count; 0 when empty).
double median(std::vector<double> v);

// One warm-up call, then timed calls until maxReps, or past ~0.25 s once there are 3 (one only when
// the warm-up took over 2 s); the median in seconds. `sync` runs after every call inside the timing (a device synchronize for GPU work).
double medianSeconds(const std::function<void()>& fn, int maxReps, const std::function<void()>& sync = {});

// Streaming read of `bytes` (a multiple of 64) by all threads, 8 independent lanes per thread.
uint64_t streamRead(const uint8_t* p, size_t bytes);
// Sustained read bandwidth in GB/s: the median of `reps` streaming reads of a fresh buffer of
// `bytes` (much larger than the last-level cache).
double bandwidthGBs(size_t bytes, int reps);

struct BenchRegistrar {
    BenchRegistrar(const std::string& name, const std::string& summary, BenchFn fn) { registerBench(name, summary, std::move(fn)); }
};

} // namespace qb::cli

#define QB_BENCH_CONCAT2(a, b) a##b
#define QB_BENCH_CONCAT(a, b) QB_BENCH_CONCAT2(a, b)
#define QB_BENCH(name, summary, fn) \
    static ::qb::cli::BenchRegistrar QB_BENCH_CONCAT(qb_bench_registrar_, __LINE__)(name, summary, fn)
