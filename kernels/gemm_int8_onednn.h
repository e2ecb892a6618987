#pragma once
// W8A8 INT8 GEMM on oneDNN's int8 matmul (optional: built when CMake finds oneDNN 2.x, e.g. Debian's
// libdnnl-dev; otherwise onednn_int8_available() is false and nothing here is used).
// Why: on this project's CPUs oneDNN's brgemm int8 kernels (AVX-512 VNNI, AVX-VNNI, AMX-INT8 tiles on
// CPUs that have them, picked by oneDNN at run time) beat our VNNI kernel at prefill shapes (2-core
// Zen 5, 512 x 4864 x 896: ~1.8 vs ~1.3 TOP/s) and read a prepacked weight at memory speed at M = 1.
// Contract: the same as gemm_int8.h, to the bit. oneDNN computes only the exact int32 sums
// acc[m, n] = sum_k x[m,k] * w[n,k] (s8 x s8 -> s32, no scales in the primitive); the epilogue is ours,
// in the reference's order: y = (0 + float(acc) * sw[n]) * sx[m] (+ bias[n]). Per-tensor and per-row
// weight scales only (per-group W8A8 keeps gemm_int8, whose group sums oneDNN does not expose).
// The weight is reordered once into oneDNN's blocked layout (about N*K bytes), which is the only copy
// a linear keeps. Primitives are cached per (N, K, M); a new M costs one primitive creation (~0.3 ms).
#include "kernels/gemm_int8.h"

#include <cstdint>
#include <memory>
#include <string>

namespace qb::kernels {

struct OnednnInt8Weight;   // opaque: the packed weight and its scales
struct OnednnInt8WeightDeleter { void operator()(OnednnInt8Weight* p) const; };
using OnednnInt8WeightPtr = std::unique_ptr<OnednnInt8Weight, OnednnInt8WeightDeleter>;

// Built with oneDNN, oneDNN's CPU ISA has int8 dot products (VNNI / AMX) and isa() >= AvxVnni (a
// forced lower level turns it off, so QB_KERNELS_ISA tests our kernels), and QB_INT8_GEMM != kernels.
bool onednn_int8_available();
std::string onednn_info();   // "oneDNN 2.6.3, ISA avx512_core_bf16" or "oneDNN not built in"

// nullptr when unavailable or oneDNN offers no fast kernel for this shape (the caller packs for
// gemm_int8 instead). gran: Tensor (w_scales[0]) or Row (w_scales[n]).
OnednnInt8WeightPtr onednn_pack_int8(const int8_t* w, int64_t N, int64_t K, int64_t ldw, const float* w_scales, Gran gran);
size_t onednn_weight_bytes(const OnednnInt8Weight& w);
// Uses a.M, a.x, a.ldx, a.x_scales, a.x_per_tensor, a.bias (a.N / a.K must match w); writes y (M, ldy) as
// float32 or bf16 (round to nearest even), a.y unused.
void gemm_int8_onednn(const OnednnInt8Weight& w, const Int8GemmArgs& a, void* y, DType y_type, int64_t ldy);

} // namespace qb::kernels
