#include "core/util/threads.h"

#include <cstdlib>
#include <unistd.h>

#include "kernels/common.h"

#include <ATen/Parallel.h>

#include <dlfcn.h>
#include <omp.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>

namespace qb {

namespace {

std::mutex g_mutex;
bool g_applied = false;
ThreadPolicy g_policy;

// The BLAS that libtorch links, found by its thread-setting entry point (no link-time dependency:
// the symbol is looked up in the process).
int setBlasThreadsOf(int n, std::string& which)
{
    using SetFn = void (*)(int);
    using GetFn = int (*)();
    if (auto set = reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
        set(n);
        which = "openblas";
        auto get = reinterpret_cast<GetFn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
        return get ? get() : n;
    }
    if (auto set = reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "MKL_Set_Num_Threads"))) {
        set(n);
        which = "mkl";
        return n;
    }
    which = "unknown";
    return -1;
}

// An OpenMP setting from the environment; "" when unset or empty (libgomp's default then).
std::string ompEnv(const char* name)
{
    const char* v = std::getenv(name);
    return v ? v : "";
}

} // namespace

nlohmann::json ThreadPolicy::toJson() const
{
    const std::string wait = ompEnv("OMP_WAIT_POLICY"), spin = ompEnv("GOMP_SPINCOUNT");
    return {{"threads", threads}, {"cpus_allowed", cpus_allowed}, {"blas", blas}, {"blas_threads", blas_threads},
            {"source", source}, {"omp_wait_policy", wait.empty() ? "default" : wait},
            {"omp_spin_count", spin.empty() ? "default" : spin}};
}

int allowedCpus()
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    return std::max(1, omp_get_num_procs());
}

ThreadPolicy applyThreadPolicy(int requested)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    ThreadPolicy p;
    p.cpus_allowed = allowedCpus();
    if (requested > 0) {
        p.threads = requested;
        p.source = "requested";
    } else if (const char* e = std::getenv("QB_THREADS"); e && std::atoi(e) > 0) {
        p.threads = std::atoi(e);
        p.source = "QB_THREADS";
    } else {
        p.threads = p.cpus_allowed;
        p.source = "affinity";
    }
    at::set_num_threads(p.threads);      // also omp_set_num_threads for this thread
    omp_set_num_threads(p.threads);
    kernels::set_num_threads(p.threads);
    // QB_BLAS_THREADS: for benchmarking the policy itself (bench e2e shows the combinations).
    const char* b = std::getenv("QB_BLAS_THREADS");
    p.blas_threads = setBlasThreadsOf(b && std::atoi(b) > 0 ? std::atoi(b) : 1, p.blas);
    g_policy = p;
    g_applied = true;
    return p;
}

ThreadPolicy currentThreadPolicy()
{
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (g_applied)
            return g_policy;
    }
    return applyThreadPolicy(0);
}

int setBlasThreads(int n)
{
    std::string which;
    return setBlasThreadsOf(n, which);
}

long ompSpinCountFor(double micros)
{
    double nsPerIter = 25.0; // a guess where there is no pause instruction to time
#if defined(__x86_64__) || defined(__i386__)
    volatile int flag = 0;
    constexpr long kIters = 10000;
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) { // the fastest of 3: a preempted repeat only reads longer
        const auto t0 = std::chrono::steady_clock::now();
        for (long i = 0; i < kIters; ++i) {
            if (flag)
                break;
            __builtin_ia32_pause();
        }
        const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
        best = std::min(best, ns / double(kIters));
    }
    nsPerIter = std::max(best, 0.1);
#endif
    return std::clamp(std::lround(micros * 1000.0 / nsPerIter), 100L, 1000000L);
}

std::string ompWaitDescription()
{
    const std::string wait = ompEnv("OMP_WAIT_POLICY"), spin = ompEnv("GOMP_SPINCOUNT");
    if (!spin.empty())
        return (wait.empty() ? "default" : wait) + ", spin " + spin;
    return wait.empty() ? "default (spin ~3 ms)" : wait;
}

void ensureOmpWaitPolicy(char** argv)
{
#ifdef __linux__
    if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT") || !argv || !argv[0])
        return;
    ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    ::setenv("GOMP_SPINCOUNT", std::to_string(ompSpinCountFor(kOmpSpinMicros)).c_str(), 1);
    ::execv("/proc/self/exe", argv); // returns only on failure: then run with the spinning default
#else
    (void)argv;
#endif
}

void lowerThisThreadPriority(int nice)
{
#ifdef __linux__
    const int tid = int(syscall(SYS_gettid));
    errno = 0;
    const int now = getpriority(PRIO_PROCESS, id_t(tid));
    if (errno == 0 && now < nice)
        setpriority(PRIO_PROCESS, id_t(tid), nice);
#else
    (void)nice;
#endif
}

} // namespace qb
