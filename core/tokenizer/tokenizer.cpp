#include "core/tokenizer/tokenizer.h"

#include "core/tokenizer/added_tokens.h"
#include "core/tokenizer/bpe.h"
#include "core/tokenizer/components.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"
#include "core/util/read_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace qb {

using nlohmann::json;

struct Tokenizer::Impl {
    std::string where;
    std::unique_ptr<tok::Normalizer> normalizer;
    std::unique_ptr<tok::PreTokenizer> preTokenizer;
    std::unique_ptr<tok::Bpe> model;
    std::unique_ptr<tok::PostProcessor> postProcessor;
    std::unique_ptr<tok::Decoder> decoder;
    std::vector<tok::AddedToken> added;
    std::unordered_map<int32_t, size_t> addedById;
    std::unordered_map<std::string, int32_t> addedByContent;
    tok::AddedMatcher rawMatcher, normalizedMatcher; // tokens with normalized=false / true
    std::optional<int32_t> bos, eos;

    void encodeText(const std::string& text, bool atStart, bool rawBytes, std::vector<int32_t>& ids) const;
};

namespace {

json parseJsonFile(const std::filesystem::path& p, uint64_t cap, const std::string& what)
{
    std::string text = readFileBounded(p, cap, what); // regular file, bounded size
    size_t bad = unicode::invalidUtf8At(text);
    if (bad != std::string::npos) throw Error(p.string() + ": not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
    try {
        return json::parse(text);
    } catch (const json::exception& e) { // parse_error, and out_of_range for a number such as 6e666
        throw Error(p.string() + ": not valid JSON: " + e.what());
    }
}

// bos_token / eos_token in tokenizer_config.json: a string or {"content": ...}.
std::optional<std::string> configToken(const json& cfg, const char* key)
{
    if (!cfg.is_object() || !cfg.contains(key)) return std::nullopt;
    const json& v = cfg[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return std::nullopt;
}

} // namespace

Tokenizer Tokenizer::fromFile(const std::filesystem::path& p)
{
    std::filesystem::path file = p, dir = p.parent_path();
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
        file = p / "tokenizer.json";
        dir = p;
    }
    if (!std::filesystem::exists(std::filesystem::symlink_status(file, ec)))
        throw Error(file.string() + ": no such tokenizer file");
    json j = parseJsonFile(file, kTokenizerJsonCap, "tokenizer.json");
    json cfg;
    std::filesystem::path cfgPath = dir / "tokenizer_config.json";
    if (std::filesystem::exists(std::filesystem::symlink_status(cfgPath, ec)))
        cfg = parseJsonFile(cfgPath, kConfigJsonCap, "tokenizer_config.json");
    return fromJson(j, cfg, file.string());
}

Tokenizer Tokenizer::fromJson(const json& j, const std::string& where)
{
    return fromJson(j, json(), where);
}

Tokenizer Tokenizer::fromJson(const json& j, const json& config, const std::string& where)
{
    auto d = std::make_shared<Impl>();
    d->where = where;
    try {
        if (!j.is_object()) throw Error(where + ": a tokenizer.json must be a JSON object");
        if (!j.contains("model") || !j["model"].is_object()) throw Error(where + ": missing \"model\" object");
        const json& m = j["model"];
        std::string mtype = m.contains("type") && m["type"].is_string() ? m["type"].get<std::string>() : "BPE";
        if (mtype != "BPE") throw Error(where + ": unsupported model type '" + mtype + "' (only BPE is implemented)");
        d->model = std::make_unique<tok::Bpe>(m, where);
        d->normalizer = tok::makeNormalizer(j.value("normalizer", json()), where);
        d->preTokenizer = tok::makePreTokenizer(j.value("pre_tokenizer", json()), where);
        d->postProcessor = tok::makePostProcessor(j.value("post_processor", json()), where);
        d->decoder = tok::makeDecoder(j.value("decoder", json()), where);

        std::vector<tok::AddedToken> raw, norm;
        std::vector<std::string> rawPat, normPat;
        for (const json& a : j.value("added_tokens", json::array())) {
            if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
                !a["content"].is_string())
                throw Error(where + ": added token needs integer \"id\" and string \"content\": " + a.dump());
            tok::AddedToken t;
            long long id = a["id"].get<long long>();
            if (id < 0 || id >= (1 << 24)) throw Error(where + ": added token id " + std::to_string(id) + " is out of range");
            t.content = a["content"].get<std::string>();
            if (t.content.empty() || d->addedByContent.count(t.content)) continue;
            // The HF library ignores the stored id: a token in the model vocab keeps its vocab
            // id, any other one gets the next id after the vocab (and previous added tokens).
            // Real files agree with that; a hand-edited one follows the library, not the file.
            int32_t vocabId = d->model->tokenToId(t.content);
            if (vocabId >= 0) t.id = vocabId;
            else {
                int32_t vocabSize = d->model->size(), maxAdded = -1;
                for (const auto& x : d->added) maxAdded = std::max(maxAdded, x.id);
                t.id = maxAdded < 0 ? vocabSize : (maxAdded >= vocabSize || vocabSize == 0 ? maxAdded + 1 : vocabSize);
            }
            (void)id;
            t.singleWord = a.value("single_word", false);
            t.lstrip = a.value("lstrip", false);
            t.rstrip = a.value("rstrip", false);
            t.special = a.value("special", false);
            t.normalized = a.value("normalized", !t.special);
            d->addedById[t.id] = d->added.size();
            d->addedByContent[t.content] = t.id;
            d->added.push_back(t);
            if (t.normalized) {
                normPat.push_back(d->normalizer ? d->normalizer->normalize(t.content) : t.content);
                norm.push_back(t);
            } else {
                rawPat.push_back(t.content);
                raw.push_back(t);
            }
        }
        d->rawMatcher.build(raw, rawPat);
        d->normalizedMatcher.build(norm, normPat);
    } catch (const json::exception& e) {
        throw Error(where + ": malformed tokenizer.json: " + e.what());
    }

    Tokenizer t(d);
    auto pick = [&](const char* key, bool prefix) -> std::optional<int32_t> {
        if (auto name = configToken(config, key)) {
            int32_t id = t.tokenToId(*name);
            if (id >= 0) return id;
        }
        if (d->postProcessor) {
            auto ids = prefix ? d->postProcessor->prefixIds() : d->postProcessor->suffixIds();
            if (!ids.empty()) return prefix ? ids.front() : ids.back();
        }
        // Convention: a SentencePiece-style <s> / </s>, but only as an added token (Qwen's vocab has
        // an ordinary BPE piece "<s>" that is no BOS).
        auto it = d->addedByContent.find(prefix ? "<s>" : "</s>");
        return it != d->addedByContent.end() ? std::optional<int32_t>(it->second) : std::nullopt;
    };
    d->bos = pick("bos_token", true);
    d->eos = pick("eos_token", false);
    return t;
}

void Tokenizer::Impl::encodeText(const std::string& text, bool atStart, bool rawBytes, std::vector<int32_t>& ids) const
{
    std::string normalized = normalizer ? normalizer->normalize(text, atStart) : text;
    std::vector<tok::Segment> segs;
    if (normalizedMatcher.empty()) segs.push_back({0, normalized.size(), -1});
    else segs = normalizedMatcher.split(normalized);
    for (const tok::Segment& s : segs) {
        if (s.id >= 0) { ids.push_back(s.id); continue; }
        std::vector<tok::Piece> pieces{{normalized.substr(s.begin, s.end - s.begin), atStart && s.begin == 0, rawBytes}};
        if (preTokenizer) preTokenizer->apply(pieces);
        for (const tok::Piece& p : pieces) model->encodeWord(p.text, ids, rawBytes);
    }
}

std::vector<int32_t> Tokenizer::encode(const std::string& utf8In, bool addSpecialTokens) const
{
    // Invalid UTF-8 (which the HF library cannot even receive) is kept as bytes for
    // byte-level and byte_fallback models, as llama2.c does.
    const bool rawBytes = unicode::invalidUtf8At(utf8In) != std::string::npos;
    const std::string text = rawBytes ? unicode::escapeInvalidUtf8(utf8In) : utf8In;
    std::vector<int32_t> ids;
    if (d_->rawMatcher.empty()) {
        if (!text.empty()) d_->encodeText(text, true, rawBytes, ids);
    } else {
        for (const tok::Segment& s : d_->rawMatcher.split(text)) {
            if (s.id >= 0) ids.push_back(s.id);
            else d_->encodeText(text.substr(s.begin, s.end - s.begin), s.begin == 0, rawBytes, ids);
        }
    }
    if (addSpecialTokens && d_->postProcessor) d_->postProcessor->process(ids);
    return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skipSpecialTokens) const
{
    std::vector<std::string> toks;
    toks.reserve(ids.size());
    for (int32_t id : ids) {
        auto a = d_->addedById.find(id);
        if (a != d_->addedById.end()) {
            if (!(skipSpecialTokens && d_->added[a->second].special)) toks.push_back(d_->added[a->second].content);
        } else if (const std::string* t = d_->model->idToToken(id)) {
            toks.push_back(*t);
        } // unknown ids are dropped, as the HF library does
    }
    if (!d_->decoder) {
        std::string out;
        for (size_t k = 0; k < toks.size(); ++k) out += (k ? " " : "") + toks[k];
        return out;
    }
    d_->decoder->decodeChain(toks);
    std::string out;
    for (auto& t : toks) out += t;
    return out;
}

std::string Tokenizer::idToToken(int32_t id) const
{
    auto a = d_->addedById.find(id);
    if (a != d_->addedById.end()) return d_->added[a->second].content;
    const std::string* t = d_->model->idToToken(id);
    return t ? *t : std::string();
}

int32_t Tokenizer::tokenToId(const std::string& token) const
{
    auto a = d_->addedByContent.find(token);
    if (a != d_->addedByContent.end()) return a->second;
    return d_->model->tokenToId(token);
}

size_t Tokenizer::vocabSize() const
{
    int32_t m = d_->model->maxId();
    for (const auto& t : d_->added) m = std::max(m, t.id);
    return size_t(m + 1);
}

std::optional<int32_t> Tokenizer::bosId() const { return d_->bos; }
std::optional<int32_t> Tokenizer::eosId() const { return d_->eos; }

std::string Tokenizer::normalize(const std::string& utf8) const
{
    std::string text = unicode::lossyUtf8(utf8);
    return d_->normalizer ? d_->normalizer->normalize(text) : text;
}

std::vector<std::string> Tokenizer::preTokenize(const std::string& utf8) const
{
    std::vector<tok::Piece> pieces{{normalize(utf8), true}};
    if (d_->preTokenizer) d_->preTokenizer->apply(pieces);
    std::vector<std::string> out;
    for (auto& p : pieces)
        if (!p.text.empty()) out.push_back(p.text);
    return out;
}

std::vector<std::string> Tokenizer::tokens(const std::string& utf8, bool addSpecial) const
{
    std::vector<std::string> out;
    for (int32_t id : encode(utf8, addSpecial)) out.push_back(idToToken(id));
    return out;
}

} // namespace qb
