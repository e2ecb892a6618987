// Normalizers: NFC/NFD, Lowercase, Strip, Prepend, Replace, ByteLevel, Sequence.
#include "core/tokenizer/components.h"
#include "core/tokenizer/regex.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

namespace qb::tok {
namespace {

using nlohmann::json;

struct Nfc : Normalizer {
    std::string normalize(const std::string& s) const override { return unicode::nfc(s); }
};
struct Nfd : Normalizer {
    std::string normalize(const std::string& s) const override { return unicode::nfd(s); }
};
struct Lowercase : Normalizer {
    std::string normalize(const std::string& s) const override { return unicode::lowercase(s); }
};

struct Strip : Normalizer {
    bool left, right;
    Strip(bool l, bool r) : left(l), right(r) {}
    std::string normalize(const std::string& s) const override
    {
        bool kept = true;
        return normalize(s, kept);
    }
    std::string normalize(const std::string& s, bool& startKept) const override
    {
        auto cps = unicode::toCodePoints(s);
        size_t b = 0, e = cps.size();
        if (left) while (b < e && unicode::isWhiteSpace(cps[b])) ++b;
        if (right) while (e > b && unicode::isWhiteSpace(cps[e - 1])) --e;
        if (b > 0) startKept = false;
        return unicode::fromCodePoints({cps.begin() + b, cps.begin() + e});
    }
};

struct Prepend : Normalizer {
    std::string prefix;
    explicit Prepend(std::string p) : prefix(std::move(p)) {}
    std::string normalize(const std::string& s) const override { return s.empty() ? s : prefix + s; }
};

struct Replace : Normalizer {
    std::unique_ptr<Regex> re;
    std::string content;
    Replace(const std::string& pattern, std::string c, const std::string& where)
        : re(new Regex(pattern, where)), content(std::move(c)) {}
    std::string normalize(const std::string& s) const override
    {
        bool kept = true;
        return normalize(s, kept);
    }
    std::string normalize(const std::string& s, bool& startKept) const override
    {
        std::string out;
        size_t prev = 0;
        for (auto [b, e] : re->findAll(s)) {
            if (b == 0 && content.empty()) startKept = false;
            out.append(s, prev, b - prev);
            out += content;
            prev = e;
        }
        out.append(s, prev, std::string::npos);
        return out;
    }
};

struct ByteLevelNorm : Normalizer {
    std::string normalize(const std::string& s) const override
    {
        std::string out;
        for (unsigned char c : s) out += byteToUnicode(c);
        return out;
    }
};

struct Sequence : Normalizer {
    std::vector<std::unique_ptr<Normalizer>> items;
    std::string normalize(const std::string& s) const override
    {
        std::string cur = s;
        for (auto& n : items) cur = n->normalize(cur);
        return cur;
    }
    std::string normalize(const std::string& s, bool& startKept) const override
    {
        std::string cur = s;
        for (auto& n : items) cur = n->normalize(cur, startKept);
        return cur;
    }
};

} // namespace

std::string typeOf(const json& j, const std::string& where, const std::string& stage)
{
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        throw Error(where + ": " + stage + " without a \"type\"");
    return j["type"].get<std::string>();
}

std::string patternOf(const json& j, const std::string& where)
{
    if (j.is_object() && j.contains("String") && j["String"].is_string()) return Regex::escape(j["String"].get<std::string>());
    if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) return j["Regex"].get<std::string>();
    if (j.is_string()) return Regex::escape(j.get<std::string>());
    throw Error(where + ": pattern must be {\"String\": ...} or {\"Regex\": ...}, got " + j.dump());
}

std::unique_ptr<Normalizer> makeNormalizer(const json& j, const std::string& where)
{
    if (j.is_null()) return nullptr;
    std::string t = typeOf(j, where, "normalizer");
    if (t == "NFC") return std::make_unique<Nfc>();
    if (t == "NFD") return std::make_unique<Nfd>();
    if (t == "Lowercase") return std::make_unique<Lowercase>();
    if (t == "Strip") return std::make_unique<Strip>(j.value("strip_left", true), j.value("strip_right", true));
    if (t == "Prepend") return std::make_unique<Prepend>(j.value("prepend", std::string()));
    if (t == "Replace")
        return std::make_unique<Replace>(patternOf(j.at("pattern"), where), j.value("content", std::string()), where);
    if (t == "ByteLevel") return std::make_unique<ByteLevelNorm>();
    if (t == "Sequence") {
        auto seq = std::make_unique<Sequence>();
        for (const auto& n : j.value("normalizers", json::array()))
            if (auto p = makeNormalizer(n, where)) seq->items.push_back(std::move(p));
        return seq;
    }
    if (t == "NFKC" || t == "NFKD")
        throw Error(where + ": normalizer type '" + t + "' is not supported (compatibility decomposition tables are not built in)");
    throw Error(where + ": unknown normalizer type '" + t + "'");
}

} // namespace qb::tok
