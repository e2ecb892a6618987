// `quantbench-cli bench gemm-cuda`: the CUDA kernels (kernels/cuda) side by side with libtorch's
// cuBLAS fp32/bf16 matmul where libtorch has CUDA: weight-only INT8/FP8 GEMV/GEMM, INT8 W8A8
// (dp4a) and FP8 W8A8 (cuBLASLt on sm_89+), with each output's relative error against fp32 on the
// unquantized weights (computed on the CPU), so one run checks speed and correctness on a GPU.
// Host-timed around a device synchronize: warm-up, then repeats until ~0.25 s, median.
#include "app/cli/bench.h"
#include "app/cli/command.h"
#include "core/util/build_info.h"
#include "core/util/error.h"
#include "kernels/quant.h"

#ifdef QB_HAVE_CUDA_KERNELS
#include "kernels/cuda/cuda_kernels.h"
#endif

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace {

#ifdef QB_HAVE_CUDA_KERNELS
namespace qk = qb::kernels;
namespace kc = qb::kernels::cuda;
using qb::cli::medianSeconds;

// A device buffer that frees itself.
struct DevBuf {
    void* p = nullptr;
    explicit DevBuf(size_t bytes) : p(kc::device_alloc(bytes)) {}
    DevBuf(const void* host, size_t bytes) : p(kc::device_alloc(bytes)) { kc::copy_to_device(p, host, bytes); }
    ~DevBuf() { kc::device_free(p); }
    DevBuf(const DevBuf&) = delete;
    DevBuf& operator=(const DevBuf&) = delete;
    template <class T> T* as() const { return static_cast<T*>(p); }
};

struct Row { int64_t M, N, K; std::string method; double ms, gflops, gbs, vsF32, vsBf16, relErr; };

int runGemmCuda(const std::vector<std::string>& argv)
{
    qb::cli::Args args("bench gemm-cuda", "[--json] [--quick] [--repeats N]");
    args.flag("json", "machine-readable output").flag("quick", "small shapes, few repeats")
        .option("repeats", "maximum timed repeats per case", "50");
    return qb::cli::runParsed(args, argv, [&] {
        if (!kc::available())
            throw qb::Error("bench gemm-cuda: no CUDA device is visible");
        const bool quick = args.has("quick");
        const int reps = quick ? 3 : int(args.getInt("repeats"));
        const bool torchCuda = torch::cuda::is_available();
        std::vector<int64_t> Ms = quick ? std::vector<int64_t>{1, 8} : std::vector<int64_t>{1, 16, 512};
        std::vector<std::pair<int64_t, int64_t>> NKs = quick ? std::vector<std::pair<int64_t, int64_t>>{{256, 512}}
                                                             : std::vector<std::pair<int64_t, int64_t>>{{2048, 2048}, {8192, 4096}};
        auto sync = [] { kc::synchronize(); };
        torch::NoGradGuard ng;
        torch::manual_seed(1);
        std::vector<Row> rows;
        for (auto [N, K] : NKs) {
            auto wT = torch::randn({N, K}) * 0.02;
            const float* wf = wT.data_ptr<float>();
            struct WQ { const char* name; qk::QuantSpec spec; std::vector<uint8_t> codes; std::vector<float> scales; };
            std::vector<WQ> wq = {{"int8 row", {qk::QType::INT8, qk::Gran::Row, 0}, {}, {}},
                                  {"int8 g128", {qk::QType::INT8, qk::Gran::Group, 128}, {}, {}},
                                  {"fp8 row", {qk::QType::FP8_E4M3, qk::Gran::Row, 0}, {}, {}}};
            std::vector<std::unique_ptr<DevBuf>> dCodes, dScales;
            for (auto& q : wq) {
                q.codes.resize(size_t(N * K));
                q.scales.resize(size_t(qk::num_scales(q.spec, N, K)));
                qk::quantize(wf, qk::DType::F32, N, K, K, q.spec, q.codes.data(), K, q.scales.data());
                dCodes.push_back(std::make_unique<DevBuf>(q.codes.data(), q.codes.size()));
                dScales.push_back(std::make_unique<DevBuf>(q.scales.data(), q.scales.size() * 4));
            }
            for (int64_t M : Ms) {
                auto xT = torch::randn({M, K});
                auto xB = xT.to(torch::kBFloat16);
                const auto yRef = torch::matmul(xT, wT.t());
                const double refNorm = yRef.norm().item<double>(), flop = 2.0 * double(M) * double(N) * double(K);
                DevBuf dx(xT.data_ptr<float>(), size_t(M * K) * 4), dxb(xB.data_ptr(), size_t(M * K) * 2);
                DevBuf dy(size_t(M * N) * 4), dxq(size_t(M * K)), dxs(size_t(M) * 4);
                std::vector<float> y(size_t(M * N));
                auto errOfDevice = [&] {
                    kc::copy_to_host(y.data(), dy.p, y.size() * 4);
                    return (torch::from_blob(y.data(), {M, N}) - yRef).norm().item<double>() / refNorm;
                };
                auto add = [&](const std::string& m, double s, double wbytes, double err) {
                    rows.push_back({M, N, K, m, s * 1e3, flop / s / 1e9, wbytes / s / 1e9, 0, 0, err});
                };
                double tF32 = 0, tBf16 = 0;
                if (torchCuda) {
                    auto xc = xT.to(torch::kCUDA), wc = wT.to(torch::kCUDA), xbc = xB.to(torch::kCUDA), wbc = wc.to(torch::kBFloat16);
                    auto tsync = [] { torch::cuda::synchronize(); };
                    tF32 = medianSeconds([&] { auto r = torch::matmul(xc, wc.t()); }, reps, tsync);
                    add("torch fp32 (cuBLAS)", tF32, 4.0 * N * K, (torch::matmul(xc, wc.t()).cpu() - yRef).norm().item<double>() / refNorm);
                    tBf16 = medianSeconds([&] { auto r = torch::matmul(xbc, wbc.t()); }, reps, tsync);
                    add("torch bf16 (cuBLAS)", tBf16, 2.0 * N * K,
                        (torch::matmul(xbc, wbc.t()).to(torch::kFloat).cpu() - yRef).norm().item<double>() / refNorm);
                }
                // Weight-only: X fp32 and X bf16, Y fp32.
                for (size_t i = 0; i < wq.size(); ++i)
                    for (bool xbf : {false, true}) {
                        qk::WoGemmArgs a;
                        a.M = M; a.N = N; a.K = K; a.x = xbf ? dxb.p : dx.p; a.x_type = xbf ? qk::DType::BF16 : qk::DType::F32; a.ldx = K;
                        a.w = dCodes[i]->p; a.w_type = wq[i].spec.qtype; a.ldw = K;
                        a.w_scales = dScales[i]->as<float>(); a.w_gran = wq[i].spec.gran; a.group = wq[i].spec.group;
                        a.y = dy.p; a.y_type = qk::DType::F32; a.ldy = N;
                        const double t = medianSeconds([&] { kc::gemm_wo(a); }, reps, sync);
                        add(std::string("wo ") + wq[i].name + (xbf ? " (x bf16)" : ""), t, double(N * K) + 4.0 * double(wq[i].scales.size()), errOfDevice());
                    }
                // W8A8: dynamic per-token activations quantized on the device, inside the timing.
                for (size_t i = 0; i < wq.size(); ++i) {
                    const bool fp8 = wq[i].spec.qtype == qk::QType::FP8_E4M3;
                    const qk::QuantSpec xs{wq[i].spec.qtype, qk::Gran::Row, 0};
                    auto quantX = [&] { kc::quantize(dx.p, qk::DType::F32, M, K, K, xs, dxq.p, K, dxs.as<float>()); };
                    std::function<void()> gemm;
                    qk::Int8GemmArgs ia;
                    qk::Fp8GemmArgs fa;
                    if (!fp8) {
                        ia.M = M; ia.N = N; ia.K = K; ia.x = dxq.as<int8_t>(); ia.ldx = K; ia.x_scales = dxs.as<float>();
                        ia.w = dCodes[i]->as<int8_t>(); ia.ldw = K; ia.w_scales = dScales[i]->as<float>(); ia.w_gran = wq[i].spec.gran;
                        ia.group = wq[i].spec.group; ia.y = dy.as<float>(); ia.ldy = N;
                        gemm = [&] { kc::gemm_int8(ia); };
                    } else {
                        fa.M = M; fa.N = N; fa.K = K; fa.x = dxq.as<uint8_t>(); fa.ldx = K; fa.x_scales = dxs.as<float>();
                        fa.w = dCodes[i]->as<uint8_t>(); fa.ldw = K; fa.w_scales = dScales[i]->as<float>();
                        fa.y = dy.as<float>(); fa.ldy = N;
                        gemm = [&] { kc::gemm_fp8(fa); };
                    }
                    const std::string name = std::string("w8a8 ") + wq[i].name;
                    const double wbytes = double(N * K) + 4.0 * double(wq[i].scales.size());
                    const double t = medianSeconds([&] { quantX(); gemm(); }, reps, sync);
                    add(name + " (+quant x)", t, wbytes, errOfDevice());
                    if (fp8) {
                        const double tf = medianSeconds([&] { quantX(); kc::gemm_fp8(fa, nullptr, false); }, reps, sync);
                        add(name + " (no cuBLASLt)", tf, wbytes, errOfDevice());
                    }
                }
                for (auto& r : rows)
                    if (r.M == M && r.N == N && r.K == K && torchCuda) { r.vsF32 = tF32 * 1e3 / r.ms; r.vsBf16 = tBf16 * 1e3 / r.ms; }
            }
        }
        const auto b = qb::buildInfo();
        const int cc = kc::compute_capability();
        if (args.has("json")) {
            nlohmann::json j = {{"benchmark", "gemm-cuda"}, {"git_commit", b.git_commit}, {"cuda_device", b.cuda_device},
                                {"compute_capability", cc}, {"torch_version", b.torch_version}, {"torch_cuda", torchCuda},
                                {"rows", nlohmann::json::array()}};
            for (const auto& r : rows)
                j["rows"].push_back({{"M", r.M}, {"N", r.N}, {"K", r.K}, {"method", r.method}, {"ms", r.ms}, {"gflops", r.gflops},
                                     {"weight_gbs", r.gbs}, {"speedup_vs_fp32", r.vsF32}, {"speedup_vs_bf16", r.vsBf16},
                                     {"rel_err", r.relErr}});
            std::cout << j.dump(2) << '\n';
            return 0;
        }
        std::printf("GPU %s (sm_%d), libtorch %s%s, commit %s\n\n", b.cuda_device.c_str(), cc, b.torch_version.c_str(),
                    torchCuda ? "" : " (no CUDA: torch rows skipped)", b.git_commit.c_str());
        std::printf("%5s %5s %5s  %-26s %9s %9s %8s %7s %7s %8s\n", "M", "N", "K", "method", "ms", "GFLOP/s", "W GB/s", "x fp32", "x bf16", "rel err");
        for (const auto& r : rows)
            std::printf("%5lld %5lld %5lld  %-26s %9.4f %9.1f %8.1f %7.2f %7.2f %8.1e\n", (long long)r.M, (long long)r.N, (long long)r.K,
                        r.method.c_str(), r.ms, r.gflops, r.gbs, r.vsF32, r.vsBf16, r.relErr);
        std::printf("\nrel err: ||Y - Y_fp32|| / ||Y_fp32|| against fp32 on the unquantized weights (CPU). Host-timed, synchronized.\n");
        return 0;
    });
}
#else
int runGemmCuda(const std::vector<std::string>&)
{
    std::cerr << "quantbench-cli: bench gemm-cuda: this build has no CUDA kernels (configure with -DQB_CUDA=ON and nvcc)\n";
    return 2;
}
#endif

QB_BENCH("gemm-cuda", "CUDA kernels vs cuBLAS: weight-only, INT8 W8A8, FP8 W8A8 (needs a GPU)", runGemmCuda);

} // namespace
