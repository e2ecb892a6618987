#pragma once
// W8A8 INT8 GEMM: Y[M,N] = X[M,K] . W[N,K]^T, int8 x int8 accumulated exactly in int32.
//
// Scaling (the order is part of the contract; fast paths reproduce it to the bit):
//   for each group g of W's scales (per row: one group = all of K):
//       acc_g = sum_{k in g} int32(x[m,k]) * int32(w[n,k])          (exact int32)
//       s     = s + float(acc_g) * sw[n,g]                          (float32, g ascending, s0 = 0)
//   y[m,n] = s * sx[m]  (+ bias[n])                                  (no FMA contraction)
// sx: per token (M scales) or per tensor (1). sw: per tensor (1), per row (N) or per group
// [N, ceil(K/G)]. |sum| must fit int32 (K <= 131072 with codes in [-128,127]).
// Fast paths (runtime dispatch on isa(), see common.h): W is packed once into the vpdpbusd
// layout (16 output columns x 4 k per 64-byte vector) with per-group correction terms, X is biased
// to u8 (x + 128) and 128 * sum_k w[n,k] is subtracted, which is exact in wrapping int32.
// Kernels on that layout: AVX-512 VNNI (zmm vpdpbusd), AVX-VNNI (ymm vpdpbusd), AVX2 (vpmaddubsw on
// |x| and sign(x)*w, the sign trick, when no weight code is -128; else vpmaddwd on int16-widened
// x + 128 and w, k-pairs summed per group), scalar (CPUs without AVX2). All of them are
// bit-identical to gemm_int8_ref.
#include "kernels/common.h"

#include <vector>

namespace qb::kernels {

struct Int8GemmArgs {
    int64_t M = 0, N = 0, K = 0;
    const int8_t* x = nullptr; int64_t ldx = 0;             // (M, K)
    const float* x_scales = nullptr; bool x_per_tensor = false; // (M) or (1)
    const int8_t* w = nullptr; int64_t ldw = 0;             // (N, K)
    const float* w_scales = nullptr; Gran w_gran = Gran::Row; int64_t group = 0; // (1) | (N) | (N, ceil(K/G))
    const float* bias = nullptr;                            // (N) or null
    float* y = nullptr; int64_t ldy = 0;                    // (M, N)
};

// W packed for the VNNI kernel; build once per weight, reuse for every call.
struct PackedInt8Weight {
    int64_t N = 0, K = 0, G = 0, ngroups = 0, kq = 0, nblocks = 0; // kq: 4-byte k quads per group
    std::vector<int8_t> data;    // (nblocks, ngroups, kq, 16, 4)
    std::vector<int32_t> corr;   // (nblocks, ngroups, 16): 128 * sum_{k in g} w[n,k]
    std::vector<float> scales;   // (nblocks, ngroups, 16)
    bool has_min = false;        // some code is -128 (the AVX2 sign-trick kernel cannot take it)
    size_t bytes() const { return data.size() + corr.size() * 4 + scales.size() * 4; }
};

void gemm_int8_ref(const Int8GemmArgs& a);
void gemm_int8(const Int8GemmArgs& a);     // dispatches: packs W and runs the VNNI path, or _ref

PackedInt8Weight pack_int8_weight(const int8_t* w, int64_t N, int64_t K, int64_t ldw,
                                  const float* w_scales, Gran gran, int64_t group);
// Any ISA level (scalar included). Uses a.M, a.x, a.ldx, a.x_scales, a.x_per_tensor, a.bias, a.y, a.ldy (a.N/a.K must match p).
void gemm_int8_packed(const PackedInt8Weight& p, const Int8GemmArgs& a);

} // namespace qb::kernels
