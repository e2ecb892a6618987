// Quantize / dequantize: the scalar reference (also the general path) and the dispatcher.
#include "kernels/quant.h"
#include "kernels/fp8.h"
#include "kernels/simd_decl.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qb::kernels {
namespace {

inline float loadx(const void* x, DType t, int64_t i)
{
    return t == DType::F32 ? static_cast<const float*>(x)[i] : bf16_to_float(static_cast<const uint16_t*>(x)[i]);
}

void check(const char* fn, const void* x, int64_t rows, int64_t cols, int64_t ldx, const QuantSpec& s,
           const void* codes, int64_t ldc, const float* scales)
{
    QB_KCHECK(x && codes && scales, fn, "null pointer");
    QB_KCHECK(rows > 0 && cols > 0, fn, "rows and cols must be > 0");
    QB_KCHECK(ldx >= cols && ldc >= cols, fn, "leading dimension smaller than cols");
    QB_KCHECK(s.gran != Gran::Group || s.group > 0, fn, "group must be > 0");
    QB_KCHECK(s.qtype != QType::INT8 || s.int8_divisor == 127.0f || s.int8_divisor == 127.5f, fn,
              "int8 divisor must be 127 or 127.5");
}

inline int8_t int8_code(float v, float scale, int qmin)
{
    float q = std::nearbyint(v / scale);
    q = std::min(std::max(q, float(qmin)), 127.0f);
    return int8_t(q);
}

} // namespace

float int8_scale(float amax, float divisor)
{
    float s = amax / divisor;
    return (s > 0.0f && std::isfinite(s)) ? s : 1.0f;
}

float fp8_scale(float amax)
{
    float s = amax / kFp8E4M3Max;
    return (s > 0.0f && std::isfinite(s)) ? s : 1.0f;
}

int64_t num_scales(const QuantSpec& s, int64_t rows, int64_t cols)
{
    if (s.gran == Gran::Tensor) return 1;
    return rows * groups_per_row(s.gran, s.group, cols);
}

void quantize_ref(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx,
                  const QuantSpec& s, void* codes, int64_t ldc, float* scales)
{
    check("quantize_ref", x, rows, cols, ldx, s, codes, ldc, scales);
    const int64_t G = s.gran == Gran::Group ? std::min(s.group, cols) : cols;
    const int64_t ng = s.gran == Gran::Tensor ? 1 : ceil_div(cols, G);
    auto scaleOf = [&](float amax) { return s.qtype == QType::INT8 ? int8_scale(amax, s.int8_divisor) : fp8_scale(amax); };
    float tensorScale = 1.0f;
    if (s.gran == Gran::Tensor) {
        float amax = 0.0f;
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(loadx(x, xt, r * ldx + c)));
        tensorScale = scales[0] = scaleOf(amax);
    }
    const int qmin = int8_qmin(s.int8_divisor);
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t g = 0; g * G < cols; ++g) {
            const int64_t c0 = g * G, c1 = std::min(cols, c0 + G);
            float scale = tensorScale;
            if (s.gran != Gran::Tensor) {
                float amax = 0.0f;
                for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(loadx(x, xt, r * ldx + c)));
                scale = scales[r * ng + g] = scaleOf(amax);
            }
            for (int64_t c = c0; c < c1; ++c) {
                const float v = loadx(x, xt, r * ldx + c);
                if (s.qtype == QType::INT8) static_cast<int8_t*>(codes)[r * ldc + c] = int8_code(v, scale, qmin);
                else static_cast<uint8_t*>(codes)[r * ldc + c] = fp8e4m3_from_float(v / scale);
            }
        }
    }
}

void quantize(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx,
              const QuantSpec& s, void* codes, int64_t ldc, float* scales)
{
    const bool perRow = s.gran == Gran::Row || (s.gran == Gran::Group && s.group >= cols);
    if (s.qtype == QType::INT8 && perRow) {
        quantize_rows_int8(x, xt, rows, cols, ldx, s.int8_divisor, static_cast<int8_t*>(codes), ldc, scales);
        return;
    }
    check("quantize", x, rows, cols, ldx, s, codes, ldc, scales);
    if (s.gran == Gran::Tensor || rows * cols < (1 << 16)) {
        quantize_ref(x, xt, rows, cols, ldx, s, codes, ldc, scales);
        return;
    }
    // Rows are independent for per-row / per-group scales: the reference on row chunks, in parallel.
    const int64_t ng = groups_per_row(s.gran, s.group, cols), chunk = 16;
    const size_t esz = xt == DType::F32 ? 4 : 2;
#pragma omp parallel for num_threads(num_threads()) schedule(static)
    for (int64_t r0 = 0; r0 < rows; r0 += chunk)
        quantize_ref(static_cast<const char*>(x) + size_t(r0 * ldx) * esz, xt, std::min(chunk, rows - r0), cols, ldx, s,
                     static_cast<char*>(codes) + r0 * ldc, ldc, scales + r0 * ng);
}

namespace {

// Rows [0, rows) of dequantize, one thread; scale hoisted per group so the inner loop is plain.
void dequantizeRows(const void* codes, int64_t rows, int64_t cols, int64_t ldc, const QuantSpec& s,
                    const float* scales, void* out, DType ot, int64_t ldo)
{
    const int64_t G = s.gran == Gran::Group ? std::min(s.group, cols) : cols;
    const int64_t ng = s.gran == Gran::Tensor ? 1 : ceil_div(cols, G);
    const float* t8 = fp8e4m3_table();
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c0 = 0; c0 < cols; c0 += G) {
            const int64_t c1 = std::min(cols, c0 + G);
            const float sc = s.gran == Gran::Tensor ? scales[0] : scales[r * ng + c0 / G];
            const int8_t* ci = static_cast<const int8_t*>(codes) + r * ldc;
            const uint8_t* cu = static_cast<const uint8_t*>(codes) + r * ldc;
            if (ot == DType::F32) {
                float* o = static_cast<float*>(out) + r * ldo;
                if (s.qtype == QType::INT8) for (int64_t c = c0; c < c1; ++c) o[c] = float(ci[c]) * sc;
                else for (int64_t c = c0; c < c1; ++c) o[c] = t8[cu[c]] * sc;
            } else {
                uint16_t* o = static_cast<uint16_t*>(out) + r * ldo;
                if (s.qtype == QType::INT8) for (int64_t c = c0; c < c1; ++c) o[c] = bf16_from_float(float(ci[c]) * sc);
                else for (int64_t c = c0; c < c1; ++c) o[c] = bf16_from_float(t8[cu[c]] * sc);
            }
        }
}

} // namespace

void dequantize(const void* codes, int64_t rows, int64_t cols, int64_t ldc, const QuantSpec& s,
                const float* scales, void* out, DType ot, int64_t ldo)
{
    QB_KCHECK(codes && scales && out, "dequantize", "null pointer");
    QB_KCHECK(rows > 0 && cols > 0 && ldc >= cols && ldo >= cols, "dequantize", "bad shape");
    QB_KCHECK(s.gran != Gran::Group || s.group > 0, "dequantize", "group must be > 0");
    const int64_t ng = s.gran == Gran::Tensor ? 0 : groups_per_row(s.gran, s.group, cols), chunk = 16;
    const size_t osz = ot == DType::F32 ? 4 : 2;
#pragma omp parallel for num_threads(num_threads()) schedule(static) if (rows * cols > (1 << 16))
    for (int64_t r0 = 0; r0 < rows; r0 += chunk)
        dequantizeRows(static_cast<const char*>(codes) + r0 * ldc, std::min(chunk, rows - r0), cols, ldc, s, scales + r0 * ng,
                       static_cast<char*>(out) + size_t(r0 * ldo) * osz, ot, ldo);
}

void fake_quantize(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx, const QuantSpec& s,
                   void* out, DType ot, int64_t ldo)
{
    check("fake_quantize", x, rows, cols, ldx, s, out, ldo, reinterpret_cast<const float*>(out));
    const int64_t chunk = 16, ng = s.gran == Gran::Tensor ? 1 : groups_per_row(s.gran, s.group, cols);
    const size_t esz = xt == DType::F32 ? 4 : 2, osz = ot == DType::F32 ? 4 : 2;
    float tensorScale = 1.0f;
    if (s.gran == Gran::Tensor) {
        float amax = 0.0f;
#pragma omp parallel for num_threads(num_threads()) schedule(static) reduction(max : amax) if (rows * cols > (1 << 16))
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(loadx(x, xt, r * ldx + c)));
        tensorScale = s.qtype == QType::INT8 ? int8_scale(amax, s.int8_divisor) : fp8_scale(amax);
    }
    const bool rowsInt8 = s.qtype == QType::INT8 && (s.gran == Gran::Row || (s.gran == Gran::Group && s.group >= cols)) &&
                          isa() >= Isa::Avx512;
    const int qmin = int8_qmin(s.int8_divisor);
    // Chunks of rows: codes and scales in a small per-chunk buffer, then decoded straight into out.
#pragma omp parallel num_threads(num_threads()) if (rows * cols > (1 << 16))
    {
        std::vector<uint8_t> codes(size_t(chunk * cols));
        std::vector<float> scales(size_t(chunk * ng));
#pragma omp for schedule(static)
        for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
            const int64_t n = std::min(chunk, rows - r0);
            const char* xr = static_cast<const char*>(x) + size_t(r0 * ldx) * esz;
            if (s.gran == Gran::Tensor) {
                scales[0] = tensorScale;
                for (int64_t r = 0; r < n; ++r)
                    for (int64_t c = 0; c < cols; ++c) {
                        const float v = loadx(xr, xt, r * ldx + c);
                        if (s.qtype == QType::INT8) reinterpret_cast<int8_t*>(codes.data())[r * cols + c] = int8_code(v, tensorScale, qmin);
                        else codes[size_t(r * cols + c)] = fp8e4m3_from_float(v / tensorScale);
                    }
            } else if (rowsInt8) {
                for (int64_t r = 0; r < n; ++r)
                    scales[size_t(r)] = avx512::quantize_row_int8(xr + size_t(r * ldx) * esz, xt == DType::BF16, cols, s.int8_divisor,
                                                                  reinterpret_cast<int8_t*>(codes.data()) + r * cols);
            } else {
                quantize_ref(xr, xt, n, cols, ldx, s, codes.data(), cols, scales.data());
            }
            dequantizeRows(codes.data(), n, cols, cols, s, scales.data(), static_cast<char*>(out) + size_t(r0 * ldo) * osz, ot, ldo);
        }
    }
}

void quantize_rows_int8_ref(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx,
                            float divisor, int8_t* codes, int64_t ldc, float* scales)
{
    quantize_ref(x, xt, rows, cols, ldx, QuantSpec{QType::INT8, Gran::Row, 0, divisor}, codes, ldc, scales);
}

void quantize_rows_int8(const void* x, DType xt, int64_t rows, int64_t cols, int64_t ldx,
                        float divisor, int8_t* codes, int64_t ldc, float* scales)
{
    QuantSpec s{QType::INT8, Gran::Row, 0, divisor};
    check("quantize_rows_int8", x, rows, cols, ldx, s, codes, ldc, scales);
    if (isa() < Isa::Avx512) return quantize_rows_int8_ref(x, xt, rows, cols, ldx, divisor, codes, ldc, scales);
#pragma omp parallel for num_threads(num_threads()) schedule(static) if (rows * cols > (1 << 16))
    for (int64_t r = 0; r < rows; ++r) {
        const void* xr = xt == DType::F32 ? static_cast<const void*>(static_cast<const float*>(x) + r * ldx)
                                          : static_cast<const void*>(static_cast<const uint16_t*>(x) + r * ldx);
        scales[r] = avx512::quantize_row_int8(xr, xt == DType::BF16, cols, divisor, codes + r * ldc);
    }
}

} // namespace qb::kernels
