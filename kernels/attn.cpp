// Decode attention on the KV cache: reference and dispatcher (see attn.h).
#include "kernels/attn.h"
#include "kernels/act.h"
#include "kernels/simd_decl.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qb::kernels {
namespace {

void check(const DecodeAttnArgs& a)
{
    QB_KCHECK(a.B > 0 && a.T > 0 && a.H > 0 && a.kvH > 0 && a.D > 0 && a.past >= 0, "attn_decode", "sizes must be > 0 (past >= 0)");
    QB_KCHECK(a.H % a.kvH == 0, "attn_decode", "H must be a multiple of kvH");
    QB_KCHECK(a.q && a.k && a.v && a.y, "attn_decode", "null pointer");
}

// 16 running lanes (lane l: the terms i = l mod 16, ascending), then sum_lanes_ref (attn.h).
template <class F>
float laneSum(int64_t n, F term)
{
    float l[16] = {};
    for (int64_t i = 0; i < n; ++i) l[i % 16] = term(i, l[i % 16]);
    return sum_lanes_ref(l);
}

} // namespace

void attn_decode_ref(const DecodeAttnArgs& a)
{
    check(a);
    const int64_t rep = a.H / a.kvH, D = a.D;
    std::vector<float> qs(static_cast<size_t>(D)), s, acc(static_cast<size_t>(D));
    for (int64_t b = 0; b < a.B; ++b)
        for (int64_t t = 0; t < a.T; ++t)
            for (int64_t h = 0; h < a.H; ++h) {
                const int64_t g = h / rep, n = a.past + t + 1, kv = b * a.kv_sb + g * a.kv_sg;
                const int64_t qo = ((b * a.T + t) * a.H + h) * D;
                for (int64_t d = 0; d < D; ++d) qs[size_t(d)] = load_float(a.q, a.t, qo + d) * a.scale;
                s.assign(static_cast<size_t>(n), 0.0f);
                for (int64_t j = 0; j < n; ++j)
                    s[size_t(j)] = laneSum(D, [&](int64_t d, float c) { return std::fma(qs[size_t(d)], load_float(a.k, a.t, kv + j * D + d), c); });
                float m = s[0];
                for (int64_t j = 1; j < n; ++j) m = s[size_t(j)] > m ? s[size_t(j)] : m;
                for (int64_t j = 0; j < n; ++j) s[size_t(j)] = exp_f32_ref(s[size_t(j)] - m);
                const float sum = laneSum(n, [&](int64_t j, float c) { return c + s[size_t(j)]; });
                std::fill(acc.begin(), acc.end(), 0.0f);
                for (int64_t j = 0; j < n; ++j) {
                    const float p = s[size_t(j)] / sum;
                    for (int64_t d = 0; d < D; ++d) acc[size_t(d)] = std::fma(p, load_float(a.v, a.t, kv + j * D + d), acc[size_t(d)]);
                }
                for (int64_t d = 0; d < D; ++d) {
                    if (a.t == DType::F32) static_cast<float*>(a.y)[qo + d] = acc[size_t(d)];
                    else static_cast<uint16_t*>(a.y)[qo + d] = bf16_from_float(acc[size_t(d)]);
                }
            }
}

void attn_decode(const DecodeAttnArgs& a)
{
    check(a);
    if (isa() < Isa::Avx512) {
        attn_decode_ref(a);
        return;
    }
    const int64_t tasks = a.B * a.T * a.H;
    const double work = double(tasks) * double(a.past + a.T) * double(a.D);
    const int nt = a.threads > 0 ? a.threads : num_threads();
    if (nt <= 1 || work < double(1 << 18)) {
        for (int64_t i = 0; i < tasks; ++i) avx512::attn_decode_task(a, i);
        return;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (int64_t i = 0; i < tasks; ++i) avx512::attn_decode_task(a, i);
}

} // namespace qb::kernels
