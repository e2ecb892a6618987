// `quantbench-cli analyze --scheme S [--model DIR] --out DIR`: why a scheme loses accuracy
// (docs/analysis.md). One resumable sweep: the baseline, S and the SmoothQuant alpha list, with
// tasks ppl (+KL), sensitivity (per unit + mixed-precision curve), outliers and matmul accuracy;
// then the ranking, the curve and the recommended mixed-precision scheme on stdout.
#include "app/cli/command.h"
#include "app/cli/split.h"
#include "app/cli/sweep_common.h"
#include "core/results/record.h"
#include "core/results/store.h"
#include "core/run/model_backend.h"
#include "core/util/error.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <iostream>

namespace fs = std::filesystem;

namespace {

using qb::cli::splitComma;

void printSensitivity(const qb::ResultRecord& r)
{
    const auto& s = r.details["sensitivity"];
    std::printf("\n%s: sensitivity (%s mode, %lld tokens; baseline PPL %.4g)\n", r.config.c_str(),
                s["mode"].get<std::string>().c_str(), (long long)s["tokens"].get<int64_t>(), s["base_ppl"].get<double>());
    std::printf("  %-34s %11s %11s %8s %9s %9s\n", "most sensitive", "KL", "dNLL", "SQNR dB", "x absmax", "outl.ch%");
    std::map<std::string, nlohmann::json> units;
    for (const auto& u : s["units"])
        units[u["name"].get<std::string>()] = u;
    int shown = 0;
    for (const auto& n : s["ranking"]) {
        if (shown++ == 10)
            break;
        const auto& u = units[n.get<std::string>()];
        std::printf("  %-34s %11.4g %11.4g %8.1f %9.3g %9.2f\n", n.get<std::string>().c_str(), u["kl"].get<double>(),
                    u["dnll"].get<double>(), u["sqnr_db"].get<double>(), u["x_absmax"].get<double>(),
                    100.0 * u["x_outlier_frac"].get<double>());
    }
    std::printf("  mixed precision: keep the k most sensitive in the baseline dtype\n  %5s %11s %10s %10s %12s\n", "k",
                "KL", "PPL", "dPPL", "linear MB");
    for (const auto& p : s["curve"])
        std::printf("  %5lld %11.4g %10.4g %10.4g %12.3f%s\n", (long long)p["k"].get<int64_t>(), p["kl"].get<double>(),
                    p["ppl"].get<double>(), p["dppl"].get<double>(), p["linear_bytes"].get<double>() / (1 << 20),
                    p["refined"].get<bool>() ? "  (bisection)" : "");
    const auto& rec = s["recommended"];
    std::printf("  budget KL <= %g%s -> %s: %s (KL %.4g, dPPL %.4g)\n", s["budget"]["kl"].get<double>(),
                s["budget"]["dppl"].get<double>() >= 0 ? (" and dPPL <= " + std::to_string(s["budget"]["dppl"].get<double>())).c_str() : "",
                rec["met"].get<bool>() ? "recommended" : "not met even keeping everything",
                rec["scheme"].get<std::string>().c_str(), rec["kl"].get<double>(), rec["dppl"].get<double>());
}

int runAnalyze(const std::vector<std::string>& argv)
{
    qb::cli::Args args("analyze", "--scheme NAME --out DIR [--model DIR] [options]");
    args.option("model", "model folder (default: the bundled demo model)")
        .option("scheme", "the scheme to analyse", "INT8_Per_Tensor_W8A8")
        .option("dtype", "baseline dtype FP32, BF16 or FP16", "FP32")
        .option("device", "auto, cpu, cuda", "auto")
        .option("mode", "sensitivity units: linear (each decoder linear) or layer (each decoder layer)", "linear")
        .option("windows", "sensitivity windows", "4")
        .option("len", "sensitivity window length (tokens)", "128")
        .option("budget-kl", "mixed-precision budget: mean KL <= X nats/token (negative: not used)", "0.001")
        .option("budget-dppl", "mixed-precision budget: PPL - baseline PPL <= Y (negative: not used)", "-1")
        .option("alphas", "SmoothQuant alpha sweep (empty: none)", "0,0.25,0.5,0.75,0.85,1")
        .option("sq-dtype", "SmoothQuant dtype of the alpha sweep (INT8 or FP8)", "INT8")
        .option("ppl-text", "text for PPL and calibration (default: the demo's TinyStories sample)")
        .option("calib-text", "calibration text (default: --ppl-text)")
        .option("mmlu", "MMLU folder (dev/ and test/) for MMLU direct per alpha (default with the demo model: its sample; "
                        "\"none\" to skip)")
        .option("mmlu-limit", "MMLU questions (0 = all)", "64")
        .option("ctx", "PPL window", "256")
        .option("max-windows", "PPL window limit (0 = all)", "8")
        .option("calib-sequences", "calibration windows", "16")
        .option("calib-length", "calibration window length", "256")
        .option("seed", "seed", "1234")
        .option("out", "run folder")
        .flag("no-matmul", "skip the matmul-accuracy task")
        .flag("quiet", "no progress lines");
    return qb::cli::runParsed(args, argv, [&] {
        if (!args.has("out"))
            throw qb::Error("--out DIR is required");
        const std::string model = args.opt("model").value_or(qb::cli::demoModelDir());
        const std::string text = args.opt("ppl-text").value_or(
            (fs::path(qb::cli::demoModelDir()).parent_path() / "tinystories_sample.txt").string());
        qb::QuantScheme s = qb::QuantScheme::parse(args.get("scheme"));
        if (s.isBaseline())
            throw qb::Error("--scheme: give a quantized scheme to analyse, not the baseline");
        auto number = [](const std::string& v, const char* opt) {
            size_t used = 0;
            double x = NAN;
            try {
                x = std::stod(v, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != v.size() || !std::isfinite(x))
                throw qb::Error(std::string("--") + opt + ": \"" + v + "\" is not a number");
            return x;
        };
        nlohmann::json alphas = nlohmann::json::array();
        for (const auto& a : splitComma(args.get("alphas")))
            alphas.push_back(number(a, "alphas"));
        nlohmann::json schemes = {{"extra", nlohmann::json::array({s.toJson()})}};
        if (!alphas.empty())
            schemes["smoothquant"] = nlohmann::json::array({{{"dtype", args.get("sq-dtype")}, {"alpha", alphas}}});
        nlohmann::json tasks = {
            {"ppl", {{"ctx", args.getInt("ctx")}, {"max_windows", args.getInt("max-windows")}}},
            {"sensitivity",
             {{"mode", args.get("mode")}, {"windows", args.getInt("windows")}, {"len", args.getInt("len")},
              {"budget_kl", number(args.get("budget-kl"), "budget-kl")}, {"budget_dppl", number(args.get("budget-dppl"), "budget-dppl")},
              {"schemes", nlohmann::json::array({s.name()})}}},
            {"outliers", nlohmann::json::object()}};
        if (!args.has("no-matmul"))
            tasks["matmul_accuracy"] = nlohmann::json::object();
        // MMLU per alpha: the demo's sample by default with the demo model (a user's model names its own).
        std::string mmlu = args.opt("mmlu").value_or(
            args.has("model") ? std::string() : (fs::path(qb::cli::demoModelDir()).parent_path() / "mmlu").string());
        if (mmlu == "none")
            mmlu.clear();
        if (!mmlu.empty())
            tasks["mmlu"] = {{"direct", true}, {"generate", false}, {"shots", 5}, {"max_questions", args.getInt("mmlu-limit")}};
        nlohmann::json j = {{"name", "analyze"},
                            {"model", model},
                            {"baseline_dtype", args.get("dtype")},
                            {"device", args.get("device")},
                            {"schemes", schemes},
                            {"tasks", tasks},
                            {"datasets", {{"ppl_text", text}, {"calibration_text", args.opt("calib-text").value_or(text)}}},
                            {"calibration", {{"sequences", args.getInt("calib-sequences")}, {"length", args.getInt("calib-length")}}},
                            {"seed", args.getInt("seed")}};
        if (!mmlu.empty())
            j["datasets"]["mmlu"] = mmlu;
        qb::SweepSpec spec = qb::SweepSpec::fromJson(j, "command line");
        qb::RunOptions o;
        o.out_dir = args.get("out");
        qb::ModelBackend backend;
        auto sum = qb::cli::runWithConsole(spec, backend, o, args.has("quiet"));
        // The analysis on stdout, from the run folder (resumed records included).
        auto loaded = qb::loadResultsJsonl(o.out_dir / "results.jsonl");
        for (const auto& r : loaded.records)
            if (r.ok() && r.task == qb::task::Sensitivity && r.details.contains("sensitivity"))
                printSensitivity(r);
        return qb::cli::finishSweep(sum, o.out_dir);
    });
}

QB_CLI_COMMAND("analyze", "per-layer sensitivity, mixed-precision recommendation, outliers and the SmoothQuant alpha sweep",
               runAnalyze);

} // namespace
