// Runtime CPU dispatch: the SIMD translation units are compiled with -mavx2 / -mavx512* flags, so
// they are only entered after these checks pass; the library itself runs on any x86-64 (or other)
// CPU. The level in use can be capped (tests force Avx2 on an AVX-512 machine to test that path).
#include "kernels/common.h"

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace qb::kernels {
namespace {

std::atomic<int> g_forced{-2};   // -2: not read yet, -1: no cap, else an Isa
std::atomic<int> g_threads{0};   // 0: OpenMP's default

bool detect(Isa i)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    switch (i) {
    case Isa::Scalar: return true;
    case Isa::Avx2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case Isa::AvxVnni:
        return detect(Isa::Avx2) && __builtin_cpu_supports("avxvnni");
    case Isa::Avx512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")
            && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case Isa::Avx512Bf16:
        return detect(Isa::Avx512) && __builtin_cpu_supports("avx512bf16");
    }
    return false;
#else
    return i == Isa::Scalar;
#endif
}

int fromEnv()
{
    if (const char* e = std::getenv("QB_KERNELS_ISA"); e && *e) {
        static const char* names[] = {"scalar", "avx2", "avxvnni", "avx512", "avx512bf16"};
        for (int i = 0; i < 5; ++i)
            if (std::strcmp(e, names[i]) == 0) return i;
    }
    const char* e = std::getenv("QB_KERNELS_NO_SIMD");
    return (e && *e && *e != '0') ? int(Isa::Scalar) : -1;
}

} // namespace

const char* isa_name(Isa i)
{
    switch (i) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::AvxVnni: return "avxvnni";
    case Isa::Avx512: return "avx512";
    case Isa::Avx512Bf16: return "avx512bf16";
    }
    return "?";
}

bool cpu_supports(Isa i)
{
    static const bool ok[5] = {detect(Isa::Scalar), detect(Isa::Avx2), detect(Isa::AvxVnni), detect(Isa::Avx512),
                               detect(Isa::Avx512Bf16)};
    return ok[int(i)];
}

Isa isa()
{
    int cap = g_forced.load();
    if (cap == -2) { cap = fromEnv(); g_forced = cap; }
    for (int i = cap < 0 ? int(Isa::Avx512Bf16) : cap; i > 0; --i)
        if (cpu_supports(Isa(i))) return Isa(i);
    return Isa::Scalar;
}

void set_isa(Isa i) { g_forced = int(i); }
void reset_isa() { g_forced = fromEnv(); }

int num_threads()
{
    const int n = g_threads.load(std::memory_order_relaxed);
    return n > 0 ? n : omp_get_max_threads();
}

void set_num_threads(int n) { g_threads = n > 0 ? n : 0; }

bool cpu_has_avx512_vnni() { return cpu_supports(Isa::Avx512); }

void set_simd_enabled(bool on)
{
    if (on) reset_isa();
    else set_isa(Isa::Scalar);
}

bool simd_enabled() { return isa() != Isa::Scalar; }

} // namespace qb::kernels
