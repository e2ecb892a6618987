#pragma once
// Shared vocabulary of the kernels: element types, granularity, bf16 helpers, input checks.
//
// Error policy: kernels do not depend on core's qb::Error. Invalid arguments (null pointers,
// non-positive sizes, group = 0 for per-group, leading dimensions smaller than the row) throw
// std::invalid_argument with a message naming the kernel and the argument; core translates it.
// Kernels never allocate more than O(rows + N*ceil(K/G)) scratch beyond what the caller passes.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace qb::kernels {

enum class DType : uint8_t { F32, BF16 };           // activations / outputs
enum class QType : uint8_t { INT8, FP8_E4M3 };      // 8-bit codes
enum class Gran : uint8_t { Tensor, Row, Group };   // scale granularity

// bf16 stored as uint16_t (the high half of a float32).
inline float bf16_to_float(uint16_t h) { uint32_t u = uint32_t(h) << 16; float f; std::memcpy(&f, &u, 4); return f; }
inline uint16_t bf16_from_float(float f)             // round-to-nearest-even, NaN stays NaN
{
    uint32_t u; std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Number of scale groups per row for granularity (Group, G): G >= cols is per row.
inline int64_t groups_per_row(Gran g, int64_t group, int64_t cols)
{
    return g == Gran::Group && group < cols ? ceil_div(cols, group) : 1;
}

[[noreturn]] inline void bad_arg(const char* fn, const char* what)
{
    throw std::invalid_argument(std::string("qb::kernels::") + fn + ": " + what);
}
#define QB_KCHECK(cond, fn, what) do { if (!(cond)) ::qb::kernels::bad_arg(fn, what); } while (0)

// True when the CPU has the AVX-512 subsets the fast paths use (F, BW, VL, VNNI).
bool cpu_has_avx512_vnni();
// Fast paths can be switched off (tests, benchmarks): QB_KERNELS_NO_SIMD=1 or this call.
void set_simd_enabled(bool on);
bool simd_enabled();

} // namespace qb::kernels
