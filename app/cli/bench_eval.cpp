// `quantbench-cli bench eval`: how fast the evaluations run and what a scheme switch costs,
// side by side in one process: loading the model from disk (config + safetensors + tokenizer)
// vs quantizing the in-memory baseline for a scheme (ModelQuantizer::apply) and restoring it;
// PPL tokens/s and MMLU questions/s (direct, and generate for the baseline) per scheme.
#include "app/cli/bench.h"
#include "app/cli/command.h"
#include "app/cli/split.h"
#include "core/data/mmlu_data.h"
#include "core/data/text_data.h"
#include "core/eval/mmlu.h"
#include "core/eval/model_lm.h"
#include "core/eval/ppl.h"
#include "core/model/llama.h"
#include "core/quant/model_quantizer.h"
#include "core/quant/scheme.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "core/util/torch_compat.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace {

using Clock = std::chrono::steady_clock;

using qb::cli::median;

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int runBenchEval(const std::vector<std::string>& argv)
{
    const std::filesystem::path demo = std::filesystem::path(qb::cli::demoModelDir()).parent_path();
    qb::cli::Args args("bench eval", "[--model DIR] [--schemes LIST] [--ppl-text FILE] [--mmlu DIR] [--json]");
    args.option("model", "model folder", qb::cli::demoModelDir())
        .option("dtype", "baseline dtype FP32 or BF16", "FP32")
        .option("schemes", "comma list of canonical scheme names (SmoothQuant calibrates once first)",
                "INT8_Per_Row,INT8_Per_Group_128,FP8_Per_Row,INT8_Per_Row_Fake,SmoothQuant_INT8_W8A8")
        .option("ppl-text", "text for PPL and calibration", (demo / "tinystories_sample.txt").string())
        .option("mmlu", "MMLU folder or .jsonl", (demo / "mmlu").string())
        .option("ctx", "PPL window (capped by the model's context)", "256")
        .option("windows", "PPL windows", "8")
        .option("questions", "MMLU questions", "32")
        .option("shots", "MMLU shots", "5")
        .option("batch", "MMLU batch", "8")
        .option("gen-tokens", "MMLU generate: new tokens", "3")
        .option("repeats", "timed repeats of load / switch (median reported)", "3")
        .flag("json", "machine-readable output");
    return qb::cli::runParsed(args, argv, [&] {
        qb::compat::InferenceGuard guard;
        const int64_t R = args.getInt("repeats");
        if (R < 1)
            throw qb::Error("bench eval: --repeats must be >= 1");
        const std::string dir = args.get("model");
        const at::ScalarType dt = args.get("dtype") == "BF16" ? at::kBFloat16 : at::kFloat;
        std::vector<qb::QuantScheme> schemes;
        for (const auto& n : qb::cli::splitComma(args.get("schemes")))
            schemes.push_back(qb::QuantScheme::parse(n));

        // 1. Loading from disk, the cost a script pays per scheme when it reloads the model.
        std::vector<double> loads;
        std::shared_ptr<qb::LlamaModel> model;
        std::optional<qb::Tokenizer> tok;
        for (int64_t r = 0; r < R; ++r) {
            model.reset();
            auto t0 = Clock::now();
            model = qb::LlamaModel::load(dir, dt, torch::Device(torch::kCPU));
            tok = qb::Tokenizer::fromFile(dir);
            loads.push_back(secondsSince(t0));
        }
        const double load = median(loads);

        auto text = qb::loadText(args.get("ppl-text"));
        const auto tokens = tok->encode(text.text, true);
        qb::PplOptions po;
        po.ctx = args.getInt("ctx");
        po.maxWindows = args.getInt("windows");
        auto ds = qb::loadMmlu(args.get("mmlu"));
        const auto questions = qb::spreadLimit(ds.test, args.getInt("questions"), 1234);
        qb::MmluTaskSettings ms;
        ms.shots = int(args.getInt("shots"));
        ms.batch = args.getInt("batch");
        ms.gen_tokens = int(args.getInt("gen-tokens"));
        qb::ModelLm lm(*model, *tok);

        qb::ModelQuantizer quant(*model);
        double calibSeconds = 0;
        for (const auto& s : schemes)
            if (s.smoothing == qb::Smoothing::SmoothQuant && !quant.calibrated()) {
                auto t0 = Clock::now();
                quant.calibrate(qb::tokenWindows(tokens, 8, std::min<int64_t>(128, model->config().max_position_embeddings)));
                calibSeconds = secondsSince(t0);
            }

        auto evalRow = [&](const std::string& name, bool baseline) {
            nlohmann::json row = {{"scheme", name}};
            auto ppl = qb::perplexity(*model, tokens, po);
            row["ppl"] = ppl.ppl;
            row["ppl_tokens"] = ppl.nTokens + ppl.windows; // every token of a window is forwarded
            row["ppl_tokens_per_s"] = double(ppl.nTokens + ppl.windows) / ppl.seconds;
            auto md = qb::evalMmlu(lm, ds, questions, ms, /*generate=*/false);
            row["mmlu_direct_questions_per_s"] = double(md.n) / md.seconds;
            row["mmlu_direct_accuracy"] = md.accuracy;
            if (baseline) {
                auto mg = qb::evalMmlu(lm, ds, questions, ms, /*generate=*/true);
                row["mmlu_generate_questions_per_s"] = double(mg.n) / mg.seconds;
            }
            row["weight_bytes"] = model->weightBytes();
            return row;
        };

        { // warm-up: first calls of each shape pay for allocator growth and kernel selection
            qb::PplOptions w = po;
            w.maxWindows = 1;
            qb::perplexity(*model, tokens, w);
            qb::evalMmlu(lm, ds, {questions.begin(), questions.begin() + std::min<size_t>(questions.size(), size_t(ms.batch))},
                         ms, false);
        }
        nlohmann::json out = {{"model", dir}, {"dtype", args.get("dtype")}, {"torch_threads", at::get_num_threads()},
                              {"load_seconds", load}, {"calibration_seconds", calibSeconds},
                              {"ppl_windows", po.maxWindows}, {"ppl_ctx", po.ctx}, {"mmlu_questions", questions.size()},
                              {"rows", nlohmann::json::array()}};
        out["rows"].push_back(evalRow(args.get("dtype") + " (baseline)", true));
        for (const auto& s : schemes) {
            std::vector<double> applies, restores;
            for (int64_t r = 0; r < R; ++r) {
                auto t0 = Clock::now();
                quant.apply(s);
                applies.push_back(secondsSince(t0));
                if (r + 1 < R) {
                    t0 = Clock::now();
                    quant.restore();
                    restores.push_back(secondsSince(t0));
                }
            }
            auto row = evalRow(s.name(), false);
            const auto t0 = Clock::now();
            quant.restore();                                   // the last restore is timed too
            restores.push_back(secondsSince(t0));
            row["switch_seconds"] = median(applies);
            row["restore_seconds"] = median(restores);
            row["reload_over_switch"] = load / std::max(1e-9, median(applies));
            out["rows"].push_back(row);
        }

        if (args.has("json")) {
            std::cout << out.dump(2) << '\n';
            return 0;
        }
        std::printf("model %s (%s), %d threads; PPL %lld windows x %lld tokens, MMLU %zu questions\n",
                    dir.c_str(), args.get("dtype").c_str(), at::get_num_threads(), (long long)po.maxWindows,
                    (long long)po.ctx, questions.size());
        std::printf("load from disk (config + safetensors + tokenizer): %.2f ms (median of %lld)", load * 1e3,
                    (long long)R);
        if (calibSeconds > 0)
            std::printf("; SmoothQuant calibration once: %.2f ms", calibSeconds * 1e3);
        std::printf("\n\n%-28s %10s %10s %9s %12s %12s %12s %10s\n", "scheme", "switch ms", "restore ms",
                    "reload/sw", "PPL tok/s", "direct q/s", "generate q/s", "PPL");
        for (const auto& r : out["rows"]) {
            auto num = [&](const char* k, double scale, const char* fmt) {
                char b[32] = "-";
                if (r.contains(k))
                    std::snprintf(b, sizeof b, fmt, r[k].get<double>() * scale);
                return std::string(b);
            };
            std::printf("%-28s %10s %10s %9s %12s %12s %12s %10.4f\n", r["scheme"].get<std::string>().c_str(),
                        num("switch_seconds", 1e3, "%.2f").c_str(), num("restore_seconds", 1e3, "%.2f").c_str(),
                        num("reload_over_switch", 1, "%.1fx").c_str(), num("ppl_tokens_per_s", 1, "%.0f").c_str(),
                        num("mmlu_direct_questions_per_s", 1, "%.2f").c_str(),
                        num("mmlu_generate_questions_per_s", 1, "%.2f").c_str(), r["ppl"].get<double>());
        }
        std::printf("\nswitch: quantize every decoder linear from the in-memory baseline (restore first); "
                    "reload/sw: loading from disk divided by a switch.\n");
        return 0;
    });
}

QB_BENCH("eval", "PPL tokens/s, MMLU questions/s, scheme switch from memory vs reloading the model", runBenchEval);

} // namespace
