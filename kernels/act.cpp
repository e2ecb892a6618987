// SwiGLU gate: reference and dispatcher (see act.h).
#include "kernels/act.h"
#include "kernels/simd_decl.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qb::kernels {

float exp_f32_ref(float x)
{
    x = -104.0f > x ? -104.0f : x;   // the order of vmaxps / vminps: a NaN x is kept
    x = 89.0f < x ? 89.0f : x;
    const float n = std::nearbyint(x * 1.44269504088896341f);
    float r = std::fma(n, -0.693145751953125f, x);
    r = std::fma(n, -1.428606765330187045e-6f, r);
    float p = 1.9875691500e-4f;
    p = std::fma(p, r, 1.3981999507e-3f);
    p = std::fma(p, r, 8.3334519073e-3f);
    p = std::fma(p, r, 4.1665795894e-2f);
    p = std::fma(p, r, 1.6666665459e-1f);
    p = std::fma(p, r, 5.0000001201e-1f);
    const float e = std::fma(p, r * r, r) + 1.0f;
    return std::isnan(n) ? n : std::ldexp(e, int(n));
}

void silu_mul_bf16_ref(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n)
{
    for (int64_t i = 0; i < n; ++i) {
        const float gv = bf16_to_float(g[i]);
        const float s = gv / (1.0f + exp_f32_ref(-gv));
        y[i] = bf16_from_float(bf16_to_float(bf16_from_float(s)) * bf16_to_float(u[i]));
    }
}

void silu_mul_bf16(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n, int threads)
{
    QB_KCHECK(n >= 0, "silu_mul_bf16", "n must be >= 0");
    if (n == 0) return;
    QB_KCHECK(g && u && y, "silu_mul_bf16", "null pointer");
    if (isa() < Isa::Avx512) {
        silu_mul_bf16_ref(g, u, y, n);
        return;
    }
    constexpr int64_t kBlock = 8192;
    const int nt = threads > 0 ? threads : num_threads();
    if (nt <= 1 || n < 8 * kBlock) {
        avx512::silu_mul_bf16(g, u, y, n);
        return;
    }
    const int64_t blocks = ceil_div(n, kBlock);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t i0 = b * kBlock;
        avx512::silu_mul_bf16(g + i0, u + i0, y + i0, std::min(kBlock, n - i0));
    }
}

namespace {

inline float rnd(float v, DType t) { return t == DType::F32 ? v : bf16_to_float(bf16_from_float(v)); }

} // namespace

void rms_norm_ref(const void* x, DType t, int64_t rows, int64_t n, int64_t ldx, const void* w, float eps, void* y, int64_t ldy)
{
    for (int64_t r = 0; r < rows; ++r) {
        float lane[16] = {};
        for (int64_t k = 0; k < n; ++k) {
            const float v = load_float(x, t, r * ldx + k);
            lane[k % 16] = std::fma(v, v, lane[k % 16]);
        }
        const float ss = sum_lanes_ref(lane);
        const float inv = 1.0f / std::sqrt(ss / float(n) + eps);
        for (int64_t k = 0; k < n; ++k) {
            const float v = rnd(load_float(w, t, k) * rnd(load_float(x, t, r * ldx + k) * inv, t), t);
            if (t == DType::F32) static_cast<float*>(y)[r * ldy + k] = v;
            else static_cast<uint16_t*>(y)[r * ldy + k] = bf16_from_float(v);
        }
    }
}

void rms_norm(const void* x, DType t, int64_t rows, int64_t n, int64_t ldx, const void* w, float eps, void* y, int64_t ldy, int threads)
{
    QB_KCHECK(rows >= 0 && n > 0, "rms_norm", "rows must be >= 0 and n > 0");
    QB_KCHECK(ldx >= n && ldy >= n, "rms_norm", "leading dimension too small");
    if (rows == 0) return;
    QB_KCHECK(x && w && y, "rms_norm", "null pointer");
    if (isa() < Isa::Avx512) {
        rms_norm_ref(x, t, rows, n, ldx, w, eps, y, ldy);
        return;
    }
    const int nt = threads > 0 ? threads : num_threads();
    const size_t es = t == DType::F32 ? 4 : 2;
    if (nt <= 1 || rows * n < 65536) {
        avx512::rms_norm_rows(x, t == DType::BF16, rows, n, ldx, w, eps, y, ldy);
        return;
    }
    constexpr int64_t kRows = 8;
    const int64_t blocks = ceil_div(rows, kRows);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t r0 = b * kRows;
        avx512::rms_norm_rows(static_cast<const char*>(x) + size_t(r0 * ldx) * es, t == DType::BF16, std::min(kRows, rows - r0), n, ldx, w,
                              eps, static_cast<char*>(y) + size_t(r0 * ldy) * es, ldy);
    }
}

void rope_ref(const void* x, DType t, int64_t tokens, int64_t heads, int64_t D, const void* cos, const void* sin, void* y)
{
    const int64_t h = D / 2;
    std::vector<float> out(static_cast<size_t>(D));
    for (int64_t r = 0; r < tokens * heads; ++r) {
        const int64_t tok = r / heads;
        for (int64_t i = 0; i < D; ++i) {
            const float xv = load_float(x, t, r * D + i), rh = i < h ? -load_float(x, t, r * D + i + h) : load_float(x, t, r * D + i - h);
            out[size_t(i)] = rnd(rnd(xv * load_float(cos, t, tok * D + i), t) + rnd(rh * load_float(sin, t, tok * D + i), t), t);
        }
        for (int64_t i = 0; i < D; ++i) {   // after the row is read: y may be x
            if (t == DType::F32) static_cast<float*>(y)[r * D + i] = out[size_t(i)];
            else static_cast<uint16_t*>(y)[r * D + i] = bf16_from_float(out[size_t(i)]);
        }
    }
}

void rope(const void* x, DType t, int64_t tokens, int64_t heads, int64_t D, const void* cos, const void* sin, void* y, int threads)
{
    QB_KCHECK(tokens >= 0 && heads > 0 && D > 0 && D % 2 == 0, "rope", "tokens >= 0, heads > 0, D > 0 and even");
    if (tokens == 0) return;
    QB_KCHECK(x && cos && sin && y, "rope", "null pointer");
    if (isa() < Isa::Avx512) {
        rope_ref(x, t, tokens, heads, D, cos, sin, y);
        return;
    }
    const int nt = threads > 0 ? threads : num_threads();
    const size_t es = t == DType::F32 ? 4 : 2;
    if (nt <= 1 || tokens * heads * D < 65536) {
        avx512::rope_rows(x, t == DType::BF16, tokens, heads, D, cos, sin, y);
        return;
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t tok = 0; tok < tokens; ++tok) {
        const size_t xo = size_t(tok * heads * D) * es, co = size_t(tok * D) * es;
        avx512::rope_rows(static_cast<const char*>(x) + xo, t == DType::BF16, 1, heads, D, static_cast<const char*>(cos) + co,
                          static_cast<const char*>(sin) + co, static_cast<char*>(y) + xo);
    }
}

} // namespace qb::kernels
