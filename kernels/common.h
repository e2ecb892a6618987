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

// Element i of an fp32 or bf16 array as float (bf16 widened exactly). For the references and
// dispatchers (baseline ISA files only; the SIMD files use load_f32x16 of avx512_inl.h).
inline float load_float(const void* p, DType t, int64_t i)
{
    return t == DType::F32 ? static_cast<const float*>(p)[i] : bf16_to_float(static_cast<const uint16_t*>(p)[i]);
}
// The 16 lanes of a SIMD accumulator added pairwise: h_i = l_i + l_{i+8}, q_i = h_i + h_{i+4},
// (q_0 + q_2) + (q_1 + q_3); sum_lanes of avx512_inl.h adds in exactly this order.
inline float sum_lanes_ref(const float (&l)[16])
{
    float h[8], q[4];
    for (int i = 0; i < 8; ++i) h[i] = l[i] + l[i + 8];
    for (int i = 0; i < 4; ++i) q[i] = h[i] + h[i + 4];
    return (q[0] + q[2]) + (q[1] + q[3]);
}

// Number of scale groups per row for granularity (Group, G): G >= cols is per row.
inline int64_t groups_per_row(Gran g, int64_t group, int64_t cols)
{
    return g == Gran::Group && group < cols ? ceil_div(cols, group) : 1;
}

// Growable scratch memory for the ISA-specific files (*_avx2.cpp, *_avx512.cpp, ...). Its functions
// are defined in a file compiled for the baseline ISA (scratch.cpp), so those files instantiate no
// std:: container of their own: an inline template compiled with -mavx512f is a weak symbol the
// linker may choose for the whole program, and a CPU without AVX-512 then dies of SIGILL in, say,
// std::vector<float>::resize called from generic code (seen in the Debug/ASan build). The
// `isa_symbols` test checks that the ISA objects define nothing outside their own namespace.
class ScratchBuffer {
public:
    ScratchBuffer() = default;
    ~ScratchBuffer();
    ScratchBuffer(const ScratchBuffer&) = delete;
    ScratchBuffer& operator=(const ScratchBuffer&) = delete;
    // At least n floats, 64-byte aligned; the contents are not kept when it grows.
    float* floats(size_t n);
private:
    void* p_ = nullptr;
    size_t cap_ = 0; // floats
};

[[noreturn]] inline void bad_arg(const char* fn, const char* what)
{
    throw std::invalid_argument(std::string("qb::kernels::") + fn + ": " + what);
}
#define QB_KCHECK(cond, fn, what) do { if (!(cond)) ::qb::kernels::bad_arg(fn, what); } while (0)

// Instruction-set levels of the fast paths, best last. Each level is only entered after a runtime
// CPU check (the library runs on any x86-64 CPU):
//   Scalar      the _ref implementations (also QB_KERNELS_NO_SIMD=1)
//   Avx2        AVX2 + FMA + F16C (INT8 GEMM: vpmaddwd on int16-widened codes, still exact)
//   AvxVnni     Avx2 + AVX-VNNI (256-bit vpdpbusd)
//   Avx512      AVX-512 F/BW/VL/VNNI
//   Avx512Bf16  Avx512 + AVX512_BF16 (weight-only GEMM with bf16 X uses vdpbf16ps)
enum class Isa : uint8_t { Scalar = 0, Avx2 = 1, AvxVnni = 2, Avx512 = 3, Avx512Bf16 = 4 };
const char* isa_name(Isa i);
bool cpu_supports(Isa i);            // this CPU can run level i
// The level in use: the best level the CPU supports that is <= the forced one. The force comes
// from set_isa(), else QB_KERNELS_ISA=scalar|avx2|avxvnni|avx512|avx512bf16, else
// QB_KERNELS_NO_SIMD=1 (= scalar); unforced, it is the best supported level.
Isa isa();
void set_isa(Isa i);                 // tests and benchmarks: cap the level (clamped to the CPU)
void reset_isa();                    // back to the environment / CPU default

// Threads of every parallel kernel (OpenMP `num_threads`), set once by the process's thread policy
// (core/util/threads.h). Explicit because OpenMP's default is a per-thread setting: a kernel called
// from a worker thread would otherwise not see what the main thread set. 0 (the default): OpenMP's.
int num_threads();
void set_num_threads(int n);

// Threads for a GEMV that reads `weightBytes`: 1 below 128 KiB. Such a product takes a few
// microseconds from cache on one core, less than a parallel region costs (~3 us with the process's
// spinning wait, ~40 us waking a sleeping thread on a VM: core/util/threads.h).
inline int gemv_threads(int64_t weightBytes, int threads)
{
    return weightBytes < (int64_t(128) << 10) ? 1 : threads;
}

// True when the CPU has the AVX-512 subsets the Avx512 paths use (F, BW, VL, VNNI).
bool cpu_has_avx512_vnni();
// Fast paths can be switched off (tests, benchmarks): QB_KERNELS_NO_SIMD=1 or this call
// (set_simd_enabled(false) = set_isa(Scalar); true = reset_isa()). simd_enabled(): isa() != Scalar.
void set_simd_enabled(bool on);
bool simd_enabled();

} // namespace qb::kernels
