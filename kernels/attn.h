#pragma once
// Attention of a few new queries against a KV cache in place (batch-1 decode on the CPU): no fp32
// copy of the cache, no BLAS, one pass per (batch, query, head). For query t of batch b and head h
// (key/value head g = h / (H / kvH)), keys j < past + t + 1 (causal):
//   qs = float(q) * scale (rounded); s_j = qs . k_j; m = max s; e_j = exp_f32_ref(s_j - m);
//   p_j = e_j / sum(e); y = sum_j p_j v_j, rounded to the dtype.
// Summation orders are fixed so the AVX-512 path equals attn_decode_ref bit for bit: a dot product
// runs 16 lanes over d (lane l: d = l mod 16, ascending, FMA), the lanes then added pairwise
// (h_i = l_i + l_{i+8}, q_i = h_i + h_{i+4}, (q_0 + q_2) + (q_1 + q_3)); sum(e) the same over j;
// y is one FMA chain over j per element. Against libtorch's matmul + softmax this differs only by
// float rounding (and exp, see act.h).
#include "kernels/common.h"

namespace qb::kernels {

struct DecodeAttnArgs {
    int64_t B = 0, T = 0, H = 0, kvH = 0, D = 0;
    int64_t past = 0;             // keys before the first query; query t sees past + t + 1 keys
    DType t = DType::F32;         // q, k, v and y
    const void* q = nullptr;      // (B, T, H, D) contiguous
    const void* k = nullptr;      // element (b, g, j, d) at b * kv_sb + g * kv_sg + j * D + d
    const void* v = nullptr;      // the same layout as k
    int64_t kv_sb = 0, kv_sg = 0; // strides in elements (a cache: kvH * capacity * D, capacity * D)
    float scale = 1.0f;
    void* y = nullptr;            // (B, T, H * D) contiguous
    int threads = 0;              // 0: the kernels' count; 1: the caller's thread
};

void attn_decode_ref(const DecodeAttnArgs& a);
void attn_decode(const DecodeAttnArgs& a);

} // namespace qb::kernels
