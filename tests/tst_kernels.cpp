// Kernel tests: FP8 codecs against the OCP spec (computed independently here), quantization
// error bounds and granularity ordering, fast paths against the scalar references
// (INT8 GEMM: bit-exact; weight-only GEMM: NMSE = mse(a,b)/mse(a,0) below a per-output bound),
// dense GEMM (bf16 / fp32 weights) against its reference, argument checks. Every fast path (weight-only: GEMV, panel GEMM fp32 / bf16, AVX2 tiles) runs at
// every ISA level this CPU supports (set_isa: AVX-512 with and without BF16, AVX-VNNI, AVX2,
// scalar). The CUDA kernels are tested in tst_kernels_cuda.cpp.
#include <QtTest/QtTest>

#include "kernels/act.h"
#include "kernels/attn.h"
#include "kernels/fp8.h"
#include "kernels/gemm_dense.h"
#include "kernels/gemm_fp8.h"
#include "kernels/gemm_int8.h"
#include "kernels/gemm_int8_onednn.h"
#include "kernels/gemm_wo.h"
#include "kernels/gemv_batch.h"
#include "kernels/quant.h"
#include "kernels_testutil.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace qb::kernels;

namespace {

enum Fmt { E4M3 = 0, E5M2 = 1 };
struct FmtInfo { int eb, mb, bias; uint8_t maxCode, nanCode; bool hasInf; float max; };
FmtInfo info(int f) { return f == E4M3 ? FmtInfo{4, 3, 7, 0x7e, 0x7f, false, 448.f} : FmtInfo{5, 2, 15, 0x7b, 0x7e, true, 57344.f}; }
uint8_t enc(int f, float x) { return f == E4M3 ? fp8e4m3_from_float(x) : fp8e5m2_from_float(x); }
float dec(int f, uint8_t c) { return f == E4M3 ? fp8e4m3_to_float(c) : fp8e5m2_to_float(c); }

// The spec value of a code, from its fields (independent of the codec).
double specValue(int f, int c)
{
    const FmtInfo I = info(f);
    const int e = (c >> I.mb) & ((1 << I.eb) - 1), m = c & ((1 << I.mb) - 1);
    const double sgn = (c & 0x80) ? -1.0 : 1.0;
    if (e == (1 << I.eb) - 1) {
        if (!I.hasInf && m == (1 << I.mb) - 1) return std::numeric_limits<double>::quiet_NaN();
        if (I.hasInf) return m == 0 ? sgn * std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    }
    if (e == 0) return sgn * std::ldexp(double(m), 1 - I.bias - I.mb);
    return sgn * std::ldexp(1.0 + double(m) / double(1 << I.mb), e - I.bias);
}

} // namespace

class TestKernels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void fp8_data();
    void fp8DecodeAll();
    void fp8DecodeAll_data() { fp8_data(); }
    void fp8EncodeRoundTrip();
    void fp8EncodeRoundTrip_data() { fp8_data(); }
    void fp8Midpoints();
    void fp8Midpoints_data() { fp8_data(); }
    void fp8SaturateAndNaN();
    void fp8SaturateAndNaN_data() { fp8_data(); }
    void bf16Rounding();

    void quantErrorBound_data();
    void quantErrorBound();
    void fakeQuantizeEqualsRoundTrip_data() { quantErrorBound_data(); }
    void fakeQuantizeEqualsRoundTrip();
    void granularityOrdering_data();
    void granularityOrdering();
    void partialGroupAndPerRowEquivalence();
    void zeroRows();
    void quantizeParallelMatchesRef();
    void activationQuantizerMatchesRef_data();
    void activationQuantizerMatchesRef();

    void gemmInt8MatchesRef_data();
    void gemmInt8MatchesRef();
    void gemmInt8RefIsExact();
    void gemmInt8OnednnTakesModelShapes();
    void gemmWoMatchesRef_data();
    void gemmWoMatchesRef();
    void gemmWoRefMatchesDequantMatmul();
    void gemmWoDecodesEveryCode();
    void gemmWoRowTasks();
    void gemmWoPrefillPath();
    void gemmDenseMatchesRef_data();
    void gemmDenseMatchesRef();
    void gemmDenseRefIsDoubleDot();
    void gemvBatchEqualsSingleCalls();

    void expWithinTwoUlp();
    void siluMulMatchesRef();
    void rmsNormMatchesRef();
    void ropeMatchesRef();
    void attnDecodeMatchesRef();

    void argumentChecks();
    void isaControl();
};

void TestKernels::fp8_data()
{
    QTest::addColumn<int>("fmt");
    QTest::newRow("e4m3fn") << int(E4M3);
    QTest::newRow("e5m2") << int(E5M2);
}

void TestKernels::fp8DecodeAll()
{
    QFETCH(int, fmt);
    const float* table = fmt == E4M3 ? fp8e4m3_table() : fp8e5m2_table();
    int nans = 0;
    for (int c = 0; c < 256; ++c) {
        const double want = specValue(fmt, c);
        const float got = dec(fmt, uint8_t(c));
        QCOMPARE(std::isnan(got) ? 1 : 0, std::isnan(want) ? 1 : 0);
        nans += std::isnan(got);
        if (!std::isnan(want)) {
            QCOMPARE(double(got), want);
            QCOMPARE(std::signbit(got), bool(c & 0x80));
        }
        QVERIFY(std::memcmp(&table[c], &got, 4) == 0);
    }
    QCOMPARE(nans, fmt == E4M3 ? 2 : 6);
    QCOMPARE(double(dec(fmt, info(fmt).maxCode)), double(info(fmt).max));
}

void TestKernels::fp8EncodeRoundTrip()
{
    QFETCH(int, fmt);
    for (int c = 0; c < 256; ++c) {
        const double v = specValue(fmt, c);
        if (!std::isfinite(v)) continue;
        QCOMPARE(int(enc(fmt, float(v))), c);                  // includes -0.0 -> 0x80
    }
}

void TestKernels::fp8Midpoints()
{
    QFETCH(int, fmt);
    const uint8_t maxc = info(fmt).maxCode;
    for (int c = 0; c < maxc; ++c) {                           // positive magnitudes are monotone in c
        const double lo = specValue(fmt, c), hi = specValue(fmt, c + 1);
        const float mid = float((lo + hi) / 2);                // exact in float32
        QCOMPARE(double(mid), (lo + hi) / 2);
        const int even = (c % 2 == 0) ? c : c + 1;
        QCOMPARE(int(enc(fmt, mid)), even);
        QCOMPARE(int(enc(fmt, -mid)), 0x80 | even);
        QCOMPARE(int(enc(fmt, std::nextafter(mid, 0.0f))), c);
        QCOMPARE(int(enc(fmt, std::nextafter(mid, 1e30f))), c + 1);
        QCOMPARE(int(enc(fmt, -std::nextafter(mid, 1e30f))), 0x80 | (c + 1));
    }
    // Below half the smallest subnormal: zero; the half itself ties to 0.
    const float tiny = float(specValue(fmt, 1));
    QCOMPARE(int(enc(fmt, tiny / 4)), 0);
    QCOMPARE(int(enc(fmt, 1e-30f)), 0);
    QCOMPARE(int(enc(fmt, -1e-30f)), 0x80);
    QCOMPARE(int(enc(fmt, std::numeric_limits<float>::denorm_min())), 0);
}

void TestKernels::fp8SaturateAndNaN()
{
    QFETCH(int, fmt);
    const FmtInfo I = info(fmt);
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    for (float v : {I.max, std::nextafter(I.max, inf), I.max * 1.0625f, I.max * 1.07f, I.max * 2, 1e9f, 3e38f, inf}) {
        QCOMPARE(int(enc(fmt, v)), int(I.maxCode));
        QCOMPARE(int(enc(fmt, -v)), 0x80 | I.maxCode);
    }
    QCOMPARE(int(enc(fmt, 449.0f)), fmt == E4M3 ? 0x7e : int(enc(fmt, 448.0f)));
    QCOMPARE(int(enc(fmt, nan)), int(I.nanCode));
    QCOMPARE(int(enc(fmt, -nan)), 0x80 | I.nanCode);
    QVERIFY(std::isnan(dec(fmt, enc(fmt, nan))));
}

void TestKernels::bf16Rounding()
{
    QCOMPARE(int(bf16_from_float(1.0f)), 0x3f80);
    QCOMPARE(bf16_to_float(bf16_from_float(1.0f + 1.0f / 256)), 1.0f);          // tie -> even
    QCOMPARE(bf16_to_float(bf16_from_float(1.0f + 3.0f / 256)), 1.0f + 4.0f / 256); // tie -> even (up)
    QVERIFY(std::isnan(bf16_to_float(bf16_from_float(std::numeric_limits<float>::quiet_NaN()))));
}

void TestKernels::quantErrorBound_data()
{
    QTest::addColumn<int>("qtype");
    QTest::addColumn<int>("gran");
    QTest::addColumn<int>("group");
    QTest::addColumn<bool>("bf16");
    QTest::addColumn<float>("divisor");
    for (int q : {0, 1})
        for (bool b : {false, true})
            for (auto [g, G, name] : {std::tuple<int, int, const char*>{0, 0, "tensor"}, {1, 0, "row"}, {2, 64, "g64"}, {2, 100, "g100"}}) {
                const QByteArray n = QByteArray(q ? "fp8-" : "int8-") + name + (b ? "-bf16" : "-f32");
                QTest::newRow(n.constData()) << q << g << G << b << 127.0f;
                if (q == 0) QTest::newRow((n + "-d127.5").constData()) << q << g << G << b << 127.5f;
            }
}

void TestKernels::quantErrorBound()
{
    QFETCH(int, qtype); QFETCH(int, gran); QFETCH(int, group); QFETCH(bool, bf16); QFETCH(float, divisor);
    const int64_t rows = 9, cols = 333, ldx = 340, ldc = 350;
    auto xf = randn(size_t(rows * ldx), 7);
    for (int64_t r = 0; r < rows; r += 3) xf[size_t(r * ldx + (r * 37) % cols)] = 40.0f;  // outliers
    std::vector<uint16_t> xb = toBf16(xf);
    std::vector<float> xv(xf.size());
    for (size_t i = 0; i < xf.size(); ++i) xv[i] = bf16 ? bf16_to_float(xb[i]) : xf[i];
    const void* x = bf16 ? static_cast<const void*>(xb.data()) : static_cast<const void*>(xf.data());
    QuantSpec s{QType(qtype), Gran(gran), group, divisor};
    const int64_t ns = num_scales(s, rows, cols);
    QCOMPARE(ns, gran == 0 ? int64_t(1) : gran == 1 ? rows : rows * ((cols + group - 1) / group));
    std::vector<uint8_t> codes(static_cast<size_t>(rows * ldc)), codesRef(codes.size());
    std::vector<float> scales(static_cast<size_t>(ns)), scalesRef(static_cast<size_t>(ns)), out(static_cast<size_t>(rows * cols));
    quantize(x, bf16 ? DType::BF16 : DType::F32, rows, cols, ldx, s, codes.data(), ldc, scales.data());
    quantize_ref(x, bf16 ? DType::BF16 : DType::F32, rows, cols, ldx, s, codesRef.data(), ldc, scalesRef.data());
    for (int64_t r = 0; r < rows; ++r)
        QVERIFY(std::memcmp(codes.data() + r * ldc, codesRef.data() + r * ldc, size_t(cols)) == 0);
    QVERIFY(std::memcmp(scales.data(), scalesRef.data(), scales.size() * 4) == 0);
    dequantize(codes.data(), rows, cols, ldc, s, scales.data(), out.data(), DType::F32, cols);
    const int64_t ng = gran == 0 ? 1 : ns / rows;
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            const float sc = gran == 0 ? scales[0] : scales[size_t(r * ng + (gran == 2 ? c / group : 0))];
            const float v = xv[size_t(r * ldx + c)], d = out[size_t(r * cols + c)];
            if (qtype == 0) {
                // |x/s - q| <= 1/2; the float rounding of s = amax/divisor adds ~|x| 2^-23 (with divisor
                // 127.5, +amax maps to 127.5 -> clamped to 127, exactly at the bound).
                QVERIFY2(std::fabs(v - d) <= sc * 0.5f + std::fabs(v) * 1e-6f, qPrintable(QString::number(r) + "," + QString::number(c)));
                const int code = int8_t(codes[size_t(r * ldc + c)]);
                QVERIFY(code >= int8_qmin(divisor) && code <= 127);
            } else {
                const float t = std::fabs(v / sc);
                if (t >= 1.0f / 64) QVERIFY(std::fabs(v - d) <= std::fabs(v) * 0.0625f * (1 + 1e-5f));
                else QVERIFY(std::fabs(v - d) <= sc * std::ldexp(1.0f, -10) * (1 + 1e-5f));
            }
        }
}

// fake_quantize (fused, chunked, threaded) == dequantize(quantize(x)) to the bit, f32 and bf16 out,
// on a shape large enough for the threaded paths, with strides and outlier rows.
void TestKernels::fakeQuantizeEqualsRoundTrip()
{
    QFETCH(int, qtype); QFETCH(int, gran); QFETCH(int, group); QFETCH(bool, bf16); QFETCH(float, divisor);
    const int64_t rows = 301, cols = 333, ldx = 340, ldo = 345;
    auto xf = randn(size_t(rows * ldx), 9);
    for (int64_t r = 0; r < rows; r += 7) xf[size_t(r * ldx + (r * 37) % cols)] = 40.0f * float(1 + r % 5);
    for (int64_t c = 0; c < cols; ++c) xf[size_t(5 * ldx + c)] = 0.0f;                  // a zero row
    std::vector<uint16_t> xb = toBf16(xf);
    const void* x = bf16 ? static_cast<const void*>(xb.data()) : static_cast<const void*>(xf.data());
    const DType xt = bf16 ? DType::BF16 : DType::F32;
    QuantSpec s{QType(qtype), Gran(gran), group, divisor};
    std::vector<uint8_t> codes(size_t(rows * cols));
    std::vector<float> scales(size_t(num_scales(s, rows, cols)));
    quantize(x, xt, rows, cols, ldx, s, codes.data(), cols, scales.data());
    for (DType ot : {DType::F32, DType::BF16}) {
        const size_t osz = ot == DType::F32 ? 4 : 2;
        std::vector<uint8_t> ref(size_t(rows * ldo) * osz, 0xAB), got(ref.size(), 0xAB);
        dequantize(codes.data(), rows, cols, cols, s, scales.data(), ref.data(), ot, ldo);
        fake_quantize(x, xt, rows, cols, ldx, s, got.data(), ot, ldo);
        QVERIFY(ref == got);                                     // padding between rows untouched too
    }
}

void TestKernels::granularityOrdering_data()
{
    QTest::addColumn<int>("qtype");
    QTest::newRow("int8") << 0;
    QTest::newRow("fp8") << 1;
}

void TestKernels::granularityOrdering()
{
    QFETCH(int, qtype);
    const int64_t rows = 64, cols = 2048;
    auto x = randn(size_t(rows * cols), 11);
    std::mt19937 rng(5);
    for (int64_t r = 0; r < rows / 2; ++r)                        // half the rows carry 3 outliers
        for (int o = 0; o < 3; ++o) x[size_t(r * cols + int64_t(rng() % cols))] = (o % 2 ? -1.f : 1.f) * 200.0f * float(1 + r);
    std::vector<double> mse;
    std::vector<QuantSpec> specs = {{QType(qtype), Gran::Tensor, 0}, {QType(qtype), Gran::Row, 0}};
    for (int G : {512, 256, 128, 64}) specs.push_back({QType(qtype), Gran::Group, G});
    for (const auto& s : specs) {
        std::vector<uint8_t> codes(static_cast<size_t>(rows * cols));
        std::vector<float> sc(static_cast<size_t>(num_scales(s, rows, cols))), out(static_cast<size_t>(rows * cols));
        quantize(x.data(), DType::F32, rows, cols, cols, s, codes.data(), cols, sc.data());
        dequantize(codes.data(), rows, cols, cols, s, sc.data(), out.data(), DType::F32, cols);
        double e = 0;
        for (size_t i = 0; i < x.size(); ++i) e += double(x[i] - out[i]) * (x[i] - out[i]);
        mse.push_back(e / double(x.size()));
    }
    for (size_t i = 1; i < mse.size(); ++i)
        QVERIFY2(mse[i] < mse[i - 1], qPrintable(QStringLiteral("granularity %1: %2 !< %3").arg(i).arg(mse[i]).arg(mse[i - 1])));
}

void TestKernels::partialGroupAndPerRowEquivalence()
{
    const int64_t rows = 3, cols = 100;
    auto x = randn(size_t(rows * cols), 3);
    for (int q : {0, 1}) {
        QuantSpec g64{QType(q), Gran::Group, 64}, row{QType(q), Gran::Row, 0}, gbig{QType(q), Gran::Group, 100}, ghuge{QType(q), Gran::Group, 4096};
        QCOMPARE(num_scales(g64, rows, cols), rows * 2);
        std::vector<uint8_t> c1(static_cast<size_t>(rows * cols)), c2(c1.size()), c3(c1.size());
        std::vector<float> s1(static_cast<size_t>(rows * 2)), s2(static_cast<size_t>(rows)), s3(static_cast<size_t>(rows));
        quantize(x.data(), DType::F32, rows, cols, cols, g64, c1.data(), cols, s1.data());
        for (int64_t r = 0; r < rows; ++r) {                   // partial last group: columns 64..99
            float amax = 0;
            for (int64_t c = 64; c < cols; ++c) amax = std::max(amax, std::fabs(x[size_t(r * cols + c)]));
            QCOMPARE(s1[size_t(r * 2 + 1)], q == 0 ? amax / 127.0f : amax / 448.0f);
        }
        quantize(x.data(), DType::F32, rows, cols, cols, row, c2.data(), cols, s2.data());
        for (const auto& gs : {gbig, ghuge}) {
            QCOMPARE(num_scales(gs, rows, cols), rows);
            quantize_ref(x.data(), DType::F32, rows, cols, cols, gs, c3.data(), cols, s3.data());
            QVERIFY(c2 == c3);
            QVERIFY(s2 == s3);
        }
    }
}

void TestKernels::zeroRows()
{
    const int64_t rows = 4, cols = 70;
    std::vector<float> x(static_cast<size_t>(rows * cols), 0.0f);
    for (int64_t c = 0; c < cols; ++c) x[size_t(2 * cols + c)] = float(c) - 30.0f;
    for (int q : {0, 1})
        for (auto s : {QuantSpec{QType(q), Gran::Row, 0}, QuantSpec{QType(q), Gran::Group, 32}}) {
            std::vector<uint8_t> codes(static_cast<size_t>(rows * cols), 0xAA);
            std::vector<float> sc(static_cast<size_t>(num_scales(s, rows, cols)), -1.0f);
            quantize(x.data(), DType::F32, rows, cols, cols, s, codes.data(), cols, sc.data());
            const int64_t ng = int64_t(sc.size()) / rows;
            for (int64_t r : {0, 1, 3}) {
                for (int64_t g = 0; g < ng; ++g) QCOMPARE(sc[size_t(r * ng + g)], 1.0f);
                for (int64_t c = 0; c < cols; ++c) QCOMPARE(int(codes[size_t(r * cols + c)]), 0);
            }
        }
}

void TestKernels::quantizeParallelMatchesRef()
{
    // Large enough for the row-parallel dispatcher; rows not a multiple of its chunk.
    const int64_t rows = 301, cols = 520;
    auto x = randn(size_t(rows * cols), 17);
    auto xb = toBf16(x);
    for (auto s : {QuantSpec{QType::FP8_E4M3, Gran::Group, 64}, QuantSpec{QType::INT8, Gran::Group, 128, 127.5f},
                   QuantSpec{QType::FP8_E4M3, Gran::Row, 0}, QuantSpec{QType::INT8, Gran::Tensor, 0}})
        for (bool bf : {false, true}) {
            const void* xp = bf ? static_cast<const void*>(xb.data()) : static_cast<const void*>(x.data());
            const DType t = bf ? DType::BF16 : DType::F32;
            std::vector<uint8_t> c1(size_t(rows * cols)), c2(c1.size());
            std::vector<float> s1(static_cast<size_t>(num_scales(s, rows, cols))), s2(s1.size());
            quantize(xp, t, rows, cols, cols, s, c1.data(), cols, s1.data());
            quantize_ref(xp, t, rows, cols, cols, s, c2.data(), cols, s2.data());
            QVERIFY(c1 == c2);
            QVERIFY(std::memcmp(s1.data(), s2.data(), s1.size() * 4) == 0);
        }
}

void TestKernels::activationQuantizerMatchesRef_data()
{
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<bool>("bf16");
    QTest::addColumn<float>("divisor");
    for (auto [r, c] : {std::pair{1, 1}, {3, 15}, {5, 17}, {16, 4096}, {7, 1000}})
        for (bool b : {false, true})
            for (float d : {127.0f, 127.5f})
                QTest::newRow(qPrintable(QStringLiteral("%1x%2%3-d%4").arg(r).arg(c).arg(b ? "-bf16" : "").arg(d))) << r << c << b << d;
}

void TestKernels::activationQuantizerMatchesRef()
{
    QFETCH(int, rows); QFETCH(int, cols); QFETCH(bool, bf16); QFETCH(float, divisor);
    auto xf = randn(size_t(rows * cols), uint32_t(rows * 31 + cols), 3.0f);
    if (rows > 2) std::fill(xf.begin() + cols, xf.begin() + 2 * cols, 0.0f);   // a zero row
    auto xb = toBf16(xf);
    const void* x = bf16 ? static_cast<const void*>(xb.data()) : static_cast<const void*>(xf.data());
    std::vector<int8_t> c1(static_cast<size_t>(rows * cols)), c2(c1.size());
    std::vector<float> s1(static_cast<size_t>(rows)), s2(static_cast<size_t>(rows));
    const DType t = bf16 ? DType::BF16 : DType::F32;
    quantize_rows_int8(x, t, rows, cols, cols, divisor, c1.data(), cols, s1.data());
    quantize_rows_int8_ref(x, t, rows, cols, cols, divisor, c2.data(), cols, s2.data());
    QVERIFY(c1 == c2);
    QVERIFY(std::memcmp(s1.data(), s2.data(), s1.size() * 4) == 0);
}

void TestKernels::gemmInt8MatchesRef_data()
{
    QTest::addColumn<int>("M");
    QTest::addColumn<int>("N");
    QTest::addColumn<int>("K");
    QTest::addColumn<int>("gran");
    QTest::addColumn<int>("group");
    QTest::addColumn<bool>("xPerTensor");
    QTest::addColumn<bool>("bias");
    QTest::addColumn<bool>("wMin");   // W holds -128 (the AVX2 sign-trick kernel then gives way)
    struct S { int M, N, K; };
    for (S s : {S{1, 1, 1}, S{1, 16, 64}, S{2, 300, 512}, S{3, 17, 5}, S{5, 33, 100}, S{7, 50, 129}, S{16, 64, 256}, S{33, 47, 300}, S{130, 70, 515},
                S{300, 192, 896}})   // the last: oneDNN's prefill-size blocking
        for (auto [g, G] : {std::pair{1, 0}, {2, 32}, {2, 64}, {2, 128}, {2, 1000}, {0, 0}, {2, 12}, {2, 7}})
            for (bool pt : {false, true})
                for (bool wmin : {true, false}) {
                    const bool bias = (s.M + g + G) % 2 == 0;
                    QTest::newRow(qPrintable(QStringLiteral("%1x%2x%3-g%4:%5%6%7%8").arg(s.M).arg(s.N).arg(s.K).arg(g).arg(G)
                                                 .arg(pt ? "-xt" : "").arg(bias ? "-b" : "").arg(wmin ? "" : "-w127")))
                        << s.M << s.N << s.K << g << G << pt << bias << wmin;
                }
}

void TestKernels::gemmInt8MatchesRef()
{
    QFETCH(int, M); QFETCH(int, N); QFETCH(int, K); QFETCH(int, gran); QFETCH(int, group); QFETCH(bool, xPerTensor); QFETCH(bool, bias);
    QFETCH(bool, wMin);
    const int64_t ldx = K + 3, ldw = K + 5, ldy = N + 2;
    auto x = randi8(size_t(M * ldx), uint32_t(M * 7 + K));
    auto w = randi8(size_t(N * ldw), uint32_t(N * 13 + K), wMin ? -128 : -127);
    if (M > 2) std::fill(x.begin(), x.begin() + ldx, int8_t(-128));           // extreme codes
    if (N > 2) std::fill(w.begin(), w.begin() + ldw, int8_t(wMin ? -128 : -127));
    if (M > 3 && N > 3) {                                                    // 127 x -128 and -128 x 127
        std::fill(x.begin() + ldx, x.begin() + 2 * ldx, int8_t(127));
        std::fill(w.begin() + ldw, w.begin() + 2 * ldw, int8_t(127));
    }
    const int64_t ng = gran == 2 && group < K ? (K + group - 1) / group : 1;
    auto xs = randn(size_t(M), 1), ws = randn(size_t(N * ng), 2), bv = randn(size_t(N), 3);
    for (auto& v : xs) v = std::fabs(v) * 0.01f + 1e-4f;
    for (auto& v : ws) v = std::fabs(v) * 0.01f + 1e-4f;
    Int8GemmArgs a;
    a.M = M; a.N = N; a.K = K; a.x = x.data(); a.ldx = ldx; a.x_scales = xs.data(); a.x_per_tensor = xPerTensor;
    a.w = w.data(); a.ldw = ldw; a.w_scales = ws.data(); a.w_gran = Gran(gran); a.group = group;
    a.bias = bias ? bv.data() : nullptr; a.ldy = ldy;
    std::vector<float> y2(static_cast<size_t>(M * ldy), 7.0f);
    a.y = y2.data();
    gemm_int8_ref(a);
    const PackedInt8Weight p = pack_int8_weight(w.data(), N, K, ldw, ws.data(), Gran(gran), group);
    if (!wMin) QVERIFY(!p.has_min);                 // the sign-trick kernel runs (AVX2 level)
    if (wMin && N > 2) QVERIFY(p.has_min);          // the vpmaddwd kernel runs
    for (Isa level : {Isa::Avx512, Isa::AvxVnni, Isa::Avx2, Isa::Scalar}) {
        if (!cpu_supports(level)) continue;
        set_isa(level);
        std::vector<float> y1(y2.size(), 7.0f), y3(y2.size(), 7.0f);
        a.y = y1.data();
        gemm_int8(a);
        a.y = y3.data();
        gemm_int8_packed(p, a);
        reset_isa();
        // Bit-identical, padding columns untouched too.
        QVERIFY2(std::memcmp(y1.data(), y2.data(), y1.size() * 4) == 0, isa_name(level));
        QVERIFY2(std::memcmp(y3.data(), y2.data(), y3.size() * 4) == 0, isa_name(level));
    }
    // oneDNN's int32 sums + our epilogue (per-tensor / per-row weights): bit-identical as well, float32
    // and bf16 (= the reference rounded to nearest even) outputs, at every level that enables it.
    if (gran == 2) return;
    const OnednnInt8WeightPtr od = onednn_pack_int8(w.data(), N, K, ldw, ws.data(), Gran(gran));
    if (!od) return; // unavailable, or no fast oneDNN kernel for this (small) shape: gemm_int8 runs
    QVERIFY(onednn_weight_bytes(*od) >= size_t(N * K));
    for (Isa level : {Isa::Avx512Bf16, Isa::Avx512, Isa::AvxVnni}) {
        if (!cpu_supports(level)) continue;
        set_isa(level);
        std::vector<float> y4(y2.size(), 7.0f);
        std::vector<uint16_t> b4(y2.size(), 0x4040);
        gemm_int8_onednn(*od, a, y4.data(), DType::F32, ldy);
        gemm_int8_onednn(*od, a, b4.data(), DType::BF16, ldy);
        reset_isa();
        for (size_t i = 0; i < y4.size(); ++i)
            if (std::memcmp(&y4[i], &y2[i], 4) != 0)
                QFAIL(qPrintable(QStringLiteral("%1: y[%2][%3] = %4, reference %5").arg(isa_name(level)).arg(i / size_t(ldy))
                                     .arg(i % size_t(ldy)).arg(double(y4[i]), 0, 'g', 9).arg(double(y2[i]), 0, 'g', 9)));
        for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < ldy; ++n) {
                const size_t i = size_t(m * ldy + n);
                QCOMPARE(b4[i], n < N ? bf16_from_float(y2[i]) : uint16_t(0x4040));
            }
    }
}

void TestKernels::gemmInt8OnednnTakesModelShapes()
{
    // Where oneDNN is built in and has an int8 dot-product ISA, the decoder's shapes (qwen2.5-0.5b:
    // q/o 896x896, k/v 128x896, gate/up 4864x896, down 896x4864) get its packed layout, and decode /
    // prefill row counts give the reference's bits.
    if (!onednn_int8_available())
        QSKIP(qPrintable(QString::fromStdString("oneDNN int8 path not available here: " + onednn_info())));
    struct S { int N, K; };
    for (S s : {S{896, 896}, S{128, 896}, S{4864, 896}, S{896, 4864}}) {
        auto w = randi8(size_t(s.N * s.K), uint32_t(s.N + s.K));
        auto ws = randn(size_t(s.N), 5);
        for (auto& v : ws) v = std::fabs(v) * 0.01f + 1e-4f;
        const OnednnInt8WeightPtr od = onednn_pack_int8(w.data(), s.N, s.K, s.K, ws.data(), Gran::Row);
        QVERIFY2(od, qPrintable(QStringLiteral("%1x%2 not packed (%3)").arg(s.N).arg(s.K).arg(QString::fromStdString(onednn_info()))));
        if (s.N != 4864) continue;
        for (int M : {1, 64}) {
            auto x = randi8(size_t(M * s.K), uint32_t(M));
            auto xs = randn(size_t(M), 6);
            for (auto& v : xs) v = std::fabs(v) * 0.01f + 1e-4f;
            Int8GemmArgs a;
            a.M = M; a.N = s.N; a.K = s.K; a.x = x.data(); a.ldx = s.K; a.x_scales = xs.data(); a.w = w.data(); a.ldw = s.K;
            a.w_scales = ws.data(); a.w_gran = Gran::Row; a.ldy = s.N;
            std::vector<float> want(size_t(M * s.N)), got(want.size());
            a.y = want.data();
            gemm_int8_ref(a);
            gemm_int8_onednn(*od, a, got.data(), DType::F32, s.N);
            QVERIFY2(std::memcmp(want.data(), got.data(), want.size() * 4) == 0, qPrintable(QStringLiteral("M=%1").arg(M)));
        }
    }
}

void TestKernels::gemmInt8RefIsExact()
{
    // The reference against int64 arithmetic: one group, unit scales -> y = exact integer dot.
    const int M = 3, N = 5, K = 4000;
    auto x = randi8(size_t(M * K), 1), w = randi8(size_t(N * K), 2);
    std::vector<float> ones(static_cast<size_t>(std::max(M, N)), 1.0f), y(static_cast<size_t>(M * N));
    Int8GemmArgs a;
    a.M = M; a.N = N; a.K = K; a.x = x.data(); a.ldx = K; a.x_scales = ones.data();
    a.w = w.data(); a.ldw = K; a.w_scales = ones.data(); a.y = y.data(); a.ldy = N;
    gemm_int8(a);
    for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
            int64_t s = 0;
            for (int k = 0; k < K; ++k) s += int64_t(x[size_t(m * K + k)]) * w[size_t(n * K + k)];
            QCOMPARE(double(y[size_t(m * N + n)]), double(float(s)));
        }
}

void TestKernels::gemmWoMatchesRef_data()
{
    QTest::addColumn<int>("M");
    QTest::addColumn<int>("N");
    QTest::addColumn<int>("K");
    QTest::addColumn<int>("qtype");
    QTest::addColumn<int>("gran");
    QTest::addColumn<int>("group");
    QTest::addColumn<bool>("xbf16");
    QTest::addColumn<bool>("ybf16");
    struct S { int M, N, K; };
    for (S s : {S{1, 1, 1}, S{1, 37, 100}, S{1, 256, 1024}, S{2, 40, 96}, S{3, 19, 77}, S{4, 129, 300}, S{5, 64, 512},
                S{6, 3, 1}, S{16, 200, 384}, S{17, 33, 130}, S{33, 130, 200}, S{520, 70, 48}})
        for (int q : {0, 1})
            for (auto [g, G] : {std::pair{1, 0}, {2, 64}, {2, 128}, {0, 0}, {2, 24}, {2, 7}, {2, 320}})
                for (auto [xb, yb] : {std::pair{false, false}, {true, false}, {true, true}})
                    QTest::newRow(qPrintable(QStringLiteral("%1x%2x%3-%4-g%5:%6%7%8").arg(s.M).arg(s.N).arg(s.K).arg(q ? "fp8" : "int8")
                                                 .arg(g).arg(G).arg(xb ? "-xbf16" : "").arg(yb ? "-ybf16" : "")))
                        << s.M << s.N << s.K << q << g << G << xb << yb;
}

void TestKernels::gemmWoMatchesRef()
{
    QFETCH(int, M); QFETCH(int, N); QFETCH(int, K); QFETCH(int, qtype); QFETCH(int, gran); QFETCH(int, group);
    QFETCH(bool, xbf16); QFETCH(bool, ybf16);
    auto wf = randn(size_t(N * K), uint32_t(N + K), 0.05f);
    QuantSpec qs{QType(qtype), Gran(gran), group};
    const int64_t ldw = K + 3, ldx = K + 2, ldy = N + 1;   // strided W, X and Y
    std::vector<uint8_t> codes(static_cast<size_t>(N * ldw), 0x7f);   // padding: E4M3 NaN / INT8 127
    std::vector<float> ws(static_cast<size_t>(num_scales(qs, N, K)));
    quantize(wf.data(), DType::F32, N, K, K, qs, codes.data(), ldw, ws.data());
    auto xf = randn(size_t(M * ldx), uint32_t(M + 3 * K));
    for (int64_t m = 0; m < M; ++m)                          // a read past K would poison y
        for (int64_t k = K; k < ldx; ++k) xf[size_t(m * ldx + k)] = std::numeric_limits<float>::quiet_NaN();
    auto xb = toBf16(xf);
    auto bias = randn(size_t(N), 9);
    WoGemmArgs a;
    a.M = M; a.N = N; a.K = K; a.x = xbf16 ? static_cast<const void*>(xb.data()) : static_cast<const void*>(xf.data());
    a.x_type = xbf16 ? DType::BF16 : DType::F32; a.ldx = ldx;
    a.w = codes.data(); a.w_type = QType(qtype); a.ldw = ldw; a.w_scales = ws.data(); a.w_gran = Gran(gran); a.group = group;
    a.bias = (M + N) % 2 ? bias.data() : nullptr; a.y_type = ybf16 ? DType::BF16 : DType::F32; a.ldy = ldy;
    std::vector<float> y2(static_cast<size_t>(M * ldy), 3.0f);
    std::vector<uint16_t> b2(y2.size(), 0x4040);
    a.y = ybf16 ? static_cast<void*>(b2.data()) : static_cast<void*>(y2.data());
    gemm_wo_ref(a);
    if (ybf16)
        for (size_t i = 0; i < y2.size(); ++i) y2[i] = bf16_to_float(b2[i]);
    // Every fast path: GEMV (M <= 4) and panel GEMM (fp32 FMA, and vdpbf16ps for bf16 X with
    // AVX512_BF16), AVX2 tiles.
    for (Isa level : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2}) {
        if (!cpu_supports(level)) continue;
        set_isa(level);
        std::vector<float> y1(y2.size(), 3.0f);
        std::vector<uint16_t> b1(y2.size(), 0x4040);
        a.y = ybf16 ? static_cast<void*>(b1.data()) : static_cast<void*>(y1.data());
        gemm_wo(a);
        reset_isa();
        if (ybf16)
            for (size_t i = 0; i < y1.size(); ++i) y1[i] = bf16_to_float(b1[i]);
        // float32 summation order: NMSE ~ K * 2^-48; bf16 output: at most one bf16 ulp (2^-8) apart.
        const double tol = ybf16 ? 1e-4 : 1e-10;
        const double e = nmse(y2, y1);
        QVERIFY2(e < tol, qPrintable(QStringLiteral("%1: NMSE %2").arg(isa_name(level)).arg(e)));
        for (int64_t m = 0; m < M; ++m)                      // padding column untouched
            QCOMPARE(y1[size_t(m * ldy + N)], 3.0f);
    }
    // The oneDNN prefill path (bf16 X; gemm_wo routes M >= 16 there by policy), at every M.
    if (xbf16 && wo_onednn_available()) {
        std::vector<float> y1(y2.size(), 3.0f);
        std::vector<uint16_t> b1(y2.size(), 0x4040);
        a.y = ybf16 ? static_cast<void*>(b1.data()) : static_cast<void*>(y1.data());
        gemm_wo_onednn(a);
        if (ybf16)
            for (size_t i = 0; i < y1.size(); ++i) y1[i] = bf16_to_float(b1[i]);
        const double e = nmse(y2, y1);
        QVERIFY2(e < (ybf16 ? 1e-4 : 1e-10), qPrintable(QStringLiteral("oneDNN: NMSE %1").arg(e)));
        for (int64_t m = 0; m < M; ++m)
            QCOMPARE(y1[size_t(m * ldy + N)], 3.0f);
    }
}

void TestKernels::gemmWoRefMatchesDequantMatmul()
{
    const int M = 4, N = 24, K = 200;
    for (int q : {0, 1}) {
        auto wf = randn(size_t(N * K), 4, 0.1f), x = randn(size_t(M * K), 5);
        QuantSpec qs{QType(q), Gran::Group, 64};
        std::vector<uint8_t> codes(static_cast<size_t>(N * K));
        std::vector<float> ws(static_cast<size_t>(num_scales(qs, N, K))), wd(static_cast<size_t>(N * K)), y(static_cast<size_t>(M * N));
        quantize(wf.data(), DType::F32, N, K, K, qs, codes.data(), K, ws.data());
        dequantize(codes.data(), N, K, K, qs, ws.data(), wd.data(), DType::F32, K);
        WoGemmArgs a;
        a.M = M; a.N = N; a.K = K; a.x = x.data(); a.ldx = K; a.w = codes.data(); a.w_type = QType(q); a.ldw = K;
        a.w_scales = ws.data(); a.w_gran = Gran::Group; a.group = 64; a.y = y.data(); a.ldy = N;
        gemm_wo_ref(a);
        std::vector<float> want(y.size());
        for (int m = 0; m < M; ++m)
            for (int n = 0; n < N; ++n) {
                double s = 0;
                for (int k = 0; k < K; ++k) s += double(x[size_t(m * K + k)]) * wd[size_t(n * K + k)];
                want[size_t(m * N + n)] = float(s);
            }
        QVERIFY(nmse(want, y) < 1e-10);
    }
}

void TestKernels::gemmWoDecodesEveryCode()
{
    // W row n holds code n at k = 5 (zeros elsewhere), X is one-hot at k = 5: y[m][n] must be
    // exactly decode(code) * scale on every path (GEMV M = 1, panel GEMM M = 8 fp32 and bf16 X).
    const int K = 40, N = 256;
    for (int q : {0, 1})
        for (bool xbf16 : {false, true})
            for (int M : {1, 8}) {
                std::vector<uint8_t> w(size_t(N * K), 0);
                for (int n = 0; n < N; ++n) w[size_t(n * K + 5)] = uint8_t(n);
                if (q == 1) { w[size_t(0x7f * K + 5)] = 0; w[size_t(0xff * K + 5)] = 0; }   // E4M3 NaN codes
                std::vector<float> xf(size_t(M * K), 0.0f), ws(1, 0.5f), y(size_t(M * N));
                for (int m = 0; m < M; ++m) xf[size_t(m * K + 5)] = 1.0f;
                auto xb = toBf16(xf);
                WoGemmArgs a;
                a.M = M; a.N = N; a.K = K; a.x = xbf16 ? static_cast<const void*>(xb.data()) : static_cast<const void*>(xf.data());
                a.x_type = xbf16 ? DType::BF16 : DType::F32; a.ldx = K; a.w = w.data(); a.w_type = QType(q); a.ldw = K;
                a.w_scales = ws.data(); a.w_gran = Gran::Tensor; a.y = y.data(); a.ldy = N;
                // Scalar last: after it, the oneDNN path (bf16 X) as one more level.
                for (int level = int(Isa::Avx512Bf16); level >= -1; --level) {
                    if (level < 0 && (!xbf16 || !wo_onednn_available())) continue;
                    if (level >= 0 && !cpu_supports(Isa(level))) continue;
                    std::fill(y.begin(), y.end(), -1.0f);
                    if (level < 0) {
                        gemm_wo_onednn(a);
                    } else {
                        set_isa(Isa(level));
                        gemm_wo(a);
                        reset_isa();
                    }
                    for (int m = 0; m < M; ++m)
                        for (int n = 0; n < N; ++n) {
                            const uint8_t c = w[size_t(n * K + 5)];
                            const float want = (q == 0 ? float(int8_t(c)) : fp8e4m3_to_float(c)) * 0.5f;
                            if (y[size_t(m * N + n)] != want)
                                QFAIL(qPrintable(QStringLiteral("%1 q%2 M%3 code 0x%4: %5 != %6")
                                                     .arg(level < 0 ? "onednn" : isa_name(Isa(level))).arg(q).arg(M)
                                                     .arg(int(c), 2, 16, QChar('0')).arg(y[size_t(m * N + n)]).arg(want)));
                        }
                }
            }
}

void TestKernels::gemmWoRowTasks()
{
    // Blocks of rows of the AVX-512 weight-only GEMM: never more than 512 rows per block, one block
    // where the column panels alone split evenly, more where they do not (7 panels on 2 threads).
    for (int64_t M : {5, 16, 100, 512, 513, 2048, 4096})
        for (int64_t panels : {1, 2, 7, 38})
            for (int threads : {1, 2, 16}) {
                const int64_t b = gemm_wo_row_tasks(M, panels, threads);
                QVERIFY(b >= 1 && b <= M);
                QVERIFY2((M + b - 1) / b <= 512, qPrintable(QStringLiteral("M %1: %2 blocks").arg(M).arg(b)));
            }
    QCOMPARE(gemm_wo_row_tasks(512, 38, 2), int64_t(1));
    QCOMPARE(gemm_wo_row_tasks(512, 16, 2), int64_t(1));
    QCOMPARE(gemm_wo_row_tasks(512, 7, 2), int64_t(2));
    QCOMPARE(gemm_wo_row_tasks(512, 1, 16), int64_t(16));   // one panel: rows feed the threads
    QCOMPARE(gemm_wo_row_tasks(2048, 38, 1), int64_t(4));   // 512 rows at most
}

// Which prefill implementation gemm_wo takes: ours below wo_onednn_min_rows(), for fp32 X and when
// told (Kernels) or forced to a lower ISA; oneDNN when told and available; Auto: oneDNN only where
// oneDNN runs AMX. And gemm_wo really routes there: its result equals gemm_wo_onednn's to the bit.
void TestKernels::gemmWoPrefillPath()
{
    const int64_t M = 24, N = 80, K = 96;
    auto wf = randn(size_t(N * K), 3, 0.05f);
    QuantSpec qs{QType::INT8, Gran::Row, 0};
    std::vector<uint8_t> codes(size_t(N * K));
    std::vector<float> ws(static_cast<size_t>(N));
    quantize(wf.data(), DType::F32, N, K, K, qs, codes.data(), K, ws.data());
    auto xb = toBf16(randn(size_t(M * K), 4));
    std::vector<uint16_t> y1(size_t(M * N)), y2(y1.size());
    WoGemmArgs a;
    a.M = M; a.N = N; a.K = K; a.x = xb.data(); a.x_type = DType::BF16; a.ldx = K;
    a.w = codes.data(); a.ldw = K; a.w_scales = ws.data(); a.w_gran = Gran::Row; a.y_type = DType::BF16; a.ldy = N;
    const WoPath before = wo_path();
    const bool avail = wo_onednn_available(), amx = onednn_info().find("amx") != std::string::npos;
    set_wo_path(WoPath::Kernels);
    QVERIFY(!wo_uses_onednn(a));
    set_wo_path(WoPath::Auto);
    QCOMPARE(wo_uses_onednn(a), avail && amx);
    set_wo_path(WoPath::Onednn);
    QCOMPARE(wo_uses_onednn(a), avail);
    QCOMPARE(wo_prefill_onednn(), avail);
    WoGemmArgs few = a;
    few.M = wo_onednn_min_rows() - 1;
    QVERIFY(!wo_uses_onednn(few));
    WoGemmArgs xf = a;
    xf.x_type = DType::F32;
    QVERIFY(!wo_uses_onednn(xf));
    if (cpu_supports(Isa::Avx2)) {
        set_isa(Isa::Avx2);
        QVERIFY(!wo_uses_onednn(a));
        reset_isa();
    }
    if (avail) {
        a.y = y1.data();
        gemm_wo(a);
        a.y = y2.data();
        gemm_wo_onednn(a);
        QVERIFY(y1 == y2);
    } else {
        a.y = y1.data();
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gemm_wo_onednn(a));
    }
    set_wo_path(before);
}

// exp_f32_ref against double exp: every 509th float pattern in [-104, 89] (about 4 million
// values, both signs, subnormal results included), within 2 ulp; overflow to inf, underflow to 0,
// NaN kept, exp(0) = 1.
void TestKernels::expWithinTwoUlp()
{
    auto bits = [](float f) { int32_t i; std::memcpy(&i, &f, 4); return i < 0 ? int32_t(0x80000000u) - i : i; };   // monotone
    int64_t worst = 0, n = 0;
    float worstX = 0;
    for (uint32_t b = 0; b < 0xff800000u; b += 509) {
        float x; std::memcpy(&x, &b, 4);
        if (!(x >= -104.0f && x <= 88.7f)) continue;
        const double want = std::exp(double(x));
        const float wf = float(want);
        const int64_t d = std::abs(int64_t(bits(exp_f32_ref(x))) - int64_t(bits(wf)));
        if (d > worst) { worst = d; worstX = x; }
        ++n;
    }
    QVERIFY2(n > 3000000, qPrintable(QString::number(n)));
    QVERIFY2(worst <= 2, qPrintable(QStringLiteral("%1 ulp at x = %2").arg(worst).arg(double(worstX), 0, 'g', 9)));
    QCOMPARE(exp_f32_ref(0.0f), 1.0f);
    QCOMPARE(exp_f32_ref(89.0f), std::numeric_limits<float>::infinity());
    QCOMPARE(exp_f32_ref(std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
    QCOMPARE(exp_f32_ref(-std::numeric_limits<float>::infinity()), 0.0f);
    QCOMPARE(exp_f32_ref(-200.0f), 0.0f);
    QVERIFY(std::isnan(exp_f32_ref(std::numeric_limits<float>::quiet_NaN())));
}

// Every bf16 gate value (65,536 patterns: zeros, subnormals, inf, NaN) against several up values,
// at every ISA level, odd lengths (masked tails), the threaded split, and in place: equal to the
// reference bit for bit (NaN: both NaN).
void TestKernels::siluMulMatchesRef()
{
    std::vector<uint16_t> g(65536 + 37), u(g.size());
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.0f, 2.0f);
    for (size_t i = 0; i < g.size(); ++i) {
        g[i] = uint16_t(i & 0xffff);
        u[i] = i % 7 == 0 ? uint16_t(0x7f80) : i % 11 == 0 ? uint16_t(0x8000) : bf16_from_float(nd(rng));
    }
    const int64_t n = int64_t(g.size());
    std::vector<uint16_t> want(g.size());
    silu_mul_bf16_ref(g.data(), u.data(), want.data(), n);
    auto same = [](uint16_t a, uint16_t b) {
        const bool na = (a & 0x7fff) > 0x7f80, nb = (b & 0x7fff) > 0x7f80;
        return na || nb ? na == nb : a == b;
    };
    // spot values: silu(0) = 0, silu(100) = 100, silu(-100) = -0 (times u = 1), silu(1) * 2 = 1.4609375
    {
        const uint16_t gs[4] = {bf16_from_float(0.0f), bf16_from_float(100.0f), bf16_from_float(-100.0f), bf16_from_float(1.0f)};
        const uint16_t us[4] = {bf16_from_float(1.0f), bf16_from_float(1.0f), bf16_from_float(1.0f), bf16_from_float(2.0f)};
        uint16_t ys[4];
        silu_mul_bf16_ref(gs, us, ys, 4);
        QCOMPARE(ys[0], uint16_t(0));
        QCOMPARE(bf16_to_float(ys[1]), 100.0f);
        QCOMPARE(ys[2], uint16_t(0x8000));
        QCOMPARE(bf16_to_float(ys[3]), 1.4609375f);   // bf16(0.7310586) = 0.73046875, x 2
    }
    for (Isa level : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
        if (!cpu_supports(level)) continue;
        set_isa(level);
        for (int64_t len : {int64_t(1), int64_t(15), int64_t(17), int64_t(1000), n}) {
            for (int threads : {1, 2}) {
                std::vector<uint16_t> y(g.size(), 0x1234);
                silu_mul_bf16(g.data(), u.data(), y.data(), len, threads);
                for (int64_t i = 0; i < len; ++i)
                    if (!same(y[size_t(i)], want[size_t(i)]))
                        QFAIL(qPrintable(QStringLiteral("%1 len %2: g 0x%3 u 0x%4: 0x%5 != 0x%6").arg(isa_name(level)).arg(len)
                                             .arg(g[size_t(i)], 4, 16, QChar('0')).arg(u[size_t(i)], 4, 16, QChar('0'))
                                             .arg(y[size_t(i)], 4, 16, QChar('0')).arg(want[size_t(i)], 4, 16, QChar('0'))));
                if (len < n) QCOMPARE(y[size_t(len)], uint16_t(0x1234));   // nothing written past n
            }
        }
        std::vector<uint16_t> inPlace = g;
        silu_mul_bf16(inPlace.data(), u.data(), inPlace.data(), n);
        reset_isa();
        for (int64_t i = 0; i < n; ++i) QVERIFY(same(inPlace[size_t(i)], want[size_t(i)]));
    }
    // silu itself (u = 1) against double precision: within one bf16 rounding of the exact value.
    for (uint32_t b = 0; b < 65536; ++b) {
        const uint16_t one = bf16_from_float(1.0f), gb = uint16_t(b);
        uint16_t y;
        silu_mul_bf16_ref(&gb, &one, &y, 1);
        const double gv = bf16_to_float(gb), exact = gv / (1.0 + std::exp(-gv));
        if (!std::isfinite(exact) || std::abs(exact) < 1e-30) continue;
        QVERIFY2(std::abs(double(bf16_to_float(y)) - exact) <= std::abs(exact) * (1.0 / 256 + 1e-6),
                 qPrintable(QStringLiteral("g %1: %2 vs %3").arg(gv).arg(bf16_to_float(y)).arg(exact)));
    }
}

// RMSNorm: every ISA level bit-identical to the reference (fp32 and bf16, row tails, strides, in
// place, the threaded row split), and the reference near the float64 formula.
void TestKernels::rmsNormMatchesRef()
{
    for (DType t : {DType::F32, DType::BF16})
        for (int64_t n : {1, 15, 16, 17, 64, 896, 1000})
            for (int64_t rows : {1, 3, 200}) {
                const int64_t ldx = n + 3, ldy = n + 1;
                auto xf = randn(size_t(rows * ldx), uint32_t(n + rows), 2.0f);
                auto wf = randn(size_t(n), uint32_t(7 * n), 0.5f);
                for (int64_t r = 0; r < rows; ++r)      // a read past n would poison the row
                    for (int64_t k = n; k < ldx; ++k) xf[size_t(r * ldx + k)] = std::numeric_limits<float>::quiet_NaN();
                auto xb = toBf16(xf), wb = toBf16(wf);
                const void* x = t == DType::F32 ? static_cast<const void*>(xf.data()) : static_cast<const void*>(xb.data());
                const void* w = t == DType::F32 ? static_cast<const void*>(wf.data()) : static_cast<const void*>(wb.data());
                const float eps = 1e-6f;
                std::vector<float> yf(size_t(rows * ldy), 3.0f), gf(yf.size());
                std::vector<uint16_t> yb(yf.size(), 0x4040), gb(yf.size());
                void* yr = t == DType::F32 ? static_cast<void*>(yf.data()) : static_cast<void*>(yb.data());
                rms_norm_ref(x, t, rows, n, ldx, w, eps, yr, ldy);
                auto val = [&](const void* p, int64_t i) {
                    return t == DType::F32 ? static_cast<const float*>(p)[i] : bf16_to_float(static_cast<const uint16_t*>(p)[i]);
                };
                for (int64_t r = 0; r < rows; ++r) {          // the reference against float64
                    double ss = 0;
                    for (int64_t k = 0; k < n; ++k) ss += double(val(x, r * ldx + k)) * val(x, r * ldx + k);
                    const double inv = 1.0 / std::sqrt(ss / double(n) + eps);
                    for (int64_t k = 0; k < n; ++k) {
                        const double want = double(val(w, k)) * val(x, r * ldx + k) * inv, got = val(yr, r * ldy + k);
                        const double tol = t == DType::F32 ? 1e-5 : 1.0 / 64;   // bf16: two roundings of 2^-9
                        QVERIFY2(std::abs(got - want) <= tol * std::abs(want) + 1e-30,
                                 qPrintable(QStringLiteral("n %1 row %2 k %3: %4 vs %5").arg(n).arg(r).arg(k).arg(got).arg(want)));
                    }
                }
                for (Isa level : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
                    if (!cpu_supports(level)) continue;
                    set_isa(level);
                    for (int threads : {1, 2}) {
                        std::fill(gf.begin(), gf.end(), 3.0f);
                        std::fill(gb.begin(), gb.end(), uint16_t(0x4040));
                        void* g = t == DType::F32 ? static_cast<void*>(gf.data()) : static_cast<void*>(gb.data());
                        rms_norm(x, t, rows, n, ldx, w, eps, g, ldy, threads);
                        const bool same = t == DType::F32 ? std::memcmp(gf.data(), yf.data(), gf.size() * 4) == 0
                                                          : std::memcmp(gb.data(), yb.data(), gb.size() * 2) == 0;
                        QVERIFY2(same, qPrintable(QStringLiteral("%1 n %2 rows %3 threads %4").arg(isa_name(level)).arg(n).arg(rows).arg(threads)));
                    }
                    // in place (y = x, same stride)
                    std::vector<float> ipf = xf;
                    std::vector<uint16_t> ipb = xb;
                    void* ip = t == DType::F32 ? static_cast<void*>(ipf.data()) : static_cast<void*>(ipb.data());
                    rms_norm(ip, t, rows, n, ldx, w, eps, ip, ldx);
                    reset_isa();
                    for (int64_t r = 0; r < rows; ++r)
                        for (int64_t k = 0; k < n; ++k) QCOMPARE(val(ip, r * ldx + k), val(yr, r * ldy + k));
                }
            }
}

// RoPE: every ISA level bit-identical to the reference (fp32 and bf16; D with a half that is not a
// multiple of 16; in place; threaded over tokens), and the reference equal to the formula.
void TestKernels::ropeMatchesRef()
{
    for (DType t : {DType::F32, DType::BF16})
        for (int64_t D : {2, 40, 64, 128})
            for (auto [tokens, heads] : {std::pair<int64_t, int64_t>{1, 1}, {3, 14}, {300, 4}}) {
                const size_t nx = size_t(tokens * heads * D), nc = size_t(tokens * D);
                auto xf = randn(nx, uint32_t(D + tokens), 1.5f), cf = randn(nc, 3), sf = randn(nc, 4);
                auto xb = toBf16(xf), cb = toBf16(cf), sb = toBf16(sf);
                const bool f = t == DType::F32;
                const void* x = f ? static_cast<const void*>(xf.data()) : xb.data();
                const void* c = f ? static_cast<const void*>(cf.data()) : cb.data();
                const void* sn = f ? static_cast<const void*>(sf.data()) : sb.data();
                auto val = [&](const void* p, size_t i) { return f ? static_cast<const float*>(p)[i] : bf16_to_float(static_cast<const uint16_t*>(p)[i]); };
                std::vector<float> wf(nx);
                std::vector<uint16_t> wb(nx);
                void* want = f ? static_cast<void*>(wf.data()) : wb.data();
                rope_ref(x, t, tokens, heads, D, c, sn, want);
                auto r = [f](float v) { return f ? v : bf16_to_float(bf16_from_float(v)); };
                for (int64_t row = 0; row < tokens * heads; ++row)       // the formula, spot-checked per row
                    for (int64_t i : {int64_t(0), D / 2 - 1, D / 2, D - 1}) {
                        const int64_t tok = row / heads, h = D / 2;
                        const float xv = val(x, size_t(row * D + i)), rh = i < h ? -val(x, size_t(row * D + i + h)) : val(x, size_t(row * D + i - h));
                        QCOMPARE(val(want, size_t(row * D + i)), r(r(xv * val(c, size_t(tok * D + i))) + r(rh * val(sn, size_t(tok * D + i)))));
                    }
                for (Isa level : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
                    if (!cpu_supports(level)) continue;
                    set_isa(level);
                    for (int threads : {1, 2}) {
                        std::vector<float> gf(nx, 3.0f);
                        std::vector<uint16_t> gb(nx, 0x4040);
                        void* got = f ? static_cast<void*>(gf.data()) : gb.data();
                        rope(x, t, tokens, heads, D, c, sn, got, threads);
                        QVERIFY2(f ? std::memcmp(gf.data(), wf.data(), nx * 4) == 0 : std::memcmp(gb.data(), wb.data(), nx * 2) == 0,
                                 qPrintable(QStringLiteral("%1 D %2 tokens %3 threads %4").arg(isa_name(level)).arg(D).arg(tokens).arg(threads)));
                    }
                    std::vector<float> ipf = xf;
                    std::vector<uint16_t> ipb = xb;
                    void* ip = f ? static_cast<void*>(ipf.data()) : ipb.data();
                    rope(ip, t, tokens, heads, D, c, sn, ip);
                    reset_isa();
                    QVERIFY(f ? std::memcmp(ipf.data(), wf.data(), nx * 4) == 0 : std::memcmp(ipb.data(), wb.data(), nx * 2) == 0);
                }
            }
}

// Decode attention on a cache layout (capacity > keys, GQA): every ISA level bit-identical to the
// reference (fp32 / bf16, D with a tail, several queries with their causal limits, threads), and
// the reference near a float64 softmax attention.
void TestKernels::attnDecodeMatchesRef()
{
    for (DType t : {DType::F32, DType::BF16})
        for (int64_t D : {64, 40, 128})
            for (auto [T, past] : {std::pair<int64_t, int64_t>{1, 0}, {1, 47}, {3, 20}, {1, 700}}) {
                const int64_t B = 2, H = 14, kvH = 2, cap = past + T + 5;
                const bool f = t == DType::F32;
                auto qf = randn(size_t(B * T * H * D), uint32_t(D + T), 1.0f);
                auto kf = randn(size_t(B * kvH * cap * D), uint32_t(past + 3), 1.0f), vf = randn(kf.size(), uint32_t(past + 4), 1.0f);
                auto qb = toBf16(qf), kb = toBf16(kf), vb = toBf16(vf);
                DecodeAttnArgs a;
                a.B = B; a.T = T; a.H = H; a.kvH = kvH; a.D = D; a.past = past; a.t = t;
                a.q = f ? static_cast<const void*>(qf.data()) : qb.data();
                a.k = f ? static_cast<const void*>(kf.data()) : kb.data();
                a.v = f ? static_cast<const void*>(vf.data()) : vb.data();
                a.kv_sb = kvH * cap * D; a.kv_sg = cap * D; a.scale = 1.0f / std::sqrt(float(D));
                const size_t ny = size_t(B * T * H * D);
                std::vector<float> wf(ny);
                std::vector<uint16_t> wb(ny);
                a.y = f ? static_cast<void*>(wf.data()) : wb.data();
                attn_decode_ref(a);
                auto val = [f](const void* p, size_t i) { return f ? static_cast<const float*>(p)[i] : bf16_to_float(static_cast<const uint16_t*>(p)[i]); };
                // float64 attention for batch 1, the last query, head 9 (key head 1)
                {
                    const int64_t b = 1, tq = T - 1, h = 9, g = h / (H / kvH), n = past + tq + 1;
                    std::vector<double> sc(static_cast<size_t>(n));
                    double mx = -1e300, sum = 0;
                    for (int64_t j = 0; j < n; ++j) {
                        double d0 = 0;
                        for (int64_t d = 0; d < D; ++d)
                            d0 += double(val(a.q, size_t(((b * T + tq) * H + h) * D + d))) * val(a.k, size_t(b * a.kv_sb + g * a.kv_sg + j * D + d));
                        sc[size_t(j)] = d0 * a.scale;
                        mx = std::max(mx, sc[size_t(j)]);
                    }
                    for (auto& x : sc) { x = std::exp(x - mx); sum += x; }
                    for (int64_t d = 0; d < D; ++d) {
                        double o = 0;
                        for (int64_t j = 0; j < n; ++j) o += sc[size_t(j)] / sum * val(a.v, size_t(b * a.kv_sb + g * a.kv_sg + j * D + d));
                        const double got = val(a.y, size_t(((b * T + tq) * H + h) * D + d));
                        QVERIFY2(std::abs(got - o) <= (f ? 1e-5 : 1e-2) * (std::abs(o) + 0.05),
                                 qPrintable(QStringLiteral("D %1 past %2 d %3: %4 vs %5").arg(D).arg(past).arg(d).arg(got).arg(o)));
                    }
                }
                for (Isa level : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
                    if (!cpu_supports(level)) continue;
                    set_isa(level);
                    for (int threads : {1, 2}) {
                        std::vector<float> gf(ny, 3.0f);
                        std::vector<uint16_t> gb(ny, 0x4040);
                        DecodeAttnArgs r = a;
                        r.y = f ? static_cast<void*>(gf.data()) : gb.data();
                        r.threads = threads;
                        attn_decode(r);
                        QVERIFY2(f ? std::memcmp(gf.data(), wf.data(), ny * 4) == 0 : std::memcmp(gb.data(), wb.data(), ny * 2) == 0,
                                 qPrintable(QStringLiteral("%1 D %2 T %3 past %4 threads %5").arg(isa_name(level)).arg(D).arg(T).arg(past).arg(threads)));
                    }
                    reset_isa();
                }
            }
}

void TestKernels::gemmDenseMatchesRef_data()
{
    QTest::addColumn<int>("M");
    QTest::addColumn<int>("N");
    QTest::addColumn<int>("K");
    QTest::addColumn<bool>("wbf16");
    QTest::addColumn<bool>("xbf16");
    QTest::addColumn<bool>("ybf16");
    struct S { int M, N, K; };
    // M = 1: bf16 rows one after another (128-k steps, then 32-k masked tails); M = 2..4: register
    // tiles; M >= 5: panel GEMM (6-row tiles, 64-column blocks, 256-k chunks; tails in every
    // dimension, and a column count too small to split so rows are split instead).
    for (S s : {S{1, 1, 1}, S{1, 37, 100}, S{1, 9, 300}, S{1, 70, 896}, S{1, 65, 256}, S{2, 300, 512}, S{2, 40, 96}, S{3, 19, 77}, S{4, 129, 300}, S{5, 64, 512}, S{6, 3, 1},
                S{7, 17, 9}, S{16, 200, 384}, S{33, 130, 200}, S{130, 70, 600}, S{520, 16, 48}})
        for (bool wb : {true, false})
            for (auto [xb, yb] : {std::pair{false, false}, {true, false}, {true, true}})
                QTest::newRow(qPrintable(QStringLiteral("%1x%2x%3-w%4%5%6").arg(s.M).arg(s.N).arg(s.K).arg(wb ? "bf16" : "f32")
                                             .arg(xb ? "-xbf16" : "").arg(yb ? "-ybf16" : "")))
                    << s.M << s.N << s.K << wb << xb << yb;
}

void TestKernels::gemmDenseMatchesRef()
{
    QFETCH(int, M); QFETCH(int, N); QFETCH(int, K); QFETCH(bool, wbf16); QFETCH(bool, xbf16); QFETCH(bool, ybf16);
    const int64_t ldw = K + 3, ldx = K + 2, ldy = N + 1;   // strided W, X and Y
    auto wf = randn(size_t(N * ldw), uint32_t(N + 7 * K), 0.05f);
    auto xf = randn(size_t(M * ldx), uint32_t(M + 3 * K));
    for (int64_t m = 0; m < M; ++m)                          // a read past K would poison y
        for (int64_t k = K; k < ldx; ++k) xf[size_t(m * ldx + k)] = std::numeric_limits<float>::quiet_NaN();
    for (int64_t n = 0; n < N; ++n)
        for (int64_t k = K; k < ldw; ++k) wf[size_t(n * ldw + k)] = std::numeric_limits<float>::quiet_NaN();
    auto wb = toBf16(wf), xb = toBf16(xf);
    auto bias = randn(size_t(N), 11);
    DenseGemmArgs a;
    a.M = M; a.N = N; a.K = K;
    a.x = xbf16 ? static_cast<const void*>(xb.data()) : static_cast<const void*>(xf.data());
    a.x_type = xbf16 ? DType::BF16 : DType::F32; a.ldx = ldx;
    a.w = wbf16 ? static_cast<const void*>(wb.data()) : static_cast<const void*>(wf.data());
    a.w_type = wbf16 ? DType::BF16 : DType::F32; a.ldw = ldw;
    a.bias = (M + N) % 2 ? bias.data() : nullptr; a.y_type = ybf16 ? DType::BF16 : DType::F32; a.ldy = ldy;
    auto run = [&](bool ref) {
        std::vector<float> y(static_cast<size_t>(M * ldy), 3.0f);
        std::vector<uint16_t> b(y.size(), 0x4040);
        a.y = ybf16 ? static_cast<void*>(b.data()) : static_cast<void*>(y.data());
        if (ref) gemm_dense_ref(a);
        else gemm_dense(a);
        if (ybf16)
            for (size_t i = 0; i < y.size(); ++i) y[i] = bf16_to_float(b[i]);
        return y;
    };
    const auto want = run(true);
    for (Isa level : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
        if (!cpu_supports(level)) continue;
        set_isa(level);
        const auto got = run(false);
        reset_isa();
        const double tol = ybf16 ? 1e-4 : 1e-10;
        const double e = nmse(want, got);
        QVERIFY2(e < tol, qPrintable(QStringLiteral("%1: NMSE %2").arg(isa_name(level)).arg(e)));
        for (int64_t m = 0; m < M; ++m)                      // padding column untouched
            QCOMPARE(got[size_t(m * ldy + N)], 3.0f);
    }
}

void TestKernels::gemmDenseRefIsDoubleDot()
{
    // The reference against float64 dot products of the same (bf16-exact) inputs.
    const int M = 3, N = 9, K = 700;
    auto x = toBf16(randn(size_t(M * K), 21)), w = toBf16(randn(size_t(N * K), 22, 0.1f));
    std::vector<float> y(size_t(M * N)), want(y.size());
    DenseGemmArgs a;
    a.M = M; a.N = N; a.K = K; a.x = x.data(); a.x_type = DType::BF16; a.ldx = K; a.w = w.data(); a.ldw = K;
    a.y = y.data(); a.ldy = N;
    gemm_dense_ref(a);
    for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
            double s = 0;
            for (int k = 0; k < K; ++k) s += double(bf16_to_float(x[size_t(m * K + k)])) * bf16_to_float(w[size_t(n * K + k)]);
            want[size_t(m * N + n)] = float(s);
        }
    QVERIFY(nmse(want, y) < 1e-10);
}

void TestKernels::gemvBatchEqualsSingleCalls()
{
    // A decode step's q/k/v (one dense bf16, one INT8 per-row, one FP8 per-group weight, columns not
    // a multiple of the 64-column task) in one batch: every Y bit-identical to its GEMM run alone, at
    // every ISA level and row count the batch accepts; padding columns untouched. K = 600: ~250 KiB
    // of weights, so the batch takes the threaded path (small batches run on one thread).
    const int K = 600;
    const int Ns[3] = {150, 64, 37};
    auto wq = toBf16(randn(size_t(Ns[0] * K), 31, 0.05f));
    auto wkF = randn(size_t(Ns[1] * K), 32, 0.05f), wvF = randn(size_t(Ns[2] * K), 33, 0.05f);
    QuantSpec sk{QType::INT8, Gran::Row, 0}, sv{QType::FP8_E4M3, Gran::Group, 64};
    std::vector<uint8_t> ck(size_t(Ns[1] * K)), cv(size_t(Ns[2] * K));
    std::vector<float> sck(size_t(num_scales(sk, Ns[1], K))), scv(size_t(num_scales(sv, Ns[2], K)));
    quantize(wkF.data(), DType::F32, Ns[1], K, K, sk, ck.data(), K, sck.data());
    quantize(wvF.data(), DType::F32, Ns[2], K, K, sv, cv.data(), K, scv.data());
    auto bias = randn(size_t(Ns[1]), 34);
    QVERIFY(gemv_batch_rows() >= 1);
    for (int M = 1; M <= gemv_batch_rows(); ++M) {
        auto x = toBf16(randn(size_t(M * K), uint32_t(40 + M)));
        for (Isa level : {Isa::Avx512Bf16, Isa::Avx512, Isa::AvxVnni, Isa::Avx2, Isa::Scalar}) {
            if (!cpu_supports(level)) continue;
            set_isa(level);
            std::vector<uint16_t> ys[2][3];
            for (int pass = 0; pass < 2; ++pass) {
                for (int j = 0; j < 3; ++j) ys[pass][j].assign(size_t(M * (Ns[j] + 1)), 0x4040);
                DenseGemmArgs q;
                q.M = M; q.N = Ns[0]; q.K = K; q.x = x.data(); q.x_type = DType::BF16; q.ldx = K; q.w = wq.data();
                q.w_type = DType::BF16; q.ldw = K; q.y = ys[pass][0].data(); q.y_type = DType::BF16; q.ldy = Ns[0] + 1;
                WoGemmArgs k, v;
                k.M = M; k.N = Ns[1]; k.K = K; k.x = x.data(); k.x_type = DType::BF16; k.ldx = K; k.w = ck.data();
                k.w_type = QType::INT8; k.ldw = K; k.w_scales = sck.data(); k.w_gran = Gran::Row; k.bias = bias.data();
                k.y = ys[pass][1].data(); k.y_type = DType::BF16; k.ldy = Ns[1] + 1;
                v = k;
                v.N = Ns[2]; v.w = cv.data(); v.w_type = QType::FP8_E4M3; v.w_scales = scv.data(); v.w_gran = Gran::Group;
                v.group = 64; v.bias = nullptr; v.y = ys[pass][2].data(); v.ldy = Ns[2] + 1;
                if (pass == 0) {
                    gemm_dense(q); gemm_wo(k); gemm_wo(v);
                } else {
                    const GemvJob jobs[3] = {{nullptr, &q}, {&k, nullptr}, {&v, nullptr}};
                    gemv_batch(jobs, 3);
                }
            }
            reset_isa();
            for (int j = 0; j < 3; ++j)
                QVERIFY2(ys[0][j] == ys[1][j], qPrintable(QStringLiteral("%1 M=%2 job %3 differs").arg(isa_name(level)).arg(M).arg(j)));
            for (int m = 0; m < M; ++m)
                QCOMPARE(ys[1][0][size_t(m * (Ns[0] + 1) + Ns[0])], uint16_t(0x4040));
        }
    }
    // Rows beyond the GEMV tiles and malformed jobs are refused, not run.
    std::vector<uint16_t> x(size_t(8 * K)), y(size_t(8 * 64));
    DenseGemmArgs big;
    big.M = int(gemv_batch_rows()) + 1; big.N = 64; big.K = K; big.x = x.data(); big.x_type = DType::BF16; big.ldx = K;
    big.w = wq.data(); big.ldw = K; big.y = y.data(); big.y_type = DType::BF16; big.ldy = 64;
    const GemvJob tooMany{nullptr, &big}, neither{nullptr, nullptr};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gemv_batch(&tooMany, 1));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gemv_batch(&neither, 1));
}

void TestKernels::argumentChecks()
{
    std::vector<float> x(16, 1.0f), s(4);
    std::vector<uint8_t> c(16);
    QuantSpec row{QType::INT8, Gran::Row, 0}, g0{QType::INT8, Gran::Group, 0};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, quantize(nullptr, DType::F32, 4, 4, 4, row, c.data(), 4, s.data()));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, quantize(x.data(), DType::F32, 4, 0, 4, row, c.data(), 4, s.data()));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, quantize(x.data(), DType::F32, 4, 4, 4, g0, c.data(), 4, s.data()));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, quantize(x.data(), DType::F32, 4, 4, 2, row, c.data(), 4, s.data()));
    Int8GemmArgs a;
    std::vector<int8_t> q(16);
    std::vector<float> y(16);
    a.M = 4; a.N = 4; a.K = 0; a.x = q.data(); a.ldx = 4; a.x_scales = s.data(); a.w = q.data(); a.ldw = 4;
    a.w_scales = s.data(); a.y = y.data(); a.ldy = 4;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gemm_int8(a));
    a.K = 4; a.w_gran = Gran::Group; a.group = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gemm_int8(a));
    a.group = 2; a.w = nullptr;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gemm_int8_ref(a));
    WoGemmArgs b;
    b.M = 1; b.N = 4; b.K = 4; b.x = x.data(); b.ldx = 4; b.w = c.data(); b.ldw = 4; b.w_scales = s.data();
    b.y = nullptr; b.ldy = 4;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gemm_wo(b));
    DenseGemmArgs d;
    d.M = 2; d.N = 4; d.K = 4; d.x = x.data(); d.ldx = 4; d.w = x.data(); d.w_type = DType::F32; d.ldw = 3; d.y = y.data(); d.ldy = 4;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gemm_dense(d));   // ldw < K
    d.ldw = 4; d.K = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, gemm_dense_ref(d));
}

void TestKernels::isaControl()
{
    const Isa best = isa();
    QVERIFY(cpu_supports(best));
    QVERIFY(cpu_supports(Isa::Scalar));
    set_isa(Isa::Avx2);
    QVERIFY(isa() <= Isa::Avx2 && cpu_supports(isa()));
    QCOMPARE(simd_enabled(), cpu_supports(Isa::Avx2));
    set_simd_enabled(false);
    QCOMPARE(isa(), Isa::Scalar);
    QVERIFY(!simd_enabled());
    set_isa(Isa::Avx512Bf16);                                 // a cap above the CPU is clamped
    QVERIFY(cpu_supports(isa()));
    reset_isa();
    QCOMPARE(isa(), best);
    QCOMPARE(QString(isa_name(Isa::AvxVnni)), QStringLiteral("avxvnni"));
}

QTEST_APPLESS_MAIN(TestKernels)
#include "tst_kernels.moc"
