// CUDA weight-only GEMV / GEMM: codes are decoded in registers (GEMV) or into a shared-memory
// float tile (GEMM), never materialising the float weight matrix in global memory.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace qb::kernels::cuda {
namespace {

using namespace detail;

struct WoDev {
    int64_t M, N, K, ldx, ldw, ldy, G, ng;
    const void* x; const uint8_t* w; const float* sw; const float* bias; void* y;
    bool xbf16, ybf16, fp8, perTensor;
};

__device__ __forceinline__ float decode(const WoDev& a, uint8_t c) { return a.fp8 ? e4m3_decode(c) : float(int8_t(c)); }
__device__ __forceinline__ float wscale(const WoDev& a, int64_t n, int64_t k) { return a.perTensor ? a.sw[0] : a.sw[n * a.ng + k / a.G]; }

// GEMV (M <= MT): one warp per output column n; lanes stride over K; per-group partial sums.
template <int MT>
__global__ void wo_gemv_kernel(WoDev a)
{
    const int64_t n = int64_t(blockIdx.x) * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (n >= a.N) return;
    float tot[MT];
    for (int m = 0; m < MT; ++m) tot[m] = 0.0f;
    const uint8_t* wr = a.w + n * a.ldw;
    for (int64_t g = 0; g < a.ng; ++g) {
        float acc[MT];
        for (int m = 0; m < MT; ++m) acc[m] = 0.0f;
        const int64_t k1 = min(a.K, (g + 1) * a.G);
        for (int64_t k = g * a.G + lane; k < k1; k += 32) {
            const float wv = decode(a, __ldg(wr + k));
            for (int m = 0; m < MT; ++m)
                if (m < a.M) acc[m] = fmaf(load_act(a.x, a.xbf16, m * a.ldx + k), wv, acc[m]);
        }
        const float sc = a.perTensor ? a.sw[0] : a.sw[n * a.ng + g];
        for (int m = 0; m < MT; ++m) tot[m] = fmaf(acc[m], sc, tot[m]);
    }
    for (int m = 0; m < MT; ++m) {
        const float v = warp_sum(tot[m]);
        if (lane == 0 && m < a.M) store_out(a.y, a.ybf16, m * a.ldy + n, a.bias ? v + a.bias[n] : v);
    }
}

// Tiled GEMM: 64x64 outputs per block, 256 threads x (4x4), K tiles of 16; W tile decoded and
// scaled into shared memory once and reused by all 64 rows of X.
constexpr int BM = 64, BN = 64, BK = 16;
__global__ void wo_gemm_kernel(WoDev a)
{
    __shared__ float xs[BK][BM + 4];
    __shared__ float ws[BK][BN + 4];
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
    float acc[4][4] = {};
    for (int64_t k0 = 0; k0 < a.K; k0 += BK) {
        for (int i = threadIdx.x; i < BM * BK; i += 256) {
            const int r = i / BK, kk = i % BK;
            const int64_t m = m0 + r, k = k0 + kk;
            xs[kk][r] = (m < a.M && k < a.K) ? load_act(a.x, a.xbf16, m * a.ldx + k) : 0.0f;
            const int64_t n = n0 + r;
            ws[kk][r] = (n < a.N && k < a.K) ? decode(a, a.w[n * a.ldw + k]) * wscale(a, n, k) : 0.0f;
        }
        __syncthreads();
        for (int kk = 0; kk < BK; ++kk) {
            float xv[4], wv[4];
            for (int i = 0; i < 4; ++i) { xv[i] = xs[kk][ty * 4 + i]; wv[i] = ws[kk][tx * 4 + i]; }
            for (int i = 0; i < 4; ++i)
                for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(xv[i], wv[j], acc[i][j]);
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
            const int64_t m = m0 + ty * 4 + i, n = n0 + tx * 4 + j;
            if (m < a.M && n < a.N) store_out(a.y, a.ybf16, m * a.ldy + n, a.bias ? acc[i][j] + a.bias[n] : acc[i][j]);
        }
}

} // namespace

void gemm_wo(const WoGemmArgs& a, void* strm)
{
    QB_KCHECK(a.M > 0 && a.N > 0 && a.K > 0, "cuda::gemm_wo", "M, N, K must be > 0");
    QB_KCHECK(a.x && a.w && a.w_scales && a.y, "cuda::gemm_wo", "null pointer");
    QB_KCHECK(a.ldx >= a.K && a.ldw >= a.K && a.ldy >= a.N, "cuda::gemm_wo", "leading dimension too small");
    QB_KCHECK(a.w_gran != Gran::Group || a.group > 0, "cuda::gemm_wo", "group must be > 0");
    WoDev d;
    d.M = a.M; d.N = a.N; d.K = a.K; d.ldx = a.ldx; d.ldw = a.ldw; d.ldy = a.ldy;
    d.G = a.w_gran == Gran::Group && a.group < a.K ? a.group : a.K; d.ng = ceil_div(a.K, d.G);
    d.x = a.x; d.w = static_cast<const uint8_t*>(a.w); d.sw = a.w_scales; d.bias = a.bias; d.y = a.y;
    d.xbf16 = a.x_type == DType::BF16; d.ybf16 = a.y_type == DType::BF16; d.fp8 = a.w_type == QType::FP8_E4M3;
    d.perTensor = a.w_gran == Gran::Tensor;
    cudaStream_t st = stream(strm);
    if (a.M <= 8) {
        wo_gemv_kernel<8><<<blocks(a.N, 4), 128, 0, st>>>(d);
        checkLaunch("wo_gemv_kernel");
    } else {
        QB_KCHECK(ceil_div(a.M, BM) < 65536, "cuda::gemm_wo", "M too large for one launch");
        wo_gemm_kernel<<<dim3(blocks(a.N, BN), blocks(a.M, BM)), 256, 0, st>>>(d);
        checkLaunch("wo_gemm_kernel");
    }
}

} // namespace qb::kernels::cuda
