#pragma once
// Quantize / dequantize rows of float32 or bf16 to INT8 or FP8-E4M3 codes with scales
// per tensor, per row or per group of G consecutive columns (last group may be partial;
// G >= cols is exactly per row).
//
// Semantics (bit-exact, float32 throughout):
//   amax  = max |x| over the scale's elements
//   INT8:  scale = amax / divisor (divisor 127 default; 127.5 = torchao / compressed-tensors)
//          code  = clamp(RNE(x / scale), qmin, 127), qmin = -127 for divisor 127,
//                  -128 for divisor 127.5 (torchao's quant_min; amax/127.5 maps -amax to -127.5,
//                  which RNE sends to -128)
//   FP8:   scale = amax / 448, code = fp8e4m3_from_float(x / scale) (RNE, saturating)
//   amax == 0, or a scale that underflows to 0 or is not finite -> scale = 1 (codes of a zero
//   row are 0). Division is x / scale (not x * (1/scale)). RNE uses the default FP rounding mode.
//   dequantize: x' = decode(code) * scale.
// Layouts: x is [rows, cols] with row stride ldx (elements); codes [rows, cols] stride ldc;
// scales: Tensor -> 1, Row -> rows, Group -> [rows, ceil(cols/G)] row-major.
#include "kernels/common.h"

namespace qb::kernels {

struct QuantSpec {
    QType qtype = QType::INT8;
    Gran gran = Gran::Row;
    int64_t group = 0;              // for Gran::Group, > 0
    float int8_divisor = 127.0f;    // 127 or 127.5
};

int64_t num_scales(const QuantSpec& s, int64_t rows, int64_t cols);

// codes: int8_t* for INT8, uint8_t* for FP8 (both one byte; passed as void*).
void quantize(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx,
              const QuantSpec& s, void* codes, int64_t ldc, float* scales);
void quantize_ref(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx,
                  const QuantSpec& s, void* codes, int64_t ldc, float* scales);
void dequantize(const void* codes, int64_t rows, int64_t cols, int64_t ldc, const QuantSpec& s,
                const float* scales, void* out, DType ot, int64_t ldo);

// quantize -> dequantize in one pass (fake quantization): out equals dequantize(quantize(x)) to
// the bit, without a full-size codes buffer (rows go through a small per-thread chunk).
void fake_quantize(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx, const QuantSpec& s,
                   void* out, DType ot, int64_t ldo);

// Dynamic per-token activation quantizer (the W8A8 hot path): per-row INT8, same semantics
// as quantize(..., {INT8, Row, 0, divisor}); AVX-512 when available, bit-identical to _ref.
void quantize_rows_int8(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx,
                        float divisor, int8_t* codes, int64_t ldc, float* scales);
void quantize_rows_int8_ref(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx,
                            float divisor, int8_t* codes, int64_t ldc, float* scales);

// Scale from amax with the guards above (exposed so other layers agree to the bit).
float int8_scale(float amax, float divisor);
float fp8_scale(float amax);
inline int int8_qmin(float divisor) { return divisor > 127.0f ? -128 : -127; }

} // namespace qb::kernels
