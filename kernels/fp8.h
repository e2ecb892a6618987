#pragma once
// FP8 codecs (OCP 8-bit floating point, v1.0) on plain bytes.
//
// E4M3FN: bias 7, max 448, subnormals, NO infinities, NaN = S.1111.111 (0x7F / 0xFF).
// E5M2:   bias 15, max 57344, subnormals, +-inf = S.11111.00, NaN = S.11111.{01,10,11}.
//
// Encoding is round-to-nearest-even on the exact float32 value (ties go to the even code),
// implemented with integer arithmetic so it does not depend on the FPU rounding mode.
// Overflow policy is the OCP "satfinite" conversion for BOTH formats: any finite value beyond
// the largest normal, and +-inf, become +-max (E4M3 0x7E/0xFE = +-448, E5M2 0x7B/0xFB = +-57344).
// NaN keeps its sign: E4M3 -> 0x7F/0xFF, E5M2 -> 0x7E/0xFE. -0.0f encodes to 0x80.
#include <cstdint>

namespace qb::kernels {

uint8_t fp8e4m3_from_float(float x);
float fp8e4m3_to_float(uint8_t code);
uint8_t fp8e5m2_from_float(float x);
float fp8e5m2_to_float(uint8_t code);

// 256-entry decode tables (index = code), built once, thread-safe.
const float* fp8e4m3_table();
const float* fp8e5m2_table();

constexpr float kFp8E4M3Max = 448.0f;
constexpr float kFp8E5M2Max = 57344.0f;

} // namespace qb::kernels
