// Pre-tokenizers: ByteLevel, Split, Digits, Metaspace, Whitespace(Split), Sequence.
// Splitting follows the HF library's NormalizedString::split: matches and gaps become pieces,
// then the delimiter behaviour merges or drops them, and empty pieces vanish.
#include "core/tokenizer/components.h"
#include "core/tokenizer/regex.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

namespace qb::tok {
namespace {

using nlohmann::json;
using Span = std::pair<size_t, size_t>;

enum class Behavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior behaviorOf(const json& j, const std::string& where)
{
    std::string b = j.is_string() ? j.get<std::string>() : "";
    if (b == "Isolated") return Behavior::Isolated;
    if (b == "Removed") return Behavior::Removed;
    if (b == "MergedWithPrevious") return Behavior::MergedWithPrevious;
    if (b == "MergedWithNext") return Behavior::MergedWithNext;
    if (b == "Contiguous") return Behavior::Contiguous;
    throw Error(where + ": unknown split behavior '" + (j.is_string() ? b : j.dump()) + "'");
}

// Matches -> pieces of `s` according to `behavior` (HF NormalizedString::split).
void splitPiece(const Piece& p, const std::vector<Span>& found, bool invert, Behavior behavior, std::vector<Piece>& out)
{
    const std::string& s = p.text;
    std::vector<std::pair<Span, bool>> m; // (span, is_match)
    size_t prev = 0;
    for (auto [b, e] : found) {
        if (prev != b) m.push_back({{prev, b}, invert});
        m.push_back({{b, e}, !invert});
        prev = e;
    }
    if (prev != s.size()) m.push_back({{prev, s.size()}, invert});

    std::vector<Span> spans;
    bool prevMatch = false;
    switch (behavior) {
    case Behavior::Isolated:
        for (auto& x : m) spans.push_back(x.first);
        break;
    case Behavior::Removed:
        for (auto& x : m)
            if (!x.second) spans.push_back(x.first);
        break;
    case Behavior::MergedWithPrevious:
        for (auto& x : m) {
            if (x.second && !prevMatch && !spans.empty()) spans.back().second = x.first.second;
            else spans.push_back(x.first);
            prevMatch = x.second;
        }
        break;
    case Behavior::MergedWithNext:
        for (size_t k = m.size(); k-- > 0;) {
            auto& x = m[k];
            if (x.second && !prevMatch && !spans.empty()) spans.back().first = x.first.first;
            else spans.push_back(x.first);
            prevMatch = x.second;
        }
        std::reverse(spans.begin(), spans.end());
        break;
    case Behavior::Contiguous:
        for (size_t k = 0; k < m.size(); ++k) {
            auto& x = m[k];
            if (k > 0 && x.second == prevMatch) spans.back().second = x.first.second;
            else spans.push_back(x.first);
            prevMatch = x.second;
        }
        break;
    }
    for (auto [b, e] : spans)
        if (e > b) out.push_back({s.substr(b, e - b), p.atStart && b == 0, p.rawBytes});
}

void applyEach(std::vector<Piece>& pieces, const std::function<void(const Piece&, std::vector<Piece>&)>& f)
{
    std::vector<Piece> out;
    out.reserve(pieces.size());
    for (const Piece& p : pieces) f(p, out);
    pieces.swap(out);
}

const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct ByteLevel : PreTokenizer {
    bool addPrefixSpace, useRegex;
    std::unique_ptr<Regex> re;
    ByteLevel(const json& j, const std::string& where)
        : addPrefixSpace(j.value("add_prefix_space", true)), useRegex(j.value("use_regex", true))
    {
        if (useRegex) re = std::make_unique<Regex>(kGpt2Pattern, where);
    }
    void apply(std::vector<Piece>& pieces) const override
    {
        applyEach(pieces, [&](const Piece& p0, std::vector<Piece>& out) {
            Piece p = p0;
            if (addPrefixSpace && (p.text.empty() || p.text[0] != ' ')) p.text.insert(0, " ");
            size_t first = out.size();
            if (useRegex) splitPiece(p, re->findAll(p.text), false, Behavior::Isolated, out);
            else if (!p.text.empty()) out.push_back(p);
            for (size_t k = first; k < out.size(); ++k) {
                std::string mapped;
                mapped.reserve(out[k].text.size() * 2);
                const std::string& t = out[k].text;
                for (size_t i = 0; i < t.size(); ++i) {
                    unsigned char c = static_cast<unsigned char>(t[i]);
                    if (c == 0xF4 && out[k].rawBytes && i + 3 < t.size()) { // an escaped invalid byte becomes that byte again
                        size_t j = i;
                        int raw = unicode::escapedByte(unicode::next(t, j));
                        if (raw >= 0) { mapped += byteToUnicode(uint8_t(raw)); i = j - 1; continue; }
                    }
                    mapped += byteToUnicode(c);
                }
                out[k].text.swap(mapped);
            }
        });
    }
};

struct Split : PreTokenizer {
    std::unique_ptr<Regex> re;
    Behavior behavior;
    bool invert;
    Split(const json& j, const std::string& where)
        : re(new Regex(patternOf(j.at("pattern"), where), where)), behavior(behaviorOf(j.value("behavior", json()), where)),
          invert(j.value("invert", false))
    {
    }
    void apply(std::vector<Piece>& pieces) const override
    {
        applyEach(pieces, [&](const Piece& p, std::vector<Piece>& out) {
            splitPiece(p, re->findAll(p.text), invert, behavior, out);
        });
    }
};

// Spans of runs of code points satisfying `pred` (each code point alone when `single`).
std::vector<Span> runsOf(const std::string& s, const std::function<bool(char32_t)>& pred, bool single)
{
    std::vector<Span> r;
    bool inRun = false;
    for (size_t i = 0; i < s.size();) {
        size_t b = i;
        bool yes = pred(unicode::next(s, i));
        if (yes && inRun && !single) r.back().second = i;
        else if (yes) r.push_back({b, i});
        inRun = yes;
    }
    return r;
}

struct Digits : PreTokenizer {
    bool individual;
    explicit Digits(bool ind) : individual(ind) {}
    void apply(std::vector<Piece>& pieces) const override
    {
        // Rust's char::is_numeric: general category N.
        auto isNum = [](char32_t c) { return c < 0x80 ? (c >= '0' && c <= '9') : unicode::inCategory("N", c); };
        applyEach(pieces, [&](const Piece& p, std::vector<Piece>& out) {
            splitPiece(p, runsOf(p.text, isNum, individual), false, individual ? Behavior::Isolated : Behavior::Contiguous, out);
        });
    }
};

struct WhitespaceSplit : PreTokenizer {
    void apply(std::vector<Piece>& pieces) const override
    {
        applyEach(pieces, [&](const Piece& p, std::vector<Piece>& out) {
            splitPiece(p, runsOf(p.text, unicode::isWhiteSpace, false), false, Behavior::Removed, out);
        });
    }
};

struct Whitespace : PreTokenizer {
    Regex re{R"(\w+|[^\w\s]+)", "Whitespace pre-tokenizer"};
    void apply(std::vector<Piece>& pieces) const override
    {
        applyEach(pieces, [&](const Piece& p, std::vector<Piece>& out) {
            splitPiece(p, re.findAll(p.text), true, Behavior::Removed, out);
        });
    }
};

struct Metaspace : PreTokenizer {
    std::string rep;
    std::string scheme; // always | first | never
    bool split;
    Metaspace(const json& j, const std::string& where)
    {
        rep = j.value("replacement", std::string("\xE2\x96\x81"));
        if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) scheme = j["prepend_scheme"].get<std::string>();
        else scheme = j.value("add_prefix_space", true) ? "always" : "never";
        if (scheme != "always" && scheme != "first" && scheme != "never")
            throw Error(where + ": unknown Metaspace prepend_scheme '" + scheme + "'");
        split = j.value("split", true);
    }
    void apply(std::vector<Piece>& pieces) const override
    {
        applyEach(pieces, [&](const Piece& p0, std::vector<Piece>& out) {
            Piece p{std::string(), p0.atStart, p0.rawBytes};
            for (char c : p0.text) {
                if (c == ' ') p.text += rep;
                else p.text += c;
            }
            bool startsWithRep = p.text.compare(0, rep.size(), rep) == 0;
            if (!startsWithRep && (scheme == "always" || (scheme == "first" && p.atStart))) p.text.insert(0, rep);
            if (!split) {
                if (!p.text.empty()) out.push_back(p);
                return;
            }
            std::vector<Span> found;
            for (size_t pos = p.text.find(rep); pos != std::string::npos; pos = p.text.find(rep, pos + rep.size()))
                found.push_back({pos, pos + rep.size()});
            splitPiece(p, found, false, Behavior::MergedWithNext, out);
        });
    }
};

struct Sequence : PreTokenizer {
    std::vector<std::unique_ptr<PreTokenizer>> items;
    void apply(std::vector<Piece>& pieces) const override
    {
        for (auto& t : items) t->apply(pieces);
    }
};

} // namespace

const std::string& byteToUnicode(uint8_t b)
{
    static const std::vector<std::string> table = [] {
        std::vector<std::string> t(256);
        int n = 0;
        for (int c = 0; c < 256; ++c) {
            bool printable = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF);
            unicode::append(t[c], printable ? char32_t(c) : char32_t(256 + n++));
        }
        return t;
    }();
    return table[b];
}

int unicodeToByte(char32_t cp)
{
    static const std::vector<int> inv = [] {
        std::vector<int> v(512, -1);
        for (int b = 0; b < 256; ++b) {
            size_t i = 0;
            v[unicode::next(byteToUnicode(uint8_t(b)), i)] = b;
        }
        return v;
    }();
    return cp < inv.size() ? inv[cp] : -1;
}

std::unique_ptr<PreTokenizer> makePreTokenizer(const json& j, const std::string& where)
{
    if (j.is_null()) return nullptr;
    std::string t = typeOf(j, where, "pre_tokenizer");
    if (t == "ByteLevel") return std::make_unique<ByteLevel>(j, where);
    if (t == "Split") return std::make_unique<Split>(j, where);
    if (t == "Digits") return std::make_unique<Digits>(j.value("individual_digits", false));
    if (t == "Metaspace") return std::make_unique<Metaspace>(j, where);
    if (t == "Whitespace") return std::make_unique<Whitespace>();
    if (t == "WhitespaceSplit") return std::make_unique<WhitespaceSplit>();
    if (t == "Sequence") {
        auto seq = std::make_unique<Sequence>();
        for (const auto& p : j.value("pretokenizers", json::array()))
            if (auto x = makePreTokenizer(p, where)) seq->items.push_back(std::move(x));
        return seq;
    }
    throw Error(where + ": unknown pre_tokenizer type '" + t + "'");
}

} // namespace qb::tok
