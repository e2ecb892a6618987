// `quantbench-cli bench forward`: prefill and decode throughput of the engine, fp32 and bf16 side
// by side (warm-up, then the median of repeats).
#include "app/cli/bench.h"
#include "app/cli/command.h"
#include "app/cli/split.h"
#include "core/model/llama.h"
#include "core/util/error.h"
#include "core/util/torch_compat.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace {

using qb::cli::median;

nlohmann::json benchOne(const std::string& dir, at::ScalarType dt, torch::Device dev, int64_t B, int64_t L,
                        int64_t T, int64_t repeats)
{
    qb::compat::InferenceGuard guard;
    using clock = std::chrono::steady_clock;
    auto model = qb::LlamaModel::load(dir, dt, dev);
    const int64_t V = model->config().vocab_size;
    torch::manual_seed(0);
    auto ids = at::randint(3, V, {B, L}, at::kLong).to(dev);
    auto sync = [&] {
#ifdef QB_HAVE_CUDA
        if (dev.is_cuda())
            torch::cuda::synchronize();
#endif
    };
    std::vector<double> pre, dec;
    auto cache = model->makeCache(B, L + T);
    for (int64_t r = -1; r < repeats; ++r) { // r = -1: warm-up
        cache.reset();
        sync();
        auto t0 = clock::now();
        auto logits = model->forward(ids, &cache, {}, /*lastOnly=*/true);
        auto next = logits.select(1, 0).argmax(-1).view({B, 1});
        sync();
        auto t1 = clock::now();
        for (int64_t s = 0; s < T; ++s) {
            logits = model->forward(next, &cache, {}, true);
            next = logits.select(1, 0).argmax(-1).view({B, 1});
        }
        sync();
        auto t2 = clock::now();
        if (r >= 0) {
            pre.push_back(std::chrono::duration<double>(t1 - t0).count());
            dec.push_back(std::chrono::duration<double>(t2 - t1).count());
        }
    }
    const double p = median(pre), d = median(dec);
    return {{"dtype", dt == at::kFloat ? "f32" : "bf16"},
            {"prefill_seconds", p},
            {"decode_seconds", d},
            {"prefill_tokens_per_s", double(B * L) / p},
            {"prefill_samples_per_s", double(B) / p},
            {"decode_tokens_per_s", T > 0 ? double(B * T) / d : 0.0},
            {"weight_bytes", model->weightBytes()}};
}

int runBenchForward(const std::vector<std::string>& argv)
{
    qb::cli::Args args("bench forward", "[--model DIR] [--batch B] [--prompt-len L] [--new-tokens T] [--repeats R] [--json]");
    args.option("model", "model folder", qb::cli::demoModelDir())
        .option("batch", "sequences per batch", "1")
        .option("prompt-len", "prefill tokens per sequence", "128")
        .option("new-tokens", "decode steps after the prefill", "64")
        .option("repeats", "timed repeats (median reported) after one warm-up", "3")
        .option("device", "cpu or cuda", qb::compat::cudaAvailable() ? "cuda" : "cpu")
        .option("dtypes", "comma-separated: f32,bf16", "f32,bf16")
        .flag("json", "machine-readable output");
    return qb::cli::runParsed(args, argv, [&] {
        const int64_t B = args.getInt("batch"), L = args.getInt("prompt-len"), T = args.getInt("new-tokens"),
                      R = args.getInt("repeats");
        if (B < 1 || L < 1 || T < 0 || R < 1)
            throw qb::Error("bench forward: batch, prompt-len and repeats must be >= 1, new-tokens >= 0");
        torch::Device dev = args.get("device") == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
        std::vector<at::ScalarType> dts;
        for (const auto& d : qb::cli::splitComma(args.get("dtypes"))) {
            if (d == "f32")
                dts.push_back(at::kFloat);
            else if (d == "bf16")
                dts.push_back(at::kBFloat16);
            else
                throw qb::Error("bench forward: unknown dtype '" + d + "' (f32, bf16)");
        }
        nlohmann::json out = {{"model", args.get("model")}, {"device", dev.str()}, {"batch", B},
                              {"prompt_len", L}, {"new_tokens", T}, {"repeats", R},
                              {"torch_threads", at::get_num_threads()}, {"results", nlohmann::json::array()}};
        for (auto dt : dts)
            out["results"].push_back(benchOne(args.get("model"), dt, dev, B, L, T, R));
        if (args.has("json")) {
            std::cout << out.dump(2) << '\n';
        } else {
            std::printf("model %s  device %s  batch %lld  prompt %lld  new %lld  repeats %lld (median)\n",
                        args.get("model").c_str(), dev.str().c_str(), (long long)B, (long long)L, (long long)T,
                        (long long)R);
            std::printf("%-6s %16s %16s %12s\n", "dtype", "prefill tok/s", "decode tok/s", "weights MB");
            for (const auto& r : out["results"])
                std::printf("%-6s %16.1f %16.1f %12.2f\n", r["dtype"].get<std::string>().c_str(),
                            r["prefill_tokens_per_s"].get<double>(), r["decode_tokens_per_s"].get<double>(),
                            r["weight_bytes"].get<double>() / 1e6);
        }
        return 0;
    });
}

QB_BENCH("forward", "engine prefill/decode throughput, fp32 and bf16 side by side", runBenchForward);

} // namespace
