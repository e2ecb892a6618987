#pragma once
// CUDA kernels (namespace qb::kernels::cuda): host launchers on raw DEVICE pointers and a stream
// passed as void* (a cudaStream_t; nullptr = default stream), so this header needs no CUDA
// headers and C++ callers compile without nvcc. Semantics are those of the CPU references
// (quant.h, gemm_int8.h, gemm_wo.h, gemm_fp8.h); the argument structs are shared, their
// pointers being device pointers here. Errors: std::invalid_argument for bad arguments,
// std::runtime_error for CUDA / cuBLASLt failures. Launchers are asynchronous.
#include "kernels/gemm_fp8.h"
#include "kernels/gemm_int8.h"
#include "kernels/gemm_wo.h"
#include "kernels/quant.h"

#include <cstddef>

namespace qb::kernels::cuda {

bool available();                    // a CUDA device is usable
int device_count();
int compute_capability(int device = 0); // major*10 + minor, 0 when unknown

// Memory helpers so tests and C++ code need no cuda_runtime.h.
void* device_alloc(size_t bytes);
void device_free(void* p);
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void synchronize(void* stream = nullptr);

// Quantize / dequantize: bit-identical codes and scales to quantize_ref.
void quantize(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx, const QuantSpec& s,
              void* codes, int64_t ldc, float* scales, void* stream = nullptr);
void dequantize(const void* codes, int64_t rows, int64_t cols, int64_t ldc, const QuantSpec& s,
                const float* scales, void* out, DType ot, int64_t ldo, void* stream = nullptr);

// Weight-only GEMV (M <= 8: one warp per output column) / tiled GEMM (dequantized W tile in
// shared memory, reused across 64 rows of X). Matches gemm_wo_ref within summation order.
void gemm_wo(const WoGemmArgs& a, void* stream = nullptr);

// INT8 W8A8 with dp4a, int32 per group, float epilogue in the reference order: bit-identical.
void gemm_int8(const Int8GemmArgs& a, void* stream = nullptr);

// FP8 W8A8: cuBLASLt E4M3 x E4M3 -> f32 on sm_89+ (K % 16 == 0, 16-byte aligned rows), then a
// per-row/per-column rescale epilogue; a decode-in-kernel fallback otherwise.
// use_cublaslt = false forces the fallback (tests compare both to gemm_fp8_ref).
void gemm_fp8(const Fp8GemmArgs& a, void* stream = nullptr, bool use_cublaslt = true);

} // namespace qb::kernels::cuda
