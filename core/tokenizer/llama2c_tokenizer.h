#pragma once
// Converts llama2.c's tokenizer.bin into an equivalent Hugging Face tokenizer.json, so the one
// Tokenizer class serves the llama2.c demo model too.
//
// tokenizer.bin: int32 max_token_length, then per token: float32 score, int32 len, len bytes
// (the vocabulary size is not stored: tokens run to the end of the file). Ids 0/1/2 are
// <unk>/<s>/</s>, ids 3..258 the byte tokens <0x00>..<0xFF>.
//
// llama2.c's encode(): prepend " " when the text is non-empty, look up each code point (bytes
// + 3 when absent), then repeatedly merge the adjacent pair whose concatenation is the
// highest-scoring vocab entry (leftmost on ties). HF BPE merges the lowest-ranked pair, so the
// merges are every (a, b) with a+b in the vocab, ranked by the score of a+b, descending. The two
// agree except where one token can be built from two overlapping pairs (a·ba vs ab·a) both
// present at once, or different tokens share a score: then llama2.c takes the leftmost pair.
#include <nlohmann/json.hpp>

#include <filesystem>

namespace qb {

// Throws qb::Error naming the file when it is missing, truncated or implausible.
nlohmann::json llama2cTokenizerToJson(const std::filesystem::path& tokBin);
// The matching tokenizer_config.json (bos <s>, eos </s>, unk <unk>).
nlohmann::json llama2cTokenizerConfig();

} // namespace qb
