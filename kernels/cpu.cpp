// Runtime CPU dispatch: the SIMD translation units are compiled with -mavx512*, so they are only
// entered after these checks pass; the library itself runs on any x86-64 (or other) CPU.
#include "kernels/common.h"

#include <atomic>
#include <cstdlib>

namespace qb::kernels {
namespace {
std::atomic<int> g_simd{-1};
}

bool cpu_has_avx512_vnni()
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    return ok;
#else
    return false;
#endif
}

void set_simd_enabled(bool on) { g_simd = on ? 1 : 0; }

bool simd_enabled()
{
    int v = g_simd.load();
    if (v < 0) {
        const char* e = std::getenv("QB_KERNELS_NO_SIMD");
        v = (e && *e && *e != '0') ? 0 : 1;
        g_simd = v;
    }
    return v == 1 && cpu_has_avx512_vnni();
}

} // namespace qb::kernels
