// FP8 W8A8 GEMM reference (the oracle of the CUDA FP8 GEMM).
#include "kernels/gemm_fp8.h"
#include "kernels/fp8.h"

namespace qb::kernels {

void gemm_fp8_ref(const Fp8GemmArgs& a)
{
    QB_KCHECK(a.M > 0 && a.N > 0 && a.K > 0, "gemm_fp8_ref", "M, N, K must be > 0");
    QB_KCHECK(a.x && a.w && a.x_scales && a.w_scales && a.y, "gemm_fp8_ref", "null pointer");
    QB_KCHECK(a.ldx >= a.K && a.ldw >= a.K && a.ldy >= a.N, "gemm_fp8_ref", "leading dimension too small");
    const float* t = fp8e4m3_table();
    for (int64_t m = 0; m < a.M; ++m)
        for (int64_t n = 0; n < a.N; ++n) {
            float s = 0.0f;
            for (int64_t k = 0; k < a.K; ++k) s = s + t[a.x[m * a.ldx + k]] * t[a.w[n * a.ldw + k]];
            float v = (s * (a.w_per_tensor ? a.w_scales[0] : a.w_scales[n])) * (a.x_per_tensor ? a.x_scales[0] : a.x_scales[m]);
            if (a.bias) v = v + a.bias[n];
            a.y[m * a.ldy + n] = v;
        }
}

} // namespace qb::kernels
