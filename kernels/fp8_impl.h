#pragma once
// Internal: the FP8 encoder shared by the CPU codec (fp8.cpp) and the CUDA kernels, so both
// round identically. Integer arithmetic on the float32 pattern: RNE, satfinite, NaN keeps sign.
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define QB_HD __host__ __device__ __forceinline__
#else
#define QB_HD inline
#endif

namespace qb::kernels::detail {

template <int MB, int BIAS, uint32_t MAXC, uint32_t NANC>
QB_HD uint8_t fp8_encode(float x)
{
#if defined(__CUDA_ARCH__)
    uint32_t u = __float_as_uint(x);
#else
    uint32_t u;
    std::memcpy(&u, &x, 4);
#endif
    const uint32_t sign = (u >> 24) & 0x80u;
    u &= 0x7fffffffu;
    if (u > 0x7f800000u) return uint8_t(sign | NANC);
    if (u == 0x7f800000u) return uint8_t(sign | MAXC);           // satfinite: inf -> max
    const int e = int(u >> 23) - 127;                             // unbiased float exponent
    if (e >= 1 - BIAS) {                                          // normal range of the target
        constexpr int drop = 23 - MB;
        u += (1u << (drop - 1)) - 1u + ((u >> drop) & 1u);       // RNE on the dropped bits
        uint32_t code = (u >> drop) - (uint32_t(127 - BIAS) << MB);
        if (code > MAXC) code = MAXC;                             // finite overflow saturates
        return uint8_t(sign | code);
    }
    if ((u >> 23) == 0) return uint8_t(sign);                     // float32 zero/denormal
    // Target subnormal: q = RNE(value / 2^(1-BIAS-MB)), value = mant * 2^(e-23).
    const uint32_t mant = (u & 0x7fffffu) | 0x800000u;
    const int shift = 23 + 1 - BIAS - MB - e;                     // > 23 - MB
    if (shift >= 32) return uint8_t(sign);
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) ++q;             // may carry into the min normal
    return uint8_t(sign | q);
}

QB_HD uint8_t e4m3_encode(float x) { return fp8_encode<3, 7, 0x7e, 0x7f>(x); }
QB_HD uint8_t e5m2_encode(float x) { return fp8_encode<2, 15, 0x7b, 0x7e>(x); }

} // namespace qb::kernels::detail
