// `quantbench-cli make-model`: a checkpoint with a real architecture and random weights.
#include "app/cli/command.h"
#include "core/model/make_model.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

namespace {

int runMakeModel(const std::vector<std::string>& argv)
{
    std::string names;
    for (const auto& n : qb::presetNames())
        names += (names.empty() ? "" : ", ") + n;
    qb::cli::Args args("make-model", "--like NAME --out DIR [options]");
    args.option("like", "architecture to copy: " + names)
        .option("out", "output folder (created)")
        .option("seed", "random seed", "0")
        .option("layers", "override the number of layers")
        .option("dtype", "bf16 or f32", "bf16")
        .option("tokenizer", "tokenizer.json (or a folder with it) to copy into the output")
        .option("plant-outliers", "LAYER: scale a few channels of that layer's input norm (activation outliers, for the analysis)")
        .option("outlier-channels", "how many channels --plant-outliers scales", "4")
        .option("outlier-factor", "by how much --plant-outliers scales them", "50")
        .flag("json", "print what was written as JSON");
    return qb::cli::runParsed(args, argv, [&] {
        if (!args.has("like") || !args.has("out")) {
            std::cerr << "quantbench-cli make-model: --like and --out are required\n\n" << args.helpText();
            return 2;
        }
        qb::MakeModelOptions o;
        o.like = args.get("like");
        o.out = args.get("out");
        long long seed = args.getInt("seed");
        if (seed < 0)
            throw qb::Error("option --seed: must be non-negative");
        o.seed = uint64_t(seed);
        if (args.has("layers")) {
            o.layers = args.getInt("layers");
            if (o.layers <= 0)
                throw qb::Error("option --layers: must be positive");
        }
        if (args.has("plant-outliers")) {
            o.outlier_layer = args.getInt("plant-outliers");
            if (o.outlier_layer < 0)
                throw qb::Error("option --plant-outliers: must be a layer index >= 0");
            o.outlier_channels = args.getInt("outlier-channels");
            if (o.outlier_channels <= 0)
                throw qb::Error("option --outlier-channels: must be positive");
            o.outlier_factor = float(std::stod(args.get("outlier-factor")));
        }
        o.dtype = args.get("dtype");
        if (args.has("tokenizer"))
            o.tokenizer = args.get("tokenizer");
        auto t0 = std::chrono::steady_clock::now();
        qb::MakeModelResult r = qb::makeModel(o);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (args.has("json")) {
            nlohmann::json files = nlohmann::json::array();
            for (const auto& f : r.files)
                files.push_back(f.string());
            nlohmann::json j = {{"path", r.dir.string()}, {"like", o.like},  {"architecture", r.config.architecture},
                                {"parameters", r.parameters}, {"bytes", r.bytes}, {"dtype", o.dtype},
                                {"seed", o.seed},           {"layers", r.config.num_hidden_layers},
                                {"files", files},           {"seconds", secs}};
            std::cout << j.dump(2) << '\n';
        } else {
            std::cout << "wrote " << r.dir.string() << ": " << r.config.architecture << ", " << r.parameters
                      << " parameters, " << r.bytes << " bytes in " << secs << " s\n";
        }
        return 0;
    });
}

QB_CLI_COMMAND("make-model", "write a random-weight model with a real architecture", runMakeModel);

} // namespace
