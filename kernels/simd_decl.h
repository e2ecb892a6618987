#pragma once
// Internal: entry points of the translation units compiled with -mavx512* / -mavx2 flags. Only
// call them when isa() (common.h) is at least their level; their signatures use no SIMD types.
#include "kernels/common.h"

#include <cstdint>

namespace qb::kernels {
struct PackedInt8Weight;
struct WoGemmArgs;
struct DenseGemmArgs;
struct DecodeAttnArgs;
namespace avx512 {
// One row: returns the scale, writes cols codes. Bit-identical to quantize_rows_int8_ref.
float quantize_row_int8(const void* x, bool bf16, int64_t cols, float divisor, int8_t* codes);
// Y rows [m0, m0+mr) x packed n-blocks [nb0, nb1): see gemm_int8_avx512.cpp.
void gemm_int8_block(const PackedInt8Weight& w, const uint8_t* xp, int64_t xps, int64_t m0, int64_t m1,
                     int64_t nb0, int64_t nb1, const float* x_scales, bool x_per_tensor,
                     const float* bias, float* y, int64_t ldy);
// W8A8 epilogue of int32 sums made elsewhere (gemm_int8_onednn.cpp), rows [m0, m1):
// y = (0 + float(acc) * sw[n]) * sx[m] (+ bias[n]), the reference's order; y float32 or bf16 (RNE).
void int8_epilogue_rows(const int32_t* acc, int64_t ldacc, int64_t m0, int64_t m1, int64_t N, const float* sx,
                        bool sx_tensor, const float* sw, bool sw_tensor, const float* bias, void* y, bool ybf16,
                        int64_t ldy);
// Weight-only GEMV (a.M <= 4): all rows of X, output columns [n0, n1); writes a.y directly.
void gemv_wo_cols(const WoGemmArgs& a, int64_t n0, int64_t n1);
// Weight-only GEMM: rows [m0, m1) x columns [n0, n0 + gemm_wo_panel_cols()) (clipped to N);
// bf16dot: X bf16 and AVX512_BF16 present (vdpbf16ps micro-kernel).
int64_t gemm_wo_panel_cols();
void gemm_wo_task(const WoGemmArgs& a, int64_t m0, int64_t m1, int64_t n0, bool bf16dot);
// Codes of weight rows [n0, n1) x k [k0, k0 + kc) decoded exactly into bf16, row-major with row length
// kc (FP8: value / 256, as the GEMV; gemm_wo_onednn.cpp).
void wo_decode_bf16(const WoGemmArgs& a, int64_t n0, int64_t n1, int64_t k0, int64_t kc, uint16_t* out);
// The same codes for columns [n0, n0 + 64) (zeros past N) in oneDNN's BA16a64b2a block: k pairs of 64
// columns, out[(kk/2) * 128 + 2 * j + (kk & 1)], zeros for kk in [kc, kpad) (kpad: kc rounded up to 32).
// Needs AVX512_BF16.
void wo_decode_bf16_ba64(const WoGemmArgs& a, int64_t n0, int64_t k0, int64_t kc, int64_t kpad, uint16_t* out);
// y[m, n0 + j] = C[m * ldc + j] for all a.M rows, j < nb: fp32, or bf16 rounded to nearest even (no bias).
void wo_store_rows(const float* C, int64_t ldc, int64_t nb, const WoGemmArgs& a, int64_t n0);
// Dense GEMM with fp32 W (a.w_type F32; X fp32 or bf16) on the same panels (gemm_wo_avx512.cpp):
// rows [m0, m1) x columns [n0, n0 + gemm_wo_panel_cols()) (clipped to N); writes a.y (+ bias).
void gemm_dense_f32_task(const DenseGemmArgs& a, int64_t m0, int64_t m1, int64_t n0);
// SwiGLU gate (act_avx512.cpp): y = bf16(bf16(silu(g)) * u), as silu_mul_bf16_ref.
void silu_mul_bf16(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n);
// RMSNorm rows (act_avx512.cpp), as rms_norm_ref; x, w, y all fp32 or all bf16.
// Decode attention, one (batch, query, head) task (attn_avx512.cpp), as attn_decode_ref.
void attn_decode_task(const DecodeAttnArgs& a, int64_t task);
// RoPE on (tokens, heads, D) rows (act_avx512.cpp), as rope_ref.
void rope_rows(const void* x, bool bf16, int64_t tokens, int64_t heads, int64_t D, const void* cos, const void* sin, void* y);
void rms_norm_rows(const void* x, bool bf16, int64_t rows, int64_t n, int64_t ldx, const void* w, float eps, void* y, int64_t ldy);
// Dense GEMV (a.M <= 4, gemm_dense_avx512.cpp): columns [n0, n1); bf16dot: vdpbf16ps when X and W are bf16.
void gemm_dense_gemv(const DenseGemmArgs& a, int64_t n0, int64_t n1, bool bf16dot);
} // namespace avx512
namespace avxvnni {  // AVX2 + AVX-VNNI; xp as in avx512::gemm_int8_block (u8, x + 128)
void gemm_int8_block(const PackedInt8Weight& w, const void* xp, int64_t xps, int64_t m0, int64_t m1,
                     int64_t nb0, int64_t nb1, const float* x_scales, bool x_per_tensor,
                     const float* bias, float* y, int64_t ldy);
} // namespace avxvnni
namespace avx2sign { // AVX2 sign trick (gemm_int8_avx2sign.cpp); xabs |x| and xsgn x, int8 layout; no -128 in W
void gemm_int8_block(const PackedInt8Weight& w, const uint8_t* xabs, const int8_t* xsgn, int64_t xps, int64_t m0,
                     int64_t m1, int64_t nb0, int64_t nb1, const float* x_scales, bool x_per_tensor, const float* bias,
                     float* y, int64_t ldy);
} // namespace avx2sign
namespace avx2 {     // AVX2 + FMA + F16C; xp: int16 (x + 128), same layout
void gemm_int8_block(const PackedInt8Weight& w, const void* xp, int64_t xps, int64_t m0, int64_t m1,
                     int64_t nb0, int64_t nb1, const float* x_scales, bool x_per_tensor,
                     const float* bias, float* y, int64_t ldy);
// Register-decode tiles (few rows of X), rows [m0, m1) x columns [n0, n1); write a.y directly.
void gemm_wo_block(const WoGemmArgs& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void gemm_dense_block(const DenseGemmArgs& a, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
// Panel GEMM (gemm_panel_avx2.cpp): W row-major as codes with scales (I8, E4M3: scales per tensor /
// row / group as in WoGemmArgs) or values (BF16, F32: scales unused); threaded over `threads`.
enum class PanelW : uint8_t { I8, E4M3, BF16, F32 };
struct PanelWeights {
    const void* w; PanelW type; int64_t ldw;
    const float* scales; Gran gran; int64_t group;
};
void panel_gemm(int64_t M, int64_t N, int64_t K, const void* x, bool xbf16, int64_t ldx, const PanelWeights& w,
                const float* bias, void* y, bool ybf16, int64_t ldy, int threads);
} // namespace avx2
} // namespace qb::kernels
