#pragma once
// Internal helpers of the CUDA kernels: error checks, stream cast, exact decoders, bf16.
#include "kernels/common.h"
#include "kernels/fp8_impl.h"

#include <cuda_runtime.h>
#include <algorithm>
#include <stdexcept>
#include <string>

namespace qb::kernels::cuda::detail {

inline void check(cudaError_t e, const char* what)
{
    if (e != cudaSuccess) throw std::runtime_error(std::string("qb::kernels::cuda: ") + what + ": " + cudaGetErrorString(e));
}
inline void checkLaunch(const char* what) { check(cudaGetLastError(), what); }
inline cudaStream_t stream(void* s) { return static_cast<cudaStream_t>(s); }
inline unsigned blocks(int64_t n, int per) { return unsigned((n + per - 1) / per); }

// E4M3 -> float, exact: subnormals m * 2^-9, normals by rebiasing the exponent (7 -> 127).
__device__ __forceinline__ float e4m3_decode(uint8_t c)
{
    const uint32_t em = c & 0x7fu, sign = uint32_t(c & 0x80u) << 24;
    float v;
    if (em == 0x7fu) v = __uint_as_float(0x7fc00000u);
    else if (em < 8u) v = __uint2float_rn(em) * 0.001953125f;
    else v = __uint_as_float((em << 20) + (120u << 23));
    return __uint_as_float(__float_as_uint(v) | sign);
}

__device__ __forceinline__ float bf16_to_f(uint16_t h) { return __uint_as_float(uint32_t(h) << 16); }
__device__ __forceinline__ uint16_t f_to_bf16(float f)
{
    uint32_t u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}
__device__ __forceinline__ float load_act(const void* x, bool bf16, int64_t i)
{
    return bf16 ? bf16_to_f(static_cast<const uint16_t*>(x)[i]) : static_cast<const float*>(x)[i];
}
__device__ __forceinline__ void store_out(void* y, bool bf16, int64_t i, float v)
{
    if (bf16) static_cast<uint16_t*>(y)[i] = f_to_bf16(v);
    else static_cast<float*>(y)[i] = v;
}

__device__ __forceinline__ float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

} // namespace qb::kernels::cuda::detail
