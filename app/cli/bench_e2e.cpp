// `quantbench-cli bench e2e`: the whole engine per scheme, side by side in one process: PPL
// tokens/s, prefill samples/s, batch-1 decode tokens/s with its % of the bandwidth roofline, peak
// resident memory and weight bytes, each as a ratio to the first (baseline) row, and the logits'
// relative error against a float32 copy of the model, so a fast wrong kernel shows in the table.
// With --policies, the baseline's PPL tokens/s under the thread / GEMM policies that were the
// candidates (the chosen one first), which is how the thread policy was picked.
#include "app/cli/bench.h"
#include "app/cli/command.h"
#include "app/cli/split.h"
#include "core/eval/ppl.h"
#include "core/eval/throughput.h"
#include "core/model/dense_gemm.h"
#include "core/model/llama.h"
#include "core/quant/model_quantizer.h"
#include "core/quant/scheme.h"
#include "core/tokenizer/tokenizer.h"
#include "core/data/text_data.h"
#include "core/util/build_info.h"
#include "core/util/error.h"
#include "core/util/memory.h"
#include "core/util/threads.h"
#include "core/util/torch_compat.h"
#include "kernels/common.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<int32_t> randomTokens(int64_t n, int64_t vocab, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int64_t> d(0, vocab - 1);
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& v : t) v = int32_t(d(rng));
    return t;
}

int runBenchE2e(const std::vector<std::string>& argv)
{
    qb::cli::Args args("bench e2e", "[--model DIR] [--schemes LIST] [--device cpu|cuda] [--policies] [--json]");
    args.option("model", "model folder", qb::cli::demoModelDir())
        .option("dtype", "baseline dtype BF16 or FP32", "BF16")
        .option("schemes", "comma list after the baseline (real schemes; fake ones work too)",
                "INT8_Per_Row,INT8_Per_Group_128,FP8_Per_Row,SmoothQuant_INT8_W8A8")
        .option("device", "cpu or cuda", "cpu")
        .option("ppl-text", "text for PPL and calibration (needs the model's tokenizer.json); default: random token ids")
        .option("ctx", "PPL window", "512")
        .option("windows", "PPL windows", "2")
        .option("prefill-batch", "prompts per prefill batch", "4")
        .option("prefill-len", "tokens per prefill prompt", "128")
        .option("decode-prompt", "prompt before the decode steps", "32")
        .option("decode-tokens", "batch-1 decode steps", "32")
        .option("repeats", "timed repeats of prefill / decode (median)", "3")
        .option("bw-mb", "bandwidth probe buffer in MiB", "1024")
        .option("paired", "decode ratio to the baseline also from this many back-to-back pairs (baseline, scheme), median; 0: off", "3")
        .flag("policies", "also time the baseline PPL under the candidate thread / GEMM policies")
        .flag("json", "machine-readable output");
    return qb::cli::runParsed(args, argv, [&] {
        qb::compat::InferenceGuard guard;
        const std::string dir = args.get("model");
        const bool bf16 = args.get("dtype") == "BF16";
        if (!bf16 && args.get("dtype") != "FP32")
            throw qb::Error("bench e2e: --dtype must be BF16 or FP32");
        const at::ScalarType dt = bf16 ? at::kBFloat16 : at::kFloat;
        const std::string devName = args.get("device");
        if (devName != "cpu" && devName.rfind("cuda", 0) != 0)
            throw qb::Error("bench e2e: --device must be cpu or cuda");
        if (devName != "cpu" && !qb::compat::cudaAvailable())
            throw qb::Error("bench e2e: --device " + devName + " asked for, but CUDA is not available in this build or machine");
        const torch::Device dev(devName);
        const int64_t ctx = args.getInt("ctx"), windows = args.getInt("windows"), R = args.getInt("repeats");
        if (ctx < 2 || windows < 1 || R < 1)
            throw qb::Error("bench e2e: --ctx >= 2, --windows >= 1, --repeats >= 1");
        std::vector<qb::QuantScheme> schemes{qb::QuantScheme::baseline(args.get("dtype"))};
        for (const auto& n : qb::cli::splitComma(args.get("schemes")))
            schemes.push_back(qb::QuantScheme::parse(n));

        const double bw = qb::cli::bandwidthGBs(size_t(args.getInt("bw-mb")) << 20, 5);
        const qb::ModelConfig cfg = qb::loadConfig(std::filesystem::path(dir) / "config.json");
        const int64_t ctxUsed = std::min(ctx, cfg.max_position_embeddings);
        std::vector<int32_t> tokens;
        if (args.has("ppl-text")) {
            auto tok = qb::Tokenizer::fromFile(dir);
            tokens = tok.encode(qb::loadText(args.get("ppl-text")).text, true);
        } else {
            tokens = randomTokens(ctxUsed * windows, cfg.vocab_size, 1);
        }

        // Float32 reference logits of one 64-token window (the model in fp32, then freed).
        const int64_t refLen = std::min<int64_t>(64, int64_t(tokens.size()));
        at::Tensor refIds = torch::tensor(std::vector<int64_t>(tokens.begin(), tokens.begin() + refLen), torch::kLong).view({1, refLen});
        at::Tensor refLogits;
        {
            auto f32 = qb::LlamaModel::load(dir, at::kFloat, dev);
            refLogits = f32->forward(refIds).to(torch::kCPU);
        }
        qb::releaseFreeMemory();

        const uint64_t rssBase = qb::residentBytes(); // libraries, before any weight of the model under test
        qb::resetPeakResident();
        const auto tLoad = Clock::now();
        auto model = qb::LlamaModel::load(dir, dt, dev);
        const double loadSeconds = secondsSince(tLoad);
        const uint64_t loadPeak = qb::peakResidentBytes();
        const uint64_t baselineBytes = model->weightBytes();
        qb::ModelQuantizer quant(*model);

        qb::PplOptions po;
        po.ctx = ctx;
        po.maxWindows = windows;
        qb::ThroughputTaskSettings ts;
        ts.prefill_batch = args.getInt("prefill-batch");
        ts.prefill_len = args.getInt("prefill-len");
        ts.decode_batch = 1;
        ts.decode_prompt = args.getInt("decode-prompt");
        ts.decode_tokens = args.getInt("decode-tokens");
        ts.warmup = 1;
        ts.repeats = int(R);
        const int64_t pairs = args.getInt("paired");
        if (pairs < 0 || pairs > 100)
            throw qb::Error("bench e2e: --paired must be 0..100");

        nlohmann::json rows = nlohmann::json::array();
        for (const auto& s : schemes) {
            nlohmann::json row = {{"scheme", s.name()}};
            try {
                if (s.smoothing == qb::Smoothing::SmoothQuant && !quant.calibrated())
                    quant.calibrate(qb::tokenWindows(tokens, 8, std::min<int64_t>(ctxUsed, 512)));
                qb::releaseFreeMemory(); // the previous row's activations, kept as free heap
                qb::resetPeakResident();
                if (dev.is_cuda()) qb::compat::cudaResetPeak(dev.index() < 0 ? 0 : dev.index());
                const auto tq = Clock::now();
                quant.apply(s);
                row["quantize_seconds"] = secondsSince(tq);
                row["quantize_peak_net_over_baseline_weights"] = (double(qb::peakResidentBytes()) - double(rssBase)) / double(baselineBytes);
                // What stays resident once the scheme is built: the baseline kept once plus the scheme's
                // copy. Everything the row's peak adds on top of it is activations and KV cache.
                qb::releaseFreeMemory();
                const uint64_t held = qb::residentBytes();
                row["held_net_over_baseline_weights"] = (double(held) - double(rssBase)) / double(baselineBytes);
                (void)qb::perplexity(*model, tokens, [&] { auto o = po; o.maxWindows = 1; return o; }()); // warm-up
                const auto tp0 = Clock::now();
                const qb::PplResult p = qb::perplexity(*model, tokens, po);
                const double pplSeconds = secondsSince(tp0);
                const auto tt0 = Clock::now();
                const qb::ThroughputResult t = qb::measureThroughput(*model, ts, 0);
                // Progress on stderr: a slow configuration shows while it runs, not only at the end.
                std::fprintf(stderr, "[bench e2e] %s: quantize %.1f s (peak net/W %.2f), PPL %.1f s (%.1f tok/s), throughput %.1f s (decode %.2f tok/s)\n",
                             s.name().c_str(), row["quantize_seconds"].get<double>(),
                             row["quantize_peak_net_over_baseline_weights"].get<double>(), pplSeconds, double(p.nTokens) / p.seconds,
                             secondsSince(tt0), t.decode_tokens_per_s);
                const at::Tensor lg = model->forward(refIds).to(torch::kCPU);
                const double relErr = ((lg - refLogits).norm() / refLogits.norm()).item<double>();
                const double bytesTok = double(model->decodeBytesPerToken());
                row["ppl_tokens_per_s"] = double(p.nTokens) / p.seconds;
                row["ppl"] = p.ppl;
                row["prefill_samples_per_s"] = t.prefill_samples_per_s;
                row["decode_tokens_per_s"] = t.decode_tokens_per_s;
                row["decode_bytes_per_token"] = bytesTok;
                row["weight_bytes"] = double(model->weightBytes());
                row["kv_cache_bytes"] = double(t.kv_cache_bytes);
                row["peak_resident_bytes"] = double(qb::peakResidentBytes());
                row["activation_kv_peak_bytes"] = std::max(0.0, double(qb::peakResidentBytes()) - double(held));
                // Net of what the process held before loading (libraries, allocator): the budget's measure.
                row["peak_net_over_baseline_weights"] =
                    (double(qb::peakResidentBytes()) - double(rssBase)) / double(baselineBytes);
                if (dev.is_cuda()) row["peak_device_bytes"] = t.peak_device_mb * double(1 << 20);
                row["rel_err_vs_fp32"] = relErr;
                // The roofline against a probe taken after this row (once its peak memory is read): a
                // shared host's bandwidth drifts (30-62 GB/s within one hour here), so the start-up
                // probe alone would move every later row's %roof by the drift.
                const double rowBw = qb::cli::bandwidthGBs(size_t(args.getInt("bw-mb")) << 20, 5);
                row["bandwidth_gbs"] = rowBw;
                row["pct_roofline"] = 100.0 * bytesTok * t.decode_tokens_per_s / (rowBw * 1e9);
                // The decode ratio from rows minutes apart carries the host's drift (a shared machine's
                // bandwidth moves by 2x within the hour); pairs of decode runs back to back, baseline and
                // scheme in alternating order, do not. Each half rebuilds its model from the kept baseline
                // (the next row applies its own scheme).
                if (!rows.empty() && pairs > 0) {
                    qb::ThroughputTaskSettings d = ts;
                    d.prefill_batch = 1;
                    d.prefill_len = 1;
                    d.warmup = 0;
                    d.repeats = 1;
                    std::vector<double> ratios;
                    bool onScheme = true;
                    for (int64_t i = 0; i < pairs; ++i) {
                        double tb = 0, tsch = 0;
                        for (int half = 0; half < 2; ++half) {
                            const bool base = (half == 0) == (i % 2 == 0);
                            if (base && onScheme) quant.restore();
                            else if (!base && !onScheme) quant.apply(s);
                            onScheme = !base;
                            (base ? tb : tsch) = qb::measureThroughput(*model, d, uint64_t(i)).decode_tokens_per_s;
                        }
                        if (tb > 0) ratios.push_back(tsch / tb);
                    }
                    std::sort(ratios.begin(), ratios.end());
                    if (!ratios.empty()) {
                        row["decode_paired_vs_baseline"] = ratios[ratios.size() / 2];
                        row["decode_paired_vs_baseline_min"] = ratios.front();
                        row["decode_paired_vs_baseline_max"] = ratios.back();
                    }
                }
            } catch (const qb::Error& e) {
                row["error"] = e.what();
            }
            rows.push_back(row);
        }
        quant.restore();
        const nlohmann::json& base = rows[0];
        for (auto& r : rows)
            for (const char* k : {"ppl_tokens_per_s", "prefill_samples_per_s", "decode_tokens_per_s", "weight_bytes"})
                if (r.contains(k) && base.contains(k) && base[k].get<double>() > 0)
                    r[std::string(k) + "_vs_baseline"] = r[k].get<double>() / base[k].get<double>();

        // Candidate policies for the baseline's PPL (fp32 weights through libtorch need a BLAS; bf16
        // through libtorch on a CPU without AVX-512 is a scalar loop, so those rows use fp32 as the
        // libtorch baseline would have to).
        nlohmann::json policies = nlohmann::json::array();
        if (args.has("policies") && dev.is_cpu()) {
            const qb::ThreadPolicy tp = qb::currentThreadPolicy();
            auto f32 = dt == at::kFloat ? model : qb::LlamaModel::load(dir, at::kFloat, dev);
            struct P { std::string name; qb::LlamaModel* m; std::optional<qb::DensePath> path; int torch, blas; };
            const int n = tp.threads;
            std::vector<P> ps = {
                {"chosen: " + std::string(dt == at::kFloat ? "fp32" : "bf16") + " " + qb::densePolicy() + ", libtorch N, BLAS 1", model.get(), std::nullopt, n, 1},
                {"fp32 kernels, libtorch N, BLAS 1", f32.get(), qb::DensePath::Kernels, n, 1},
                {"fp32 libtorch linears, libtorch 1, BLAS N (Debian default)", f32.get(), qb::DensePath::Torch, 1, n},
                {"fp32 libtorch linears, libtorch N, BLAS N", f32.get(), qb::DensePath::Torch, n, n},
                {"fp32 libtorch linears, libtorch N, BLAS 1", f32.get(), qb::DensePath::Torch, n, 1},
            };
            for (const auto& c : ps) {
                qb::forceDensePath(c.path);
                at::set_num_threads(c.torch);
                qb::setBlasThreads(c.blas);
                (void)qb::perplexity(*c.m, tokens, [&] { auto o = po; o.maxWindows = 1; return o; }());
                const qb::PplResult p = qb::perplexity(*c.m, tokens, po);
                std::fprintf(stderr, "[bench e2e] policy %s: %.1f PPL tok/s\n", c.name.c_str(), double(p.nTokens) / p.seconds);
                policies.push_back({{"policy", c.name}, {"ppl_tokens_per_s", double(p.nTokens) / p.seconds},
                                    {"torch_threads", c.torch}, {"blas_threads", c.blas}});
            }
            qb::forceDensePath(std::nullopt);
            qb::applyThreadPolicy(tp.source == "requested" ? tp.threads : 0);
        }

        const auto b = qb::buildInfo();
        const qb::ThreadPolicy tp = qb::currentThreadPolicy();
        nlohmann::json out = {{"benchmark", "e2e"}, {"model", dir}, {"architecture", cfg.architecture},
                              {"layers", cfg.num_hidden_layers}, {"dtype", args.get("dtype")}, {"device", dev.str()},
                              {"cpu", b.cpu}, {"kernels_isa", qb::kernels::isa_name(qb::kernels::isa())},
                              {"amx_int8", false}, {"dense_policy", qb::densePolicy()}, {"threads", tp.toJson()},
                              {"git_commit", b.git_commit}, {"torch_version", b.torch_version},
                              {"bandwidth_gbs", bw}, {"ctx", ctxUsed}, {"windows", windows},
                              {"load_seconds", loadSeconds}, {"load_peak_resident_bytes", double(loadPeak)}, {"resident_before_load_bytes", double(rssBase)},
                              {"baseline_weight_bytes", double(baselineBytes)}, {"rows", rows}, {"policies", policies}};
        {
            std::ifstream ci("/proc/cpuinfo");
            std::string line;
            while (std::getline(ci, line))
                if (line.rfind("flags", 0) == 0) {
                    out["amx_int8"] = line.find(" amx_int8") != std::string::npos;
                    out["avx512_vnni"] = line.find(" avx512_vnni") != std::string::npos;
                    break;
                }
        }
        if (args.has("json")) {
            std::cout << out.dump(2) << '\n';
            return 0;
        }
        std::printf("model %s (%s, %lld layers, %s) on %s; CPU %s, kernels %s, AMX-INT8 %s\n", dir.c_str(),
                    cfg.architecture.c_str(), (long long)cfg.num_hidden_layers, args.get("dtype").c_str(), dev.str().c_str(),
                    b.cpu.c_str(), qb::kernels::isa_name(qb::kernels::isa()), out["amx_int8"].get<bool>() ? "yes" : "no");
        std::printf("threads %d (%s), BLAS %s x%d, OpenMP wait %s; %s; read bandwidth %.1f GB/s; commit %s\n", tp.threads,
                    tp.source.c_str(), tp.blas.c_str(), tp.blas_threads, qb::ompWaitDescription().c_str(), qb::densePolicy().c_str(), bw,
                    b.git_commit.c_str());
        std::printf("resident before load %s; load %.2f s, peak %s for %s of weights; PPL ctx %lld x %lld windows; prefill %lld x %lld; decode %lld after %lld\n\n",
                    qb::formatBytes(rssBase).c_str(), loadSeconds, qb::formatBytes(loadPeak).c_str(), qb::formatBytes(baselineBytes).c_str(), (long long)ctxUsed,
                    (long long)windows, (long long)ts.prefill_batch, (long long)ts.prefill_len, (long long)ts.decode_tokens,
                    (long long)ts.decode_prompt);
        std::printf("%-26s %10s %6s %10s %6s %9s %6s %6s %6s %6s %10s %10s %6s %6s %6s %9s %9s\n", "scheme", "PPL tok/s", "x", "prefill/s", "x",
                    "decode/s", "x", "x pair", "%roof", "GB/s", "weights", "peak RSS", "net/W", "held/W", "q-pk/W", "act+KV", "rel err");
        for (const auto& r : rows) {
            if (r.contains("error")) {
                std::printf("%-26s error: %s\n", r["scheme"].get<std::string>().c_str(), r["error"].get<std::string>().c_str());
                continue;
            }
            auto g = [&](const char* k) { return r.value(k, 0.0); };
            auto pairCol = [&](const nlohmann::json& x) {
                char buf[32];
                if (x.contains("decode_paired_vs_baseline"))
                    std::snprintf(buf, sizeof buf, "%.2f", x["decode_paired_vs_baseline"].get<double>());
                else
                    std::snprintf(buf, sizeof buf, "%s", &x == &rows[0] ? "1.00" : "-");
                return std::string(buf);
            };
            std::printf("%-26s %10.1f %6.2f %10.2f %6.2f %9.2f %6.2f %6s %6.1f %6.1f %10s %10s %6.2f %6.2f %6.2f %9s %9.2e\n",
                        r["scheme"].get<std::string>().c_str(), g("ppl_tokens_per_s"), g("ppl_tokens_per_s_vs_baseline"),
                        g("prefill_samples_per_s"), g("prefill_samples_per_s_vs_baseline"), g("decode_tokens_per_s"),
                        g("decode_tokens_per_s_vs_baseline"), pairCol(r).c_str(), g("pct_roofline"), g("bandwidth_gbs"), qb::formatBytes(uint64_t(g("weight_bytes"))).c_str(),
                        qb::formatBytes(uint64_t(g("peak_resident_bytes"))).c_str(), g("peak_net_over_baseline_weights"),
                        g("held_net_over_baseline_weights"), g("quantize_peak_net_over_baseline_weights"),
                        qb::formatBytes(uint64_t(g("activation_kv_peak_bytes"))).c_str(), g("rel_err_vs_fp32"));
        }
        std::printf("\nx: ratio to the first row. x pair: decode ratio from --paired back-to-back pairs of decode runs\n"
                    "(baseline, scheme; median), free of the drift between rows. %%roof: decode bytes per token (weights read once; an untied embedding\n"
                    "table only one row) x tokens/s / GB/s, the read bandwidth probed after that row. peak RSS: the process's\n"
                    "peak resident memory while that row ran (reset per row); net/W: that peak minus the resident memory before\n"
                    "the model was loaded "
                    "(libraries), over the baseline's weight bytes: the baseline kept, the scheme's copy, and activations\n"
                    "(the BF16 row's net/W - 1 is mostly activations: logits of 128 rows). held/W: resident memory once the\n"
                    "scheme is built (baseline kept once + the scheme's copy), net, over the weight bytes; q-pk/W: the peak\n"
                    "while building it; act+KV: what the row's peak adds on top of held (activations, KV cache, logits).\n"
                    "rel err: ||logits - fp32|| / ||fp32|| on one 64-token window against the model loaded in float32.\n");
        if (!policies.empty()) {
            std::printf("\nbaseline PPL tokens/s under the candidate policies:\n");
            for (const auto& p : policies)
                std::printf("  %-58s %8.1f\n", p["policy"].get<std::string>().c_str(), p["ppl_tokens_per_s"].get<double>());
        }
        return 0;
    });
}

QB_BENCH("e2e", "per scheme: PPL tok/s, prefill, decode vs roofline, peak memory, error vs fp32", runBenchE2e);

} // namespace
