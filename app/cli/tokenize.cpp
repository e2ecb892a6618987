// `quantbench-cli tokenize`: JSON lines {"text": ...} on stdin -> {"ids": [...]} on stdout, in
// order, one output line per input line (blank lines are skipped).
#include "app/cli/command.h"
#include "core/tokenizer/llama2c_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <string>

namespace {

qb::Tokenizer loadTokenizer(const std::string& path)
{
    // llama2.c's tokenizer.bin is converted on the fly; anything else is tokenizer.json or a folder.
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".bin") == 0)
        return qb::Tokenizer::fromJson(qb::llama2cTokenizerToJson(path), qb::llama2cTokenizerConfig(), path);
    return qb::Tokenizer::fromFile(path);
}

int runTokenize(const std::vector<std::string>& argv)
{
    qb::cli::Args args("tokenize", "--tokenizer PATH [--no-special] < texts.jsonl > ids.jsonl");
    args.option("tokenizer", "tokenizer.json, a model folder holding one, or a llama2.c tokenizer.bin")
        .flag("no-special", "do not add the post-processor's special tokens (BOS and the like)");
    return qb::cli::runParsed(args, argv, [&] {
        if (!args.has("tokenizer")) throw qb::Error("tokenize: --tokenizer PATH is required");
        const qb::Tokenizer tok = loadTokenizer(args.get("tokenizer"));
        const bool addSpecial = !args.has("no-special");
        std::string line;
        for (long long lineNo = 1; std::getline(std::cin, line); ++lineNo) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(line);
            } catch (const nlohmann::json::exception& e) { // parse_error, or out_of_range (1e999)
                throw qb::Error("stdin line " + std::to_string(lineNo) + ": not valid JSON: " + e.what());
            }
            if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
                throw qb::Error("stdin line " + std::to_string(lineNo) + ": expected an object with a string \"text\"");
            nlohmann::json out = {{"ids", tok.encode(j["text"].get<std::string>(), addSpecial)}};
            std::cout << out.dump() << '\n' << std::flush;
        }
        return 0;
    });
}

QB_CLI_COMMAND("tokenize", "token ids of JSON-lines texts, with a tokenizer.json or llama2.c tokenizer", runTokenize);

} // namespace
