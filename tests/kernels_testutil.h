#pragma once
// Helpers shared by tst_kernels and tst_kernels_cuda: seeded random inputs and the NMSE metric.
#include "kernels/common.h"

#include <cstdint>
#include <random>
#include <vector>

namespace {

inline std::vector<float> randn(size_t n, uint32_t seed, float sd = 1.0f)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, sd);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

inline std::vector<int8_t> randi8(size_t n, uint32_t seed, int lo = -128, int hi = 127)
{
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> d(lo, hi);
    std::vector<int8_t> v(n);
    for (auto& x : v) x = int8_t(d(rng));
    return v;
}

// NMSE = mse(ref, got) / mse(ref, 0)
inline double nmse(const std::vector<float>& ref, const std::vector<float>& got)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < ref.size(); ++i) { num += double(ref[i] - got[i]) * (ref[i] - got[i]); den += double(ref[i]) * ref[i]; }
    return den > 0 ? num / den : num;
}

inline std::vector<uint16_t> toBf16(const std::vector<float>& v)
{
    std::vector<uint16_t> o(v.size());
    for (size_t i = 0; i < v.size(); ++i) o[i] = qb::kernels::bf16_from_float(v[i]);
    return o;
}

} // namespace
