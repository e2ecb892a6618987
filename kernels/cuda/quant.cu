// CUDA quantize / dequantize. One block per (group, row) computes the group's amax, its scale
// and its codes with the same float32 operations as quantize_ref (IEEE division, rint, integer
// FP8 encoder), so codes and scales are bit-identical. Per tensor: an amax pass first.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace qb::kernels::cuda {
namespace {

using namespace detail;
constexpr int kThreads = 128;

__device__ float scale_of(float amax, bool int8, float divisor)
{
    const float s = __fdiv_rn(amax, int8 ? divisor : 448.0f);
    return (s > 0.0f && isfinite(s)) ? s : 1.0f;
}

__device__ float block_max(float v)
{
    __shared__ float red[kThreads / 32];
    v = warp_max(v);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = v;
    __syncthreads();
    float r = red[0];
    for (int i = 1; i < kThreads / 32; ++i) r = fmaxf(r, red[i]);
    __syncthreads();
    return r;
}

// amax of the whole tensor into *out (as ordered uint bits: non-negative floats compare as uints).
__global__ void amax_kernel(const void* x, bool bf16, int64_t rows, int64_t cols, int64_t ldx, unsigned* out)
{
    float m = 0.0f;
    for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < rows * cols; i += int64_t(gridDim.x) * kThreads)
        m = fmaxf(m, fabsf(load_act(x, bf16, (i / cols) * ldx + i % cols)));
    m = block_max(m);
    if (threadIdx.x == 0) atomicMax(out, __float_as_uint(m));
}

// grid (groups per row, rows). tensorAmax != null: per-tensor scale from it (block (0,0) stores it).
__global__ void quant_kernel(const void* x, bool bf16, int64_t cols, int64_t ldx, int64_t G, bool int8, float divisor,
                             int qmin, void* codes, int64_t ldc, float* scales, const unsigned* tensorAmax)
{
    const int64_t r = blockIdx.y, g = blockIdx.x, c0 = g * G, c1 = min(cols, c0 + G);
    float scale;
    if (tensorAmax) {
        scale = scale_of(__uint_as_float(*tensorAmax), int8, divisor);
        if (r == 0 && g == 0 && threadIdx.x == 0) scales[0] = scale;
    } else {
        float m = 0.0f;
        for (int64_t c = c0 + threadIdx.x; c < c1; c += kThreads) m = fmaxf(m, fabsf(load_act(x, bf16, r * ldx + c)));
        scale = scale_of(block_max(m), int8, divisor);
        if (threadIdx.x == 0) scales[r * gridDim.x + g] = scale;
    }
    for (int64_t c = c0 + threadIdx.x; c < c1; c += kThreads) {
        const float v = __fdiv_rn(load_act(x, bf16, r * ldx + c), scale);
        if (int8) {
            const float q = fminf(fmaxf(rintf(v), float(qmin)), 127.0f);
            static_cast<int8_t*>(codes)[r * ldc + c] = int8_t(q);
        } else {
            static_cast<uint8_t*>(codes)[r * ldc + c] = qb::kernels::detail::e4m3_encode(v);
        }
    }
}

__global__ void dequant_kernel(const void* codes, int64_t rows, int64_t cols, int64_t ldc, int64_t G, int64_t ng,
                               bool perTensor, bool int8, const float* scales, void* out, bool bf16, int64_t ldo)
{
    for (int64_t i = int64_t(blockIdx.x) * 256 + threadIdx.x; i < rows * cols; i += int64_t(gridDim.x) * 256) {
        const int64_t r = i / cols, c = i % cols;
        const float sc = perTensor ? scales[0] : scales[r * ng + c / G];
        const float d = int8 ? float(static_cast<const int8_t*>(codes)[r * ldc + c])
                             : e4m3_decode(static_cast<const uint8_t*>(codes)[r * ldc + c]);
        store_out(out, bf16, r * ldo + c, __fmul_rn(d, sc));
    }
}

} // namespace

void quantize(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx, const QuantSpec& s,
              void* codes, int64_t ldc, float* scales, void* strm)
{
    QB_KCHECK(x && codes && scales, "cuda::quantize", "null pointer");
    QB_KCHECK(rows > 0 && cols > 0 && ldx >= cols && ldc >= cols, "cuda::quantize", "bad shape");
    QB_KCHECK(s.gran != Gran::Group || s.group > 0, "cuda::quantize", "group must be > 0");
    QB_KCHECK(rows < 65536, "cuda::quantize", "rows must be < 65536 (grid.y)");
    const bool int8 = s.qtype == QType::INT8, bf16 = xt == DType::BF16;
    const int64_t G = s.gran == Gran::Group ? std::min(s.group, cols) : cols;
    const int64_t ng = ceil_div(cols, G);
    cudaStream_t st = stream(strm);
    unsigned* amax = nullptr;
    if (s.gran == Gran::Tensor) {
        check(cudaMallocAsync(reinterpret_cast<void**>(&amax), sizeof(unsigned), st), "cudaMallocAsync");
        check(cudaMemsetAsync(amax, 0, sizeof(unsigned), st), "cudaMemsetAsync");
        amax_kernel<<<std::min<unsigned>(blocks(rows * cols, kThreads), 1024u), kThreads, 0, st>>>(x, bf16, rows, cols, ldx, amax);
        checkLaunch("amax_kernel");
    }
    quant_kernel<<<dim3(unsigned(ng), unsigned(rows)), kThreads, 0, st>>>(x, bf16, cols, ldx, G, int8, s.int8_divisor,
                                                                          int8_qmin(s.int8_divisor), codes, ldc, scales, amax);
    checkLaunch("quant_kernel");
    if (amax) check(cudaFreeAsync(amax, st), "cudaFreeAsync");
}

void dequantize(const void* codes, int64_t rows, int64_t cols, int64_t ldc, const QuantSpec& s,
                const float* scales, void* out, DType ot, int64_t ldo, void* strm)
{
    QB_KCHECK(codes && scales && out, "cuda::dequantize", "null pointer");
    QB_KCHECK(rows > 0 && cols > 0 && ldc >= cols && ldo >= cols, "cuda::dequantize", "bad shape");
    QB_KCHECK(s.gran != Gran::Group || s.group > 0, "cuda::dequantize", "group must be > 0");
    const int64_t G = s.gran == Gran::Group ? std::min(s.group, cols) : cols;
    dequant_kernel<<<std::min<unsigned>(blocks(rows * cols, 256), 4096u), 256, 0, stream(strm)>>>(
        codes, rows, cols, ldc, G, ceil_div(cols, G), s.gran == Gran::Tensor, s.qtype == QType::INT8, scales, out,
        ot == DType::BF16, ldo);
    checkLaunch("dequant_kernel");
}

} // namespace qb::kernels::cuda
