// CUDA FP8 W8A8 GEMM. sm_89+: cuBLASLt E4M3 x E4M3 -> f32 (TN: Y^T = W . X^T in column-major
// terms), then a rescale epilogue y = (acc * sw[n]) * sx[m] (+ bias). Older GPUs or unsupported
// shapes: a decode-in-kernel tiled kernel with the same epilogue.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_kernels.h"

#include <cublasLt.h>
#include <mutex>

namespace qb::kernels::cuda {
namespace {

using namespace detail;

struct F8Dev {
    int64_t M, N, K, ldx, ldw, ldy;
    const uint8_t* x; const float* sx; bool xPerTensor;
    const uint8_t* w; const float* sw; bool wPerTensor;
    const float* bias; float* y;
};

__device__ __forceinline__ float epilogue(const F8Dev& a, float acc, int64_t m, int64_t n)
{
    float v = __fmul_rn(__fmul_rn(acc, a.wPerTensor ? a.sw[0] : a.sw[n]), a.xPerTensor ? a.sx[0] : a.sx[m]);
    return a.bias ? __fadd_rn(v, a.bias[n]) : v;
}

__global__ void rescale_kernel(F8Dev a)
{
    for (int64_t i = int64_t(blockIdx.x) * 256 + threadIdx.x; i < a.M * a.N; i += int64_t(gridDim.x) * 256) {
        const int64_t m = i / a.N, n = i % a.N;
        a.y[m * a.ldy + n] = epilogue(a, a.y[m * a.ldy + n], m, n);
    }
}

constexpr int T = 32, BK = 32;
__global__ void fp8_gemm_fallback_kernel(F8Dev a)
{
    __shared__ float xs[T][BK + 1];
    __shared__ float ws[T][BK + 1];
    const int tx = threadIdx.x % T, ty = threadIdx.x / T;            // 32 x 8 threads, 4 rows each
    const int64_t m0 = int64_t(blockIdx.y) * T, n0 = int64_t(blockIdx.x) * T;
    float acc[4] = {};
    for (int64_t k0 = 0; k0 < a.K; k0 += BK) {
        for (int i = threadIdx.x; i < T * BK; i += 256) {
            const int r = i / BK, kk = i % BK;
            const int64_t k = k0 + kk;
            xs[r][kk] = (m0 + r < a.M && k < a.K) ? e4m3_decode(a.x[(m0 + r) * a.ldx + k]) : 0.0f;
            ws[r][kk] = (n0 + r < a.N && k < a.K) ? e4m3_decode(a.w[(n0 + r) * a.ldw + k]) : 0.0f;
        }
        __syncthreads();
        for (int kk = 0; kk < BK; ++kk) {
            const float wv = ws[tx][kk];
            for (int i = 0; i < 4; ++i) acc[i] = fmaf(xs[ty * 4 + i][kk], wv, acc[i]);
        }
        __syncthreads();
    }
    const int64_t n = n0 + tx;
    for (int i = 0; i < 4; ++i) {
        const int64_t m = m0 + ty * 4 + i;
        if (m < a.M && n < a.N) a.y[m * a.ldy + n] = epilogue(a, acc[i], m, n);
    }
}

// One cuBLASLt handle and a 32 MiB workspace per process (first device used), created lazily.
struct Lt {
    cublasLtHandle_t h = nullptr;
    void* ws = nullptr;
    size_t wsBytes = size_t(32) << 20;
};
Lt& lt()
{
    static Lt s;
    static std::once_flag once;
    std::call_once(once, [] {
        if (cublasLtCreate(&s.h) != CUBLAS_STATUS_SUCCESS) s.h = nullptr;
        if (cudaMalloc(&s.ws, s.wsBytes) != cudaSuccess) { cudaGetLastError(); s.ws = nullptr; s.wsBytes = 0; }
    });
    return s;
}

// Returns false when cuBLASLt has no algorithm for this problem (caller falls back).
bool cublasltFp8(const F8Dev& a, cudaStream_t st)
{
    Lt& L = lt();
    if (!L.h) return false;
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t A = nullptr, B = nullptr, C = nullptr;
    cublasLtMatmulPreference_t pref = nullptr;
    bool ok = false;
    do {
        if (cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS) break;
        const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta));
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb));
        // Column-major views: W (N,K) row-major = (K,N) ld ldw; X (M,K) = (K,M) ld ldx; Y^T (N,M) ld ldy.
        if (cublasLtMatrixLayoutCreate(&A, CUDA_R_8F_E4M3, uint64_t(a.K), uint64_t(a.N), a.ldw) != CUBLAS_STATUS_SUCCESS) break;
        if (cublasLtMatrixLayoutCreate(&B, CUDA_R_8F_E4M3, uint64_t(a.K), uint64_t(a.M), a.ldx) != CUBLAS_STATUS_SUCCESS) break;
        if (cublasLtMatrixLayoutCreate(&C, CUDA_R_32F, uint64_t(a.N), uint64_t(a.M), a.ldy) != CUBLAS_STATUS_SUCCESS) break;
        if (cublasLtMatmulPreferenceCreate(&pref) != CUBLAS_STATUS_SUCCESS) break;
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &L.wsBytes, sizeof(L.wsBytes));
        cublasLtMatmulHeuristicResult_t res{};
        int found = 0;
        if (cublasLtMatmulAlgoGetHeuristic(L.h, op, A, B, C, C, pref, 1, &res, &found) != CUBLAS_STATUS_SUCCESS || found == 0) break;
        const float alpha = 1.0f, beta = 0.0f;
        ok = cublasLtMatmul(L.h, op, &alpha, a.w, A, a.x, B, &beta, a.y, C, a.y, C, &res.algo, L.ws, L.wsBytes, st)
            == CUBLAS_STATUS_SUCCESS;
    } while (false);
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (C) cublasLtMatrixLayoutDestroy(C);
    if (B) cublasLtMatrixLayoutDestroy(B);
    if (A) cublasLtMatrixLayoutDestroy(A);
    if (op) cublasLtMatmulDescDestroy(op);
    return ok;
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

} // namespace

void gemm_fp8(const Fp8GemmArgs& a, void* strm, bool use_cublaslt)
{
    QB_KCHECK(a.M > 0 && a.N > 0 && a.K > 0, "cuda::gemm_fp8", "M, N, K must be > 0");
    QB_KCHECK(a.x && a.x_scales && a.w && a.w_scales && a.y, "cuda::gemm_fp8", "null pointer");
    QB_KCHECK(a.ldx >= a.K && a.ldw >= a.K && a.ldy >= a.N, "cuda::gemm_fp8", "leading dimension too small");
    QB_KCHECK(ceil_div(a.M, T) < 65536, "cuda::gemm_fp8", "M too large for one launch");
    F8Dev d{a.M, a.N, a.K, a.ldx, a.ldw, a.ldy, a.x, a.x_scales, a.x_per_tensor, a.w, a.w_scales, a.w_per_tensor, a.bias, a.y};
    cudaStream_t st = stream(strm);
    int dev = 0;
    check(cudaGetDevice(&dev), "cudaGetDevice");
    const bool shapeOk = a.K % 16 == 0 && a.ldx % 16 == 0 && a.ldw % 16 == 0 && a.ldy % 4 == 0
        && aligned16(a.x) && aligned16(a.w) && aligned16(a.y);
    if (use_cublaslt && shapeOk && compute_capability(dev) >= 89 && cublasltFp8(d, st)) {
        rescale_kernel<<<std::min<unsigned>(blocks(a.M * a.N, 256), 4096u), 256, 0, st>>>(d);
        checkLaunch("rescale_kernel");
        return;
    }
    fp8_gemm_fallback_kernel<<<dim3(blocks(a.N, T), blocks(a.M, T)), 256, 0, st>>>(d);
    checkLaunch("fp8_gemm_fallback_kernel");
}

} // namespace qb::kernels::cuda
