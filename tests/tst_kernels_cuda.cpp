// CUDA kernel tests: the qb_kernels_cuda launchers against the CPU references (quantize /
// dequantize and INT8 GEMM bit-identical, weight-only and FP8 GEMM by NMSE). Built only with the
// CUDA kernels (QB_KERNELS_CUDA); every test skips cleanly when no CUDA device is usable, so the
// binary also runs (and passes, skipped) on a machine with the toolkit but no GPU.
#include <QtTest/QtTest>

#include "kernels/cuda/cuda_kernels.h"
#include "kernels/fp8.h"
#include "kernels/gemm_fp8.h"
#include "kernels/gemm_int8.h"
#include "kernels/gemm_wo.h"
#include "kernels/quant.h"
#include "kernels_testutil.h"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace qb::kernels;

namespace {
namespace kc = qb::kernels::cuda;
// A device buffer filled from / read back into a host vector (brace-initialise it from a
// temporary vector: Dev<float> d(std::vector<float>(n)) would declare a function).
template <class T>
struct Dev {
    void* p = nullptr; size_t n = 0;
    explicit Dev(const std::vector<T>& h) : p(kc::device_alloc(std::max<size_t>(1, h.size()) * sizeof(T))), n(h.size()) { kc::copy_to_device(p, h.data(), n * sizeof(T)); }
    ~Dev() { kc::device_free(p); }
    std::vector<T> get() const { std::vector<T> h(n); kc::synchronize(); kc::copy_to_host(h.data(), p, n * sizeof(T)); return h; }
    T* d() const { return static_cast<T*>(p); }
};
} // namespace

class TestKernelsCuda : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void deviceInfo();
    void matchesRef();
};

void TestKernelsCuda::initTestCase()
{
    if (!kc::available()) QSKIP("no CUDA device");
}

void TestKernelsCuda::deviceInfo()
{
    QVERIFY(kc::device_count() > 0);
    const int cc = kc::compute_capability(0);
    QVERIFY2(cc >= 50, qPrintable(QStringLiteral("compute capability %1").arg(cc)));
    qInfo("CUDA devices: %d, compute capability of device 0: %d", kc::device_count(), cc);
}

void TestKernelsCuda::matchesRef()
{
    if (!kc::available()) QSKIP("no CUDA device");
    // quantize / dequantize: bit-identical codes, scales and dequantized values.
    const int64_t rows = 37, cols = 300;
    auto xf = randn(size_t(rows * cols), 21, 2.0f);
    auto xb = toBf16(xf);
    for (int q : {0, 1})
        for (auto gs : {std::pair{Gran::Tensor, 0}, {Gran::Row, 0}, {Gran::Group, 64}, {Gran::Group, 7}})
            for (bool bf : {false, true}) {
                QuantSpec s{QType(q), gs.first, gs.second, q == 0 && bf ? 127.5f : 127.0f};
                const size_t ns = size_t(num_scales(s, rows, cols));
                std::vector<uint8_t> cref(static_cast<size_t>(rows * cols));
                std::vector<float> sref(ns), dref(static_cast<size_t>(rows * cols));
                const void* xh = bf ? static_cast<const void*>(xb.data()) : static_cast<const void*>(xf.data());
                quantize_ref(xh, bf ? DType::BF16 : DType::F32, rows, cols, cols, s, cref.data(), cols, sref.data());
                dequantize(cref.data(), rows, cols, cols, s, sref.data(), dref.data(), DType::F32, cols);
                Dev<float> dx(xf), dsc{std::vector<float>(ns)}, dout{std::vector<float>(dref.size())};
                Dev<uint16_t> dxb(xb);
                Dev<uint8_t> dc{std::vector<uint8_t>(cref.size())};
                kc::quantize(bf ? static_cast<void*>(dxb.d()) : static_cast<void*>(dx.d()), bf ? DType::BF16 : DType::F32, rows, cols,
                             cols, s, dc.d(), cols, dsc.d());
                kc::dequantize(dc.d(), rows, cols, cols, s, dsc.d(), dout.d(), DType::F32, cols);
                QVERIFY(dc.get() == cref);
                QVERIFY(dsc.get() == sref);
                QVERIFY(dout.get() == dref);
            }
    // INT8 GEMM: bit-identical to the reference.
    for (auto [M, N, K, gran, G] : {std::tuple{5, 33, 100, Gran::Row, 0}, {40, 70, 515, Gran::Group, 64}, {3, 9, 50, Gran::Group, 7}}) {
        auto x = randi8(size_t(M * K), 1), w = randi8(size_t(N * K), 2);
        const int64_t ng = gran == Gran::Group ? (K + G - 1) / G : 1;
        auto xs = randn(size_t(M), 3), ws = randn(size_t(N * ng), 4), bias = randn(size_t(N), 5);
        Int8GemmArgs a;
        a.M = M; a.N = N; a.K = K; a.ldx = K; a.ldw = K; a.ldy = N; a.w_gran = gran; a.group = G;
        std::vector<float> yref(static_cast<size_t>(M * N));
        a.x = x.data(); a.x_scales = xs.data(); a.w = w.data(); a.w_scales = ws.data(); a.bias = bias.data(); a.y = yref.data();
        gemm_int8_ref(a);
        Dev<int8_t> dxq(x), dwq(w);
        Dev<float> dxs(xs), dws(ws), db(bias), dy{std::vector<float>(yref.size())};
        a.x = dxq.d(); a.x_scales = dxs.d(); a.w = dwq.d(); a.w_scales = dws.d(); a.bias = db.d(); a.y = dy.d();
        kc::gemm_int8(a);
        QVERIFY(dy.get() == yref);
    }
    // Weight-only: NMSE against the reference (GEMV and tiled GEMM paths).
    for (auto [M, N, K, q] : {std::tuple{1, 100, 512, 0}, {3, 64, 300, 1}, {20, 70, 256, 0}, {70, 33, 128, 1}}) {
        auto wf = randn(size_t(N * K), 6, 0.05f), x = randn(size_t(M * K), 7);
        QuantSpec s{QType(q), Gran::Group, 64};
        std::vector<uint8_t> codes(static_cast<size_t>(N * K));
        std::vector<float> ws(static_cast<size_t>(num_scales(s, N, K))), yref(static_cast<size_t>(M * N));
        quantize_ref(wf.data(), DType::F32, N, K, K, s, codes.data(), K, ws.data());
        WoGemmArgs a;
        a.M = M; a.N = N; a.K = K; a.ldx = K; a.ldw = K; a.ldy = N; a.w_type = QType(q); a.w_gran = Gran::Group; a.group = 64;
        a.x = x.data(); a.w = codes.data(); a.w_scales = ws.data(); a.y = yref.data();
        gemm_wo_ref(a);
        Dev<float> dx(x), dws(ws), dy{std::vector<float>(yref.size())};
        Dev<uint8_t> dc(codes);
        a.x = dx.d(); a.w = dc.d(); a.w_scales = dws.d(); a.y = dy.d();
        kc::gemm_wo(a);
        const double e = nmse(yref, dy.get());
        QVERIFY2(e < 1e-10, qPrintable(QStringLiteral("wo NMSE %1").arg(e)));
    }
    // FP8 GEMM: cuBLASLt (sm_89+; FP8 tensor-core accumulation is not fp32-exact) and fallback.
    for (bool lt : {true, false}) {
        const int64_t M = 48, N = 96, K = 256;
        auto xf8 = randn(size_t(M * K), 8), wf8 = randn(size_t(N * K), 9, 0.05f);
        QuantSpec s{QType::FP8_E4M3, Gran::Row, 0};
        std::vector<uint8_t> xc(static_cast<size_t>(M * K)), wc(static_cast<size_t>(N * K));
        std::vector<float> xs(static_cast<size_t>(M)), ws(static_cast<size_t>(N)), yref(static_cast<size_t>(M * N));
        quantize_ref(xf8.data(), DType::F32, M, K, K, s, xc.data(), K, xs.data());
        quantize_ref(wf8.data(), DType::F32, N, K, K, s, wc.data(), K, ws.data());
        Fp8GemmArgs a;
        a.M = M; a.N = N; a.K = K; a.ldx = K; a.ldw = K; a.ldy = N;
        a.x = xc.data(); a.x_scales = xs.data(); a.w = wc.data(); a.w_scales = ws.data(); a.y = yref.data();
        gemm_fp8_ref(a);
        Dev<uint8_t> dxc(xc), dwc(wc);
        Dev<float> dxs(xs), dws(ws), dy{std::vector<float>(yref.size())};
        a.x = dxc.d(); a.x_scales = dxs.d(); a.w = dwc.d(); a.w_scales = dws.d(); a.y = dy.d();
        kc::gemm_fp8(a, nullptr, lt);
        const double e = nmse(yref, dy.get());
        QVERIFY2(e < (lt ? 1e-5 : 1e-10), qPrintable(QStringLiteral("fp8 gemm (%1) NMSE %2").arg(lt ? "cublasLt" : "fallback").arg(e)));
    }
}


QTEST_APPLESS_MAIN(TestKernelsCuda)
#include "tst_kernels_cuda.moc"
