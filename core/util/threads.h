#pragma once
// One thread policy per process: libtorch's intra-op threads, our kernels' threads and the BLAS
// library's own threads, set together so that nothing nests. Debian's libtorch starts with one
// intra-op thread while its OpenBLAS runs a pool of its own; both spinning on the same cores is
// what made MMLU drop from 43 to 13 questions/s with OMP_NUM_THREADS=2. The policy (measured on a
// 2-core Zen 3, see core/README.md): libtorch and the kernels get N threads (the CPUs this process may
// use, sched_getaffinity, unless asked otherwise), the BLAS gets 1, because every large GEMM runs in
// our kernels or inside a libtorch parallel region that already uses the N threads.
// Recorded in every result's provenance.
#include <nlohmann/json.hpp>

#include <string>

namespace qb {

struct ThreadPolicy {
    int threads = 1;         // libtorch intra-op and kernel threads
    int cpus_allowed = 1;    // CPUs in this process's affinity mask
    int blas_threads = -1;   // -1: the BLAS offers no call to set it (then left alone)
    std::string blas;        // "openblas", "mkl" or "unknown"
    std::string source;      // "requested", "QB_THREADS" or "affinity"
    nlohmann::json toJson() const;
};

// CPUs this process may run on (sched_getaffinity), at least 1.
int allowedCpus();

// Applies the policy for `requested` threads (<= 0: QB_THREADS from the environment, else the
// allowed CPUs) and returns it. Call once at start-up, and again at the start of a worker thread
// (OpenMP keeps some settings per thread). Thread-safe; the last call wins.
ThreadPolicy applyThreadPolicy(int requested = 0);

// The policy in force (applies the default one on first use).
ThreadPolicy currentThreadPolicy();

// OpenMP's wait policy, fixed when libgomp loads (before main). libgomp's default makes a thread
// that reaches a barrier first spin for ~3 ms: when the other thread of a team is not on a core
// (the GUI, a browser, a build on the other core; 2-vCPU VMs) every parallel region costs a
// scheduler slice. Fully passive (sleep at once) has the opposite cost: on a VM, waking a sleeping
// thread whose vCPU went idle takes ~40 us (measured: 44 us per parallel region against 3 us
// spinning, 2-vCPU EPYC VM), and a decode step runs ~100 regions (qwen2.5-0.5b shape), so passive
// alone cost 4 ms of a 20 ms token, and 85 % of the bundled demo model's decode step.
// So the programs re-execute themselves once with OMP_WAIT_POLICY=PASSIVE plus GOMP_SPINCOUNT set to
// a spin of about kOmpSpinMicros (measured on this CPU, see ompSpinCountFor): the competitive
// choice, spin about as long as a wake-up costs, then sleep. Measured on that VM: demo sweep 15.0 s
// passive, 11.3 s with the spin, 10.9 s spinning 3 ms; beside a one-core CPU burner 18.5 s, 22.6 s
// and 30.8 s. libgomp drops the spin by itself when it manages more threads than CPUs. A user who
// sets OMP_WAIT_POLICY or GOMP_SPINCOUNT keeps that. Call first thing in main(); returns only if no
// re-exec happened (already set, or exec failed).
void ensureOmpWaitPolicy(char** argv);
constexpr double kOmpSpinMicros = 30.0;

// Iterations of libgomp's wait loop (one load and one pause each) that last about `micros` on this
// CPU, timed here (~1 ms); clamped to [100, 1000000].
long ompSpinCountFor(double micros);

// The OpenMP wait settings in force, for provenance and headers: "PASSIVE, spin 1300" or
// "default (spin ~3 ms)".
std::string ompWaitDescription();

// Sets only the BLAS library's threads (OpenBLAS or MKL, found at run time); returns the count in
// force, -1 when the BLAS offers no such call. For benchmarks that compare policies.
int setBlasThreads(int n);

// Background threads of the window (the sweep worker and the OpenMP team it creates, which
// inherits the value; the live report builder) run at nice `nice` (at least; never raised back),
// so a redraw never waits a scheduler slice behind them when the cores are shared. Linux: the nice
// value is per thread; elsewhere a no-op. Costs nothing when nothing else wants the core.
void lowerThisThreadPriority(int nice = 5);

} // namespace qb
