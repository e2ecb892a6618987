// `quantbench-cli generate`: greedy continuation of a prompt with the engine.
#include "app/cli/command.h"
#include "core/model/generate.h"
#include "core/model/llama.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "core/util/torch_compat.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

namespace {

constexpr int64_t kMaxNewTokens = 1 << 20; // a bound on --max-new whatever the model's context

at::ScalarType parseDtype(const std::string& s)
{
    if (s == "f32" || s == "fp32" || s == "float32")
        return at::kFloat;
    if (s == "bf16" || s == "bfloat16")
        return at::kBFloat16;
    throw qb::Error("option --dtype: expected f32 or bf16, got '" + s + "'");
}

int runGenerate(const std::vector<std::string>& argv)
{
    qb::cli::Args args("generate", "[--model DIR] --prompt TEXT [--max-new N] [--dtype f32|bf16] [--json]");
    args.option("model", "model folder (config.json, safetensors, tokenizer.json)", qb::cli::demoModelDir())
        .option("prompt", "prompt text", "")
        .option("max-new", "maximum new tokens (prompt + new must fit max_position_embeddings)", "64")
        .option("dtype", "f32 or bf16", "f32")
        .option("device", "cpu or cuda", "cpu")
        .flag("json", "machine-readable output");
    return qb::cli::runParsed(args, argv, [&] {
        const std::filesystem::path dir = args.get("model");
        const int64_t maxNew = args.getInt("max-new");
        if (maxNew < 0)
            throw qb::Error("option --max-new: must be >= 0");
        if (maxNew > kMaxNewTokens)
            throw qb::Error("option --max-new: " + std::to_string(maxNew) + " is over the limit of " +
                            std::to_string(kMaxNewTokens) + " tokens");
        qb::cli::requireDevice(args.get("device"));
        torch::Device dev = args.get("device") == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
        auto model = qb::LlamaModel::load(dir, parseDtype(args.get("dtype")), dev);
        auto tok = qb::Tokenizer::fromFile(dir / "tokenizer.json");
        auto ids32 = tok.encode(args.get("prompt"), /*addSpecial=*/true);
        std::vector<int64_t> prompt(ids32.begin(), ids32.end());
        if (prompt.empty()) {
            if (!tok.bosId())
                throw qb::Error("generate: empty prompt and the tokenizer has no BOS token");
            prompt.push_back(*tok.bosId());
        }
        // Positions past max_position_embeddings were never trained (RoPE extrapolates badly):
        // refused with the numbers rather than producing text that only looks like a result.
        const int64_t maxPos = model->config().max_position_embeddings;
        if (int64_t(prompt.size()) + maxNew > maxPos)
            throw qb::Error("generate: prompt " + std::to_string(prompt.size()) + " tokens + --max-new " +
                            std::to_string(maxNew) + " = " + std::to_string(int64_t(prompt.size()) + maxNew) +
                            " positions, more than the model's max_position_embeddings " + std::to_string(maxPos) +
                            "; lower --max-new to at most " +
                            std::to_string(std::max<int64_t>(0, maxPos - int64_t(prompt.size()))));
        qb::GenerateOptions go;
        go.maxNewTokens = maxNew;
        if (model->config().eos_token_ids.empty() && tok.eosId())
            go.stopTokens = {*tok.eosId()};
        auto r = qb::generateGreedy(*model, {prompt}, go);
        const auto& gen = r.tokens[0];
        std::vector<int32_t> all(prompt.begin(), prompt.end());
        all.insert(all.end(), gen.begin(), gen.end());
        std::string text = tok.decode(all, /*skipSpecial=*/true);
        std::string completion = tok.decode(std::vector<int32_t>(gen.begin(), gen.end()), true);
        const double decTps = r.decodeSeconds > 0 ? double(r.decodeSteps) / r.decodeSeconds : 0.0;
        if (args.has("json")) {
            nlohmann::json j = {{"model", dir.string()}, {"dtype", args.get("dtype")},
                                {"prompt", args.get("prompt")}, {"prompt_ids", prompt},
                                {"generated_ids", gen}, {"stopped_on_eos", bool(r.stopped[0])},
                                {"text", text}, {"completion", completion},
                                {"prefill_seconds", r.prefillSeconds}, {"decode_seconds", r.decodeSeconds},
                                {"decode_tokens_per_s", decTps}};
            std::cout << j.dump(2) << '\n';
        } else {
            std::cout << "prompt ids:    ";
            for (auto i : prompt)
                std::cout << i << ' ';
            std::cout << "\ngenerated ids: ";
            for (auto i : gen)
                std::cout << i << ' ';
            std::cout << "\n" << (r.stopped[0] ? "(stopped at EOS)" : "(token limit)") << "  decode "
                      << decTps << " tokens/s\n\n"
                      << text << '\n';
        }
        return 0;
    });
}

QB_CLI_COMMAND("generate", "greedy text generation with a model", runGenerate);

} // namespace
