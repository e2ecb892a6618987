// `quantbench-cli ppl`: token-level perplexity of a text file (protocol in core/eval/ppl.h).
#include "app/cli/command.h"
#include "core/eval/ppl.h"
#include "core/model/llama.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "core/util/read_file.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

int runPpl(const std::vector<std::string>& argv)
{
    qb::cli::Args args("ppl", "[--model DIR] --text FILE [--ctx N] [--max-windows W] [--dtype f32|bf16] [--json]");
    args.option("model", "model folder", qb::cli::demoModelDir())
        .option("text", "UTF-8 text file (at most 1 GiB), evaluated as one document")
        .option("ctx", "window length in tokens (capped by max_position_embeddings)", "2048")
        .option("max-windows", "evaluate at most this many windows (0 = all)", "0")
        .option("dtype", "f32 or bf16", "f32")
        .option("device", "cpu or cuda", "cpu")
        .flag("json", "machine-readable output");
    return qb::cli::runParsed(args, argv, [&] {
        if (!args.has("text"))
            throw qb::Error("ppl: --text FILE is required");
        const std::filesystem::path dir = args.get("model"), textPath = args.get("text");
        // A regular file of at most 1 GiB (kTextCap): /dev/zero or a FIFO is refused up front.
        const std::string text = qb::readFileBounded(textPath, qb::kTextCap, "PPL text");
        const std::string dt = args.get("dtype");
        if (dt != "f32" && dt != "bf16")
            throw qb::Error("option --dtype: expected f32 or bf16, got '" + dt + "'");
        qb::cli::requireDevice(args.get("device"));
        torch::Device dev = args.get("device") == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
        auto model = qb::LlamaModel::load(dir, dt == "bf16" ? at::kBFloat16 : at::kFloat, dev);
        auto tok = qb::Tokenizer::fromFile(dir / "tokenizer.json");
        auto ids = tok.encode(text, /*addSpecial=*/true); // once, with the default special tokens
        qb::PplOptions po;
        po.ctx = args.getInt("ctx");
        po.maxWindows = args.getInt("max-windows");
        const bool json = args.has("json");
        auto r = qb::perplexity(*model, ids, po, [&](int64_t done, int64_t total) {
            if (!json)
                std::fprintf(stderr, "\rwindow %lld/%lld", (long long)done, (long long)total);
            return true;
        });
        if (!json)
            std::fprintf(stderr, "\n");
        nlohmann::json j = r.toJson();
        j["model"] = dir.string();
        j["text"] = textPath.string();
        j["dtype"] = dt;
        if (json)
            std::cout << j.dump(2) << '\n';
        else
            std::printf("ppl %.4f ± %.4f  (mean nll %.5f, %lld predicted tokens of %lld, %lld windows of %lld, "
                        "%.1f s)\n",
                        r.ppl, r.stderrPpl, r.meanNll, (long long)r.nTokens, (long long)r.corpusTokens,
                        (long long)r.windows, (long long)r.ctx, r.seconds);
        return 0;
    });
}

QB_CLI_COMMAND("ppl", "token-level perplexity of a text file", runPpl);

} // namespace
