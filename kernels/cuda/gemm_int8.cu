// CUDA W8A8 INT8 GEMM with dp4a. Block: 32x32 outputs, 256 threads x (1 row x 4 columns),
// K chunks of 64 bytes in shared memory (zero padded). int32 per W group, then the reference's
// float order with explicit _rn intrinsics (no FMA contraction): s = s + float(acc) * sw,
// y = s * sx (+ bias) -> bit-identical to gemm_int8_ref.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace qb::kernels::cuda {
namespace {

using namespace detail;
constexpr int TM = 32, TN = 32, KC = 64, KW = KC / 4;

struct I8Dev {
    int64_t M, N, K, ldx, ldw, ldy, G, ng;
    const int8_t* x; const float* sx; bool xPerTensor;
    const int8_t* w; const float* sw; bool wPerTensor;
    const float* bias; float* y;
};

__global__ void int8_gemm_kernel(I8Dev a)
{
    __shared__ int xs[TM][KW + 1];
    __shared__ int ws[TN][KW + 1];
    const int r = threadIdx.x / 8, c4 = (threadIdx.x % 8) * 4;      // row in tile, first of 4 columns
    const int64_t m0 = int64_t(blockIdx.y) * TM, n0 = int64_t(blockIdx.x) * TN;
    int acc[4] = {0, 0, 0, 0};
    float s[4] = {0.f, 0.f, 0.f, 0.f};
    int64_t g = 0, kb = min(a.K, a.G);                               // current group and its end
    auto flush = [&] {
        for (int j = 0; j < 4; ++j) {
            const int64_t n = min(n0 + c4 + j, a.N - 1);
            const float sc = a.wPerTensor ? a.sw[0] : a.sw[n * a.ng + g];
            s[j] = __fadd_rn(s[j], __fmul_rn(__int2float_rn(acc[j]), sc));
            acc[j] = 0;
        }
        ++g;
        kb = min(a.K, kb + a.G);
    };
    for (int64_t k0 = 0; k0 < a.K; k0 += KC) {
        for (int i = threadIdx.x; i < TM * KW; i += 256) {            // 4 bytes per slot, zero padded
            const int rr = i / KW, q = i % KW;
            int xv = 0, wv = 0;
            for (int b = 0; b < 4; ++b) {
                const int64_t k = k0 + q * 4 + b;
                if (k < a.K && m0 + rr < a.M) xv |= (int(uint8_t(a.x[(m0 + rr) * a.ldx + k])) << (8 * b));
                if (k < a.K && n0 + rr < a.N) wv |= (int(uint8_t(a.w[(n0 + rr) * a.ldw + k])) << (8 * b));
            }
            xs[rr][q] = xv;
            ws[rr][q] = wv;
        }
        __syncthreads();
        for (int q = 0; q < KW; ++q) {
            const int64_t k = k0 + q * 4;
            if (k >= a.K) break;
            if (k == kb) flush();
            const int xv = xs[r][q];
            if (k + 4 <= kb) {
                for (int j = 0; j < 4; ++j) acc[j] = __dp4a(xv, ws[c4 + j][q], acc[j]);
            } else {                                                  // a group boundary inside
                for (int b = 0; b < 4 && k + b < a.K; ++b) {
                    if (k + b == kb) flush();
                    const int xb = int(int8_t(xv >> (8 * b)));
                    for (int j = 0; j < 4; ++j) acc[j] += xb * int(int8_t(ws[c4 + j][q] >> (8 * b)));
                }
            }
        }
        __syncthreads();
    }
    flush();
    const int64_t m = m0 + r;
    if (m >= a.M) return;
    const float sx = a.xPerTensor ? a.sx[0] : a.sx[m];
    for (int j = 0; j < 4; ++j) {
        const int64_t n = n0 + c4 + j;
        if (n >= a.N) continue;
        float v = __fmul_rn(s[j], sx);
        if (a.bias) v = __fadd_rn(v, a.bias[n]);
        a.y[m * a.ldy + n] = v;
    }
}

} // namespace

void gemm_int8(const Int8GemmArgs& a, void* strm)
{
    QB_KCHECK(a.M > 0 && a.N > 0 && a.K > 0, "cuda::gemm_int8", "M, N, K must be > 0");
    QB_KCHECK(a.x && a.x_scales && a.w && a.w_scales && a.y, "cuda::gemm_int8", "null pointer");
    QB_KCHECK(a.ldx >= a.K && a.ldw >= a.K && a.ldy >= a.N, "cuda::gemm_int8", "leading dimension too small");
    QB_KCHECK(a.w_gran != Gran::Group || a.group > 0, "cuda::gemm_int8", "group must be > 0");
    QB_KCHECK(ceil_div(a.M, TM) < 65536, "cuda::gemm_int8", "M too large for one launch");
    I8Dev d;
    d.M = a.M; d.N = a.N; d.K = a.K; d.ldx = a.ldx; d.ldw = a.ldw; d.ldy = a.ldy;
    d.G = a.w_gran == Gran::Group && a.group < a.K ? a.group : a.K; d.ng = ceil_div(a.K, d.G);
    d.x = a.x; d.sx = a.x_scales; d.xPerTensor = a.x_per_tensor;
    d.w = a.w; d.sw = a.w_scales; d.wPerTensor = a.w_gran == Gran::Tensor;
    d.bias = a.bias; d.y = a.y;
    int8_gemm_kernel<<<dim3(blocks(a.N, TN), blocks(a.M, TM)), 256, 0, stream(strm)>>>(d);
    checkLaunch("int8_gemm_kernel");
}

} // namespace qb::kernels::cuda
