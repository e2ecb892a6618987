// importLlama2c: the llama2.c checkpoint and tokenizer -> a Hugging Face Llama folder.
#include "core/model/llama2c_import.h"

#include "core/model/safetensors.h"
#include "core/tokenizer/llama2c_tokenizer.h"
#include "core/util/error.h"

#include <fstream>

namespace qb {

namespace {

void writeText(const std::filesystem::path& p, const std::string& text)
{
    const auto tmp = p.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out)
            fail(p.string(), "cannot write");
    }
    std::filesystem::rename(tmp, p);
}

} // namespace

void importLlama2c(const std::filesystem::path& checkpointBin, const std::filesystem::path& tokenizerBin,
                   const std::filesystem::path& outDir)
{
    Llama2cModel m = readLlama2cCheckpoint(checkpointBin);
    nlohmann::json tok = llama2cTokenizerToJson(tokenizerBin);
    std::error_code ec;
    std::filesystem::create_directories(outDir, ec);
    if (ec)
        fail(outDir.string(), "cannot create the output folder: " + ec.message());

    writeText(outDir / "config.json", m.config.toJson().dump(2) + "\n");
    writeSafetensors(outDir / "model.safetensors", m.tensors,
                     {{"format", "pt"}, {"source", "llama2.c checkpoint " + checkpointBin.filename().string()}});
    writeText(outDir / "tokenizer.json", tok.dump(2) + "\n");
    nlohmann::json tc = llama2cTokenizerConfig();
    tc["model_max_length"] = m.config.max_position_embeddings;
    writeText(outDir / "tokenizer_config.json", tc.dump(2) + "\n");
}

} // namespace qb
