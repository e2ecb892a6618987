#pragma once
// The pipeline stages of a tokenizer.json, each built from its JSON object by a factory that
// throws qb::Error("<where>: unknown <stage> type 'X'") for types we do not implement.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qb::tok {

// A piece of text between pipeline stages. `atStart`: it begins at offset 0 of the original
// input (Metaspace's prepend_scheme "first" needs that).
struct Piece {
    std::string text;
    bool atStart = false;
    // The input had invalid UTF-8, escaped as U+10FF80..U+10FFFF (unicode::escapeInvalidUtf8).
    bool rawBytes = false;
};

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual std::string normalize(const std::string& s) const = 0;
    // Like normalize(); clears `startKept` when the first original character was removed, so
    // that the result no longer begins at the original's start (Metaspace "first" asks).
    virtual std::string normalize(const std::string& s, bool& startKept) const { return normalize(s); }
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    virtual void apply(std::vector<Piece>& pieces) const = 0;
};

class PostProcessor {
public:
    virtual ~PostProcessor() = default;
    // Adds the special tokens of a single sequence (called only when addSpecialTokens).
    virtual void process(std::vector<int32_t>& ids) const = 0;
    // The special ids it puts before and after the sequence (for bos/eos guesses).
    virtual std::vector<int32_t> prefixIds() const { return {}; }
    virtual std::vector<int32_t> suffixIds() const { return {}; }
};

class Decoder {
public:
    virtual ~Decoder() = default;
    virtual void decodeChain(std::vector<std::string>& tokens) const = 0;
};

// Each accepts a JSON null (returns nullptr) or an object with a "type".
std::unique_ptr<Normalizer> makeNormalizer(const nlohmann::json& j, const std::string& where);
std::unique_ptr<PreTokenizer> makePreTokenizer(const nlohmann::json& j, const std::string& where);
std::unique_ptr<PostProcessor> makePostProcessor(const nlohmann::json& j, const std::string& where);
std::unique_ptr<Decoder> makeDecoder(const nlohmann::json& j, const std::string& where);

// GPT-2's byte <-> printable character map (bytes_to_unicode), as UTF-8 strings.
const std::string& byteToUnicode(uint8_t b);
// Inverse map: returns -1 for a character that is not in the table.
int unicodeToByte(char32_t cp);

// Reads "type" of a component object, or throws naming `where` and `stage`.
std::string typeOf(const nlohmann::json& j, const std::string& where, const std::string& stage);
// Pattern object {"String": s} or {"Regex": r} as a regex pattern (strings escaped).
std::string patternOf(const nlohmann::json& j, const std::string& where);

} // namespace qb::tok
