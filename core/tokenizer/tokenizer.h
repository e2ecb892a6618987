#pragma once
// A Hugging Face tokenizer.json implementation (BPE models) that reproduces the Rust
// `tokenizers` library id for id: added tokens, normalizer, pre-tokenizer, model,
// post-processor and decoder, each stage built from the JSON. Errors are qb::Error naming the
// file and the problem. Instances are immutable after loading and safe to share between threads.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qb {

class Tokenizer {
public:
    // A tokenizer.json file, or a model folder holding tokenizer.json; a tokenizer_config.json
    // beside it (when present) supplies bos_token / eos_token.
    static Tokenizer fromFile(const std::filesystem::path& p);
    // `config` is the parsed tokenizer_config.json, or null.
    static Tokenizer fromJson(const nlohmann::json& j, const std::string& where);
    static Tokenizer fromJson(const nlohmann::json& j, const nlohmann::json& config, const std::string& where);

    std::vector<int32_t> encode(const std::string& utf8, bool addSpecialTokens = true) const;
    std::string decode(const std::vector<int32_t>& ids, bool skipSpecialTokens = true) const;
    std::string idToToken(int32_t id) const; // "" if absent
    int32_t tokenToId(const std::string& token) const; // -1 if absent
    size_t vocabSize() const; // highest id + 1, added tokens included
    std::optional<int32_t> bosId() const;
    std::optional<int32_t> eosId() const;

    // Debugging aids (the golden tests compare them with the Rust library's intermediates).
    std::string normalize(const std::string& utf8) const;                // whole text
    std::vector<std::string> preTokenize(const std::string& utf8) const; // of normalize(utf8)
    std::vector<std::string> tokens(const std::string& utf8, bool addSpecial) const;

    struct Impl;

private:
    explicit Tokenizer(std::shared_ptr<const Impl> d) : d_(std::move(d)) {}
    std::shared_ptr<const Impl> d_;
};

} // namespace qb
