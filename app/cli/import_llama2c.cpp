// `quantbench-cli import-llama2c`: llama2.c checkpoint + tokenizer.bin -> Hugging Face folder.
#include "app/cli/command.h"
#include "core/model/llama2c_import.h"
#include "core/util/error.h"

#include <iostream>

namespace {

int runImport(const std::vector<std::string>& argv)
{
    qb::cli::Args args("import-llama2c", "CHECKPOINT.bin TOKENIZER.bin OUT_DIR");
    return qb::cli::runParsed(args, argv, [&] {
        const auto& p = args.positional();
        if (p.size() != 3)
            throw qb::Error("import-llama2c: expected CHECKPOINT.bin TOKENIZER.bin OUT_DIR");
        qb::importLlama2c(p[0], p[1], p[2]);
        std::cout << "wrote " << p[2] << " (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)\n";
        return 0;
    });
}

QB_CLI_COMMAND("import-llama2c", "convert a llama2.c checkpoint and tokenizer to a Hugging Face folder", runImport);

} // namespace
