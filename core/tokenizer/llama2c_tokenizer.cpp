#include "core/tokenizer/llama2c_tokenizer.h"

#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace qb {
namespace {

const std::string kSpm = "\xE2\x96\x81"; // U+2581, SentencePiece's visible space

std::string toSpm(const std::string& piece)
{
    std::string out;
    for (char c : piece) {
        if (c == ' ') out += kSpm;
        else out += c;
    }
    return out;
}

} // namespace

nlohmann::json llama2cTokenizerToJson(const std::filesystem::path& tokBin)
{
    const std::string where = tokBin.string();
    std::ifstream in(tokBin, std::ios::binary);
    if (!in) throw Error(where + ": cannot open llama2.c tokenizer");
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string buf = ss.str();

    size_t pos = 0;
    auto readRaw = [&](void* dst, size_t n, const char* what) {
        if (pos + n > buf.size())
            throw Error(where + ": truncated llama2.c tokenizer (" + what + " at byte " + std::to_string(pos) + ")");
        std::memcpy(dst, buf.data() + pos, n);
        pos += n;
    };
    int32_t maxLen = 0;
    readRaw(&maxLen, 4, "max_token_length");
    if (maxLen <= 0 || maxLen > 4096) throw Error(where + ": implausible max_token_length " + std::to_string(maxLen));

    std::vector<std::string> pieces;
    std::vector<float> scores;
    while (pos < buf.size()) {
        float score;
        int32_t len;
        readRaw(&score, 4, "score");
        readRaw(&len, 4, "length");
        if (len < 0 || len > maxLen)
            throw Error(where + ": token " + std::to_string(pieces.size()) + " has length " + std::to_string(len) +
                        " (max_token_length " + std::to_string(maxLen) + ")");
        std::string s(size_t(len), '\0');
        readRaw(s.data(), size_t(len), "token bytes");
        pieces.push_back(s);
        scores.push_back(score);
    }
    if (pieces.size() < 259) throw Error(where + ": only " + std::to_string(pieces.size()) + " tokens; expected <unk>, <s>, </s> and 256 byte tokens first");

    // Names as a SentencePiece Llama tokenizer.json spells them.
    std::vector<std::string> names(pieces.size());
    names[0] = "<unk>";
    names[1] = "<s>";
    names[2] = "</s>";
    nlohmann::json vocab = nlohmann::json::object();
    std::unordered_map<std::string, int32_t> ids;
    for (size_t i = 0; i < pieces.size(); ++i) {
        if (i >= 3) names[i] = toSpm(pieces[i]);
        if (unicode::invalidUtf8At(names[i]) != std::string::npos)
            throw Error(where + ": token " + std::to_string(i) + " is not valid UTF-8");
        if (ids.count(names[i])) continue; // duplicates: llama2.c's bsearch finds one of them; keep the first
        ids[names[i]] = int32_t(i);
        vocab[names[i]] = i;
    }

    struct Merge { float score; int32_t id; size_t split; std::string a, b; };
    std::vector<Merge> merges;
    for (size_t i = 259; i < pieces.size(); ++i) {
        const std::string& t = names[i];
        if (ids[t] != int32_t(i)) continue;
        for (size_t k = unicode::charLen(static_cast<unsigned char>(t[0])); k < t.size();
             k += unicode::charLen(static_cast<unsigned char>(t[k]))) {
            std::string a = t.substr(0, k), b = t.substr(k);
            auto ia = ids.find(a), ib = ids.find(b);
            // Special and byte tokens never take part: their llama2.c strings do not concatenate into pieces.
            if (ia == ids.end() || ib == ids.end() || ia->second < 259 || ib->second < 259) continue;
            merges.push_back({scores[i], int32_t(i), k, a, b});
        }
    }
    std::stable_sort(merges.begin(), merges.end(), [](const Merge& x, const Merge& y) {
        if (x.score != y.score) return x.score > y.score;
        if (x.id != y.id) return x.id < y.id;
        return x.split < y.split;
    });
    nlohmann::json jm = nlohmann::json::array();
    for (const Merge& m : merges) jm.push_back({m.a, m.b});

    auto added = [](int id, const char* content) {
        return nlohmann::json{{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
                              {"rstrip", false}, {"normalized", false}, {"special", true}};
    };
    nlohmann::json j;
    j["version"] = "1.0";
    j["truncation"] = nullptr;
    j["padding"] = nullptr;
    j["added_tokens"] = {added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")};
    j["normalizer"] = {{"type", "Sequence"},
                       {"normalizers",
                        {{{"type", "Prepend"}, {"prepend", kSpm}},
                         {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpm}}}}};
    j["pre_tokenizer"] = nullptr;
    j["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
          {{"SpecialToken", {{"id", "<s>"}, {"type_id", 1}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
    j["decoder"] = {{"type", "Sequence"},
                    {"decoders",
                     {{{"type", "Replace"}, {"pattern", {{"String", kSpm}}}, {"content", " "}},
                      {{"type", "ByteFallback"}},
                      {{"type", "Fuse"}},
                      {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
    j["model"] = {{"type", "BPE"},          {"dropout", nullptr},      {"unk_token", "<unk>"},
                  {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                  {"fuse_unk", true},       {"byte_fallback", true},   {"ignore_merges", false},
                  {"vocab", vocab},         {"merges", jm}};
    return j;
}

nlohmann::json llama2cTokenizerConfig()
{
    return {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"add_bos_token", true},
            {"add_eos_token", false}, {"tokenizer_class", "LlamaTokenizer"}};
}

} // namespace qb
