// `quantbench-cli bench gemm`: libtorch fp32/bf16 matmul vs our W8A8 INT8 GEMM and weight-only
// INT8/FP8 GEMV/GEMM, plus a streaming-read bandwidth probe, side by side in one run.
// Each case: warm-up, then repeats until ~0.25 s (at least 3, at most --repeats), median.
#include "app/cli/bench.h"
#include "app/cli/command.h"
#include "app/cli/split.h"
#include "core/util/build_info.h"
#include "core/util/error.h"
#include "kernels/gemm_dense.h"
#include "kernels/gemm_int8.h"
#include "kernels/gemm_int8_onednn.h"
#include "kernels/gemm_wo.h"
#include "kernels/quant.h"

#include <torch/torch.h>
#include <omp.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <fstream>
#include <cstdio>
#include <iostream>
#include <random>
#include <vector>

namespace {

namespace qk = qb::kernels;
using Clock = std::chrono::steady_clock;
using qb::cli::medianSeconds;
using qb::cli::bandwidthGBs;
using qb::cli::streamRead;

// A kernel whose weights come from DRAM, timed in alternation with a streaming read of the same
// number of bytes (another copy each call, as cold as the kernel's): on a shared machine DRAM
// bandwidth drifts by tens of percent within a minute, so only a probe interleaved call by call
// gives a fair ratio. Returns the medians {kernel s, probe s}.
std::pair<double, double> pairedCold(const std::function<void(const uint8_t*)>& kernel,
                                     const std::vector<std::vector<uint8_t>>& copies, int pairs)
{
    volatile uint64_t sink = 0;
    std::vector<double> tk, tp;
    size_t ci = 0;
    for (int r = 0; r <= pairs; ++r) {                         // r == 0: warm-up pair
        const auto t0 = Clock::now();
        kernel(copies[ci].data());
        ci = (ci + 1) % copies.size();
        const auto t1 = Clock::now();
        sink = sink + streamRead(copies[ci].data(), copies[ci].size() / 64 * 64);
        ci = (ci + 1) % copies.size();
        const auto t2 = Clock::now();
        if (r == 0) continue;
        tk.push_back(std::chrono::duration<double>(t1 - t0).count());
        tp.push_back(std::chrono::duration<double>(t2 - t1).count());
    }
    std::sort(tk.begin(), tk.end());
    std::sort(tp.begin(), tp.end());
    return {tk[tk.size() / 2], tp[tp.size() / 2]};
}

// The machine's 1-minute load average: benchmarks on a shared machine are only as good as this.
double loadAverage()
{
    std::ifstream f("/proc/loadavg");
    double l = -1;
    f >> l;
    return l;
}

// relErr: ||y - y_fp32|| / ||y_fp32|| of the method's output against libtorch fp32 on the unquantized
// weights (quantization error plus any kernel bug; NaN where it does not apply).
struct Row { int64_t M, N, K; std::string method; double ms, gflops, gbs, vsF32, vsBf16, pctBw, relErr; };

// "1,16,512" -> {1, 16, 512}; "4864x896,896x4864" -> {{4864, 896}, {896, 4864}} (N x K).
std::vector<int64_t> parseRows(const std::string& s)
{
    std::vector<int64_t> out;
    for (const auto& t : qb::cli::splitComma(s)) {
        char* end = nullptr;
        const long long v = std::strtoll(t.c_str(), &end, 10);
        if (t.empty() || *end != '\0' || v < 1 || v > 65536) throw qb::Error("bench gemm: --rows: \"" + t + "\" is not a row count in 1..65536");
        out.push_back(v);
    }
    if (out.empty()) throw qb::Error("bench gemm: --rows is empty");
    return out;
}
std::vector<std::pair<int64_t, int64_t>> parseShapes(const std::string& s)
{
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const auto& t : qb::cli::splitComma(s)) {
        long long n = 0, k = 0;
        char tail = 0;
        if (std::sscanf(t.c_str(), "%lldx%lld%c", &n, &k, &tail) != 2 || n < 1 || k < 1 || n > 262144 || k > 65536)
            throw qb::Error("bench gemm: --shapes: \"" + t + "\" is not N x K (e.g. 4864x896; N <= 262144, K <= 65536)");
        out.emplace_back(n, k);
    }
    if (out.empty()) throw qb::Error("bench gemm: --shapes is empty");
    return out;
}

int runGemm(const std::vector<std::string>& argv)
{
    qb::cli::Args args("bench gemm", "[--json] [--quick] [--repeats N] [--bw-mb MB] [--rows 1,16,512] [--shapes NxK,...]");
    args.flag("json", "machine-readable output").flag("quick", "small shapes, few repeats (tests)")
        .option("repeats", "maximum timed repeats per case", "20")
        .option("rows", "rows of X (M) to time, comma-separated", "1,16,512")
        .option("shapes", "weight shapes N x K to time, comma-separated (e.g. 4864x896,896x4864)", "2048x2048,8192x4096")
        .option("bw-mb", "bandwidth probe buffer in MiB (>> last-level cache)", "1024");
    return qb::cli::runParsed(args, argv, [&] {
        const bool quick = args.has("quick");
        // Same thread count for libtorch and our OpenMP kernels.
        const int threads = std::max(1, omp_get_max_threads());
        torch::set_num_threads(threads);
        const int reps = quick ? 3 : int(args.getInt("repeats"));
        std::vector<int64_t> Ms = quick ? std::vector<int64_t>{1, 8} : parseRows(args.get("rows"));
        std::vector<std::pair<int64_t, int64_t>> NKs = quick ? std::vector<std::pair<int64_t, int64_t>>{{256, 512}}
                                                             : parseShapes(args.get("shapes"));
        const double load0 = loadAverage();
        const double bw = bandwidthGBs(size_t(quick ? 64 : args.getInt("bw-mb")) << 20, quick ? 3 : 10);
        torch::NoGradGuard ng;
        std::vector<Row> rows;
        std::mt19937 rng(1);
        for (auto [N, K] : NKs) {
            // Weights: float master, INT8 / FP8 codes (per row and per group 128), packed VNNI layout.
            auto wT = torch::randn({N, K}) * 0.02;
            auto wB = wT.to(torch::kBFloat16);
            const float* wf = wT.data_ptr<float>();
            std::vector<uint8_t> wi8(size_t(N * K)), wi8g(size_t(N * K)), wf8(size_t(N * K));
            std::vector<float> si8(static_cast<size_t>(N)), si8g(size_t(N * ((K + 127) / 128))), sf8(static_cast<size_t>(N));
            qk::quantize(wf, qk::DType::F32, N, K, K, {qk::QType::INT8, qk::Gran::Row, 0}, wi8.data(), K, si8.data());
            qk::quantize(wf, qk::DType::F32, N, K, K, {qk::QType::INT8, qk::Gran::Group, 128}, wi8g.data(), K, si8g.data());
            qk::quantize(wf, qk::DType::F32, N, K, K, {qk::QType::FP8_E4M3, qk::Gran::Row, 0}, wf8.data(), K, sf8.data());
            const bool vnni = qk::simd_enabled();
            qk::PackedInt8Weight pRow, pGrp;
            if (vnni) {
                pRow = qk::pack_int8_weight(reinterpret_cast<const int8_t*>(wi8.data()), N, K, K, si8.data(), qk::Gran::Row, 0);
                pGrp = qk::pack_int8_weight(reinterpret_cast<const int8_t*>(wi8g.data()), N, K, K, si8g.data(), qk::Gran::Group, 128);
            }
            const qk::OnednnInt8WeightPtr oRow =
                qk::onednn_pack_int8(reinterpret_cast<const int8_t*>(wi8.data()), N, K, K, si8.data(), qk::Gran::Row);
            for (int64_t M : Ms) {
                auto xT = torch::randn({M, K});
                auto xB = xT.to(torch::kBFloat16);
                const float* xf = xT.data_ptr<float>();
                std::vector<float> y(size_t(M * N)), xs(static_cast<size_t>(M));
                std::vector<int8_t> xq(size_t(M * K));
                const double flop = 2.0 * double(M) * double(N) * double(K);
                const auto yRef = torch::matmul(xT, wT.t());
                const double refNorm = yRef.norm().item<double>();
                // Error of the output the last timed call left in y (our kernels write y, fp32).
                auto errOf = [&](const torch::Tensor& out) { return (out.to(torch::kFloat) - yRef).norm().item<double>() / refNorm; };
                auto yErr = [&] { return errOf(torch::from_blob(y.data(), {M, N}, torch::kFloat)); };
                auto add = [&](const std::string& method, double s, double wbytes, double err) {
                    rows.push_back({M, N, K, method, s * 1e3, flop / s / 1e9, wbytes / s / 1e9, 0, 0, wbytes / s / 1e9 / bw * 100, err});
                };
                const double tF32 = medianSeconds([&] { auto r = torch::matmul(xT, wT.t()); }, reps);
                add("torch fp32", tF32, 4.0 * N * K, 0.0);
                const double tBf16 = medianSeconds([&] { auto r = torch::matmul(xB, wB.t()); }, reps);
                add("torch bf16", tBf16, 2.0 * N * K, errOf(torch::matmul(xB, wB.t())));
                // Our dense GEMM on the bf16 weights (the bf16 baseline where core routes it): X and Y bf16,
                // as in a bf16 model; and on the fp32 weights with fp32 X and Y.
                if (qk::simd_enabled()) {
                    std::vector<uint16_t> yb(size_t(M * N));
                    qk::DenseGemmArgs d;
                    d.M = M; d.N = N; d.K = K; d.x = xB.data_ptr(); d.x_type = qk::DType::BF16; d.ldx = K;
                    d.w = wB.data_ptr(); d.w_type = qk::DType::BF16; d.ldw = K; d.y = yb.data(); d.y_type = qk::DType::BF16; d.ldy = N;
                    const double tq = medianSeconds([&] { qk::gemm_dense(d); }, reps);
                    add("qb dense bf16", tq, 2.0 * N * K, errOf(torch::from_blob(yb.data(), {M, N}, torch::kBFloat16)));
                    if (M == 1) {
                        // The bf16 decode GEMV (every bf16 linear and the bf16 lm_head of every scheme)
                        // with W from DRAM, against the read probe paired call by call, as for wo below.
                        const auto* wb = static_cast<const uint8_t*>(wB.data_ptr());
                        const size_t bytes = size_t(2 * N * K);
                        const size_t copies = std::max<size_t>(3, size_t((int64_t(1) << 30) / int64_t(bytes)));
                        std::vector<std::vector<uint8_t>> cold(quick ? 3 : copies, std::vector<uint8_t>(wb, wb + bytes));
                        const auto [tc, tp] = pairedCold([&](const uint8_t* w) { d.w = w; qk::gemm_dense(d); }, cold, quick ? 3 : 60);
                        d.w = wB.data_ptr();
                        add("qb dense bf16 (cold W)", tc, 2.0 * N * K, errOf(torch::from_blob(yb.data(), {M, N}, torch::kBFloat16)));
                        rows.back().pctBw = tp / tc * 100;
                    }
                    d.x = xf; d.x_type = qk::DType::F32; d.w = wT.data_ptr(); d.w_type = qk::DType::F32; d.y = y.data(); d.y_type = qk::DType::F32;
                    const double tf = medianSeconds([&] { qk::gemm_dense(d); }, reps);
                    add("qb dense fp32", tf, 4.0 * N * K, yErr());
                }
                auto quantX = [&] { qk::quantize_rows_int8(xf, qk::DType::F32, M, K, K, 127.0f, xq.data(), K, xs.data()); };
                quantX();
                for (auto [p, name, sbytes] : {std::tuple{&pRow, "w8a8 int8 row", 4.0 * N}, std::tuple{&pGrp, "w8a8 int8 g128", 4.0 * N * ((K + 127) / 128)}}) {
                    qk::Int8GemmArgs a;
                    a.M = M; a.N = N; a.K = K; a.x = xq.data(); a.ldx = K; a.x_scales = xs.data(); a.y = y.data(); a.ldy = N;
                    if (vnni) {
                        const double tg = medianSeconds([&] { qk::gemm_int8_packed(*p, a); }, reps);
                        add(std::string(name) + " (gemm)", tg, double(N * K) + sbytes, yErr());
                        const double tq = medianSeconds([&] { quantX(); qk::gemm_int8_packed(*p, a); }, reps);
                        add(std::string(name) + " (+quant x)", tq, double(N * K) + sbytes, yErr());
                    }
                    // oneDNN's int8 matmul (the path real W8A8 linears take where it is built in), per row.
                    if (p == &pRow && oRow) {
                        const double t = medianSeconds([&] { qk::gemm_int8_onednn(*oRow, a, y.data(), qk::DType::F32, N); }, reps);
                        add(std::string(name) + " (dnnl)", t, double(N * K) + sbytes, yErr());
                        const double tq = medianSeconds([&] { quantX(); qk::gemm_int8_onednn(*oRow, a, y.data(), qk::DType::F32, N); }, reps);
                        add(std::string(name) + " (dnnl+qx)", tq, double(N * K) + sbytes, yErr());
                    }
                    // The AVX2 fallbacks on the same packed weight (forced), per-row scales only.
                    if (vnni && p == &pRow)
                        for (qk::Isa level : {qk::Isa::AvxVnni, qk::Isa::Avx2}) {
                            if (!qk::cpu_supports(level) || qk::isa() <= level) continue;
                            qk::set_isa(level);
                            const double t = medianSeconds([&] { qk::gemm_int8_packed(*p, a); }, reps);
                            qk::reset_isa();
                            add(std::string(name) + " (" + qk::isa_name(level) + ")", t, double(N * K) + sbytes, yErr());
                        }
                }
                // Weight-only: X fp32 (as the fp32 baseline) and X bf16 (the input libtorch bf16 gets).
                const void* xBits = xB.data_ptr();
                for (bool xbf : {false, true})
                    for (auto [codes, sc, qt, name] : {std::tuple{&wi8, &si8, qk::QType::INT8, "wo int8 row"},
                                                       std::tuple{&wi8g, &si8g, qk::QType::INT8, "wo int8 g128"},
                                                       std::tuple{&wf8, &sf8, qk::QType::FP8_E4M3, "wo fp8 row"}}) {
                        qk::WoGemmArgs a;
                        a.M = M; a.N = N; a.K = K; a.x = xbf ? xBits : static_cast<const void*>(xf);
                        a.x_type = xbf ? qk::DType::BF16 : qk::DType::F32; a.ldx = K;
                        a.w = codes->data(); a.w_type = qt; a.ldw = K;
                        a.w_scales = sc->data(); a.w_gran = sc->size() == size_t(N) ? qk::Gran::Row : qk::Gran::Group; a.group = 128;
                        a.y = y.data(); a.ldy = N;
                        const double wbytes = double(N * K) + 4.0 * double(sc->size());
                        const double t = medianSeconds([&] { qk::gemm_wo(a); }, reps);
                        add(std::string(name) + (xbf ? " (x bf16)" : ""), t, wbytes, yErr());
                        if (xbf && M >= qk::wo_onednn_min_rows() && qk::wo_onednn_available()) {
                            // The other prefill implementation, forced (gemm_wo picks one per CPU).
                            const bool dnnlNow = qk::wo_uses_onednn(a);
                            const qk::WoPath before = qk::wo_path();
                            qk::set_wo_path(dnnlNow ? qk::WoPath::Kernels : qk::WoPath::Onednn);
                            const double to = medianSeconds([&] { qk::gemm_wo(a); }, reps);
                            qk::set_wo_path(before);
                            add(std::string(name) + (dnnlNow ? " (x bf16, panels)" : " (x bf16, dnnl)"), to, wbytes, yErr());
                        }
                        if (!xbf && codes == &wi8 && M == 1) {
                            // The same GEMV with W streamed from DRAM, as in inference: every call
                            // reads another copy of the codes, >= 1 GiB in all (like the probe), so
                            // the weights cannot sit in the last-level cache between calls.
                            const size_t copies = std::max<size_t>(3, size_t((int64_t(1) << 30) / (N * K)));
                            std::vector<std::vector<uint8_t>> cold(quick ? 3 : copies, *codes);
                            const auto [tc, tp] = pairedCold([&](const uint8_t* w) { a.w = w; qk::gemm_wo(a); }, cold, quick ? 3 : 60);
                            a.w = codes->data();
                            add(std::string(name) + " (cold W)", tc, wbytes, yErr());
                            rows.back().pctBw = tp / tc * 100;     // of the paired probe, see pairedCold
                            add("read probe (cold, paired)", tp, double(N * K), std::nan(""));
                            rows.back().pctBw = 100;
                        }
                        if (!xbf && codes == &wi8 && qk::cpu_supports(qk::Isa::Avx2) && qk::isa() > qk::Isa::AvxVnni) {
                            qk::set_isa(qk::Isa::Avx2);
                            const double t2 = medianSeconds([&] { qk::gemm_wo(a); }, reps);
                            qk::reset_isa();
                            add(std::string(name) + " (avx2)", t2, wbytes, yErr());
                        }
                    }
                for (auto& r : rows)
                    if (r.M == M && r.N == N && r.K == K) { r.vsF32 = tF32 * 1e3 / r.ms; r.vsBf16 = tBf16 * 1e3 / r.ms; }
            }
        }
        const double bwEnd = bandwidthGBs(size_t(quick ? 64 : args.getInt("bw-mb")) << 20, quick ? 3 : 10);
        const auto b = qb::buildInfo();
        if (args.has("json")) {
            nlohmann::json j = {{"benchmark", "gemm"}, {"git_commit", b.git_commit}, {"cpu", b.cpu},
                                {"torch_version", b.torch_version}, {"threads", threads}, {"torch_threads", torch::get_num_threads()},
                                {"avx512_vnni", qk::cpu_has_avx512_vnni()}, {"isa", qk::isa_name(qk::isa())}, {"bandwidth_gbs", bw}, {"bandwidth_gbs_end", bwEnd}, {"loadavg_start", load0}, {"loadavg_end", loadAverage()}, {"rows", nlohmann::json::array()}};
            for (const auto& r : rows)
                j["rows"].push_back({{"M", r.M}, {"N", r.N}, {"K", r.K}, {"method", r.method}, {"ms", r.ms}, {"gflops", r.gflops},
                                     {"weight_gbs", r.gbs}, {"speedup_vs_fp32", r.vsF32}, {"speedup_vs_bf16", r.vsBf16},
                                     {"pct_bandwidth", r.pctBw}, {"rel_err", std::isnan(r.relErr) ? nlohmann::json() : nlohmann::json(r.relErr)}});
            std::cout << j.dump(2) << '\n';
        } else {
            std::printf("CPU %s, %d threads (libtorch %d), kernels ISA %s, libtorch %s, commit %s\n", b.cpu.c_str(), threads, torch::get_num_threads(),
                        qk::isa_name(qk::isa()), b.torch_version.c_str(), b.git_commit.c_str());
            std::printf("streaming read bandwidth: %.1f GB/s at start, %.1f at end; load average %.1f at start, %.1f at end\n\n", bw, bwEnd,
                        load0, loadAverage());
            std::printf("%5s %5s %5s  %-26s %9s %9s %8s %7s %7s %6s %8s\n", "M", "N", "K", "method", "ms", "GFLOP/s", "W GB/s", "x fp32", "x bf16",
                        "%bw", "rel err");
            for (const auto& r : rows) {
                char err[16] = "       -";
                if (!std::isnan(r.relErr)) std::snprintf(err, sizeof err, "%8.1e", r.relErr);
                std::printf("%5lld %5lld %5lld  %-26s %9.3f %9.1f %8.1f %7.2f %7.2f %6.1f %s\n", (long long)r.M, (long long)r.N,
                            (long long)r.K, r.method.c_str(), r.ms, r.gflops, r.gbs, r.vsF32, r.vsBf16, r.pctBw, err);
            }
            std::printf("\nW GB/s: weight bytes read per second (codes + scales; fp32/bf16 for torch). %%bw: of the probe at start.\n"
                        "wo rows: X fp32 unless \"(x bf16)\"; (avx2) / (avxvnni): the fallback kernels, forced; (dnnl): oneDNN int8 matmul + our epilogue, +qx: with the X quantization;\n"
                        "wo (x bf16, dnnl) / (x bf16, panels): the prefill implementation gemm_wo did not pick here, forced (oneDNN bf16 matmul on decoded blocks / our panels).\n"
                        "Other rows reuse one weight matrix, which may stay in the last-level cache (%%bw > 100).\n"
                        "(cold W): a different copy per call, streamed from DRAM. Its %%bw is of the \"read probe (cold, paired)\" row\n"
                        "below it: the same bytes streamed from another cold copy by all threads, timed in alternation with the\n"
                        "kernel, call by call (medians), because DRAM bandwidth on a shared machine drifts between runs.\n");
        }
        return 0;
    });
}

QB_BENCH("gemm", "libtorch matmul vs W8A8 INT8 and weight-only INT8/FP8 GEMM/GEMV", runGemm);

} // namespace
