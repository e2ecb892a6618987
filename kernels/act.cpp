// SwiGLU gate: reference and dispatcher (see act.h).
#include "kernels/act.h"
#include "kernels/simd_decl.h"

#include <algorithm>
#include <cmath>

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

} // namespace qb::kernels
