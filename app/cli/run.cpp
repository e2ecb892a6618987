// `quantbench-cli run --model DIR --scheme NAME --tasks ppl,mmlu_direct,... --out DIR`:
// one scheme x tasks, written like a sweep (results.jsonl in the run folder, resumable).
#include "app/cli/command.h"
#include "app/cli/split.h"
#include "app/cli/sweep_common.h"
#include "core/results/record.h"
#include "core/run/model_backend.h"
#include "core/util/error.h"

#include <sstream>

namespace {

using qb::cli::splitComma;

int runRun(const std::vector<std::string>& argv)
{
    qb::cli::Args args("run", "--scheme NAME --tasks LIST --out DIR [--model DIR] [dataset and limit options]");
    args.option("model", "model folder (default: the bundled demo model)")
        .option("scheme", "canonical scheme name (INT8_Per_Row, FP8_Per_Group_128_Fake, FP32, ...)", "FP32")
        .option("dtype", "baseline dtype FP32, BF16 or FP16", "FP32")
        .option("device", "auto, cpu, cuda", "auto")
        .option("tasks", "comma list of ppl, mmlu_direct, mmlu_generate, throughput, matmul_accuracy, sensitivity, outliers", "ppl")
        .option("ppl-text", "text file for PPL (and calibration)")
        .option("calib-text", "calibration text for SmoothQuant (default: --ppl-text)")
        .option("mmlu", "MMLU folder or .jsonl")
        .option("ctx", "PPL window", "2048")
        .option("max-windows", "PPL window limit (0 = all)", "0")
        .option("shots", "MMLU shots", "5")
        .option("max-questions", "MMLU question limit (0 = all)", "0")
        .option("batch", "MMLU batch", "8")
        .option("seed", "seed", "1234")
        .option("out", "run folder")
        .flag("quiet", "no progress lines");
    return qb::cli::runParsed(args, argv, [&] {
        if (!args.has("out"))
            throw qb::Error("--out DIR is required");
        nlohmann::json tasks = nlohmann::json::object();
        for (const auto& t : splitComma(args.get("tasks"))) {
            if (t == qb::task::Ppl)
                tasks["ppl"] = {{"ctx", args.getInt("ctx")}, {"max_windows", args.getInt("max-windows")}};
            else if (t == qb::task::MmluDirect || t == qb::task::MmluGenerate) {
                if (!tasks.contains("mmlu"))
                    tasks["mmlu"] = {{"direct", false}, {"generate", false}, {"shots", args.getInt("shots")},
                                     {"max_questions", args.getInt("max-questions")}, {"batch", args.getInt("batch")}};
                tasks["mmlu"][t == qb::task::MmluDirect ? "direct" : "generate"] = true;
            } else if (t == qb::task::Throughput)
                tasks["throughput"] = nlohmann::json::object();
            else if (t == qb::task::Matmul)
                tasks["matmul_accuracy"] = nlohmann::json::object();
            else if (t == qb::task::Sensitivity || t == qb::task::Outliers) // defaults; `analyze` has the options
                tasks[t] = nlohmann::json::object();
            else
                throw qb::Error("--tasks: unknown task '" + t + "' (ppl, mmlu_direct, mmlu_generate, throughput, "
                                "matmul_accuracy, sensitivity, outliers)");
        }
        qb::QuantScheme s = qb::QuantScheme::parse(args.get("scheme"));
        nlohmann::json j = {{"name", "run"},
                            {"model", args.opt("model").value_or(qb::cli::demoModelDir())},
                            {"baseline_dtype", args.get("dtype")},
                            {"device", args.get("device")},
                            {"schemes", s.isBaseline() ? nlohmann::json::array() : nlohmann::json::array({s.name()})},
                            {"tasks", tasks},
                            {"datasets", {{"ppl_text", args.get("ppl-text")}, {"mmlu", args.get("mmlu")},
                                          {"calibration_text", args.opt("calib-text").value_or(args.get("ppl-text"))}}},
                            {"seed", args.getInt("seed")}};
        qb::SweepSpec spec = qb::SweepSpec::fromJson(j, "command line");
        qb::RunOptions o;
        o.out_dir = args.get("out");
        o.only_config = s.isBaseline() ? spec.baseline_dtype : s.name();
        qb::ModelBackend backend;
        auto sum = qb::cli::runWithConsole(spec, backend, o, args.has("quiet"));
        return qb::cli::finishSweep(sum, o.out_dir);
    });
}

QB_CLI_COMMAND("run", "evaluate one scheme on a set of tasks (results like a sweep)", runRun);

} // namespace
