// FP8 codecs: encoder in fp8_impl.h (shared with CUDA), decoder by fields into tables.
#include "kernels/fp8.h"
#include "kernels/fp8_impl.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace qb::kernels {
namespace {

float decodeE4M3(uint8_t c)
{
    const int e = (c >> 3) & 15, m = c & 7;
    float v;
    if (e == 15 && m == 7) v = std::numeric_limits<float>::quiet_NaN();
    else if (e == 0) v = std::ldexp(float(m), -9);
    else v = std::ldexp(1.0f + float(m) / 8.0f, e - 7);
    return (c & 0x80) ? -v : v;
}

float decodeE5M2(uint8_t c)
{
    const int e = (c >> 2) & 31, m = c & 3;
    float v;
    if (e == 31) v = m ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else if (e == 0) v = std::ldexp(float(m), -16);
    else v = std::ldexp(1.0f + float(m) / 4.0f, e - 15);
    return (c & 0x80) ? -v : v;
}

struct Tables {
    float e4m3[256], e5m2[256];
    Tables() { for (int i = 0; i < 256; ++i) { e4m3[i] = decodeE4M3(uint8_t(i)); e5m2[i] = decodeE5M2(uint8_t(i)); } }
};
const Tables& tables() { static const Tables t; return t; }

} // namespace

uint8_t fp8e4m3_from_float(float x) { return detail::e4m3_encode(x); }
uint8_t fp8e5m2_from_float(float x) { return detail::e5m2_encode(x); }
float fp8e4m3_to_float(uint8_t c) { return tables().e4m3[c]; }
float fp8e5m2_to_float(uint8_t c) { return tables().e5m2[c]; }
const float* fp8e4m3_table() { return tables().e4m3; }
const float* fp8e5m2_table() { return tables().e5m2; }

} // namespace qb::kernels
