#include "core/tokenizer/unicode.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <unordered_map>

namespace qb::unicode {
namespace {
#include "core/tokenizer/unicode_data.inc"

// Hangul syllables compose and decompose algorithmically (Unicode ch. 3.12).
constexpr char32_t SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
constexpr int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

struct Tables {
    std::unordered_map<char32_t, uint8_t> ccc;
    std::unordered_map<char32_t, std::pair<uint32_t, uint32_t>> decomp; // cp -> (offset, len)
    std::unordered_map<uint64_t, char32_t> comp;                        // (a << 32 | b) -> composite
    std::unordered_map<char32_t, std::pair<uint32_t, uint32_t>> lower;
    Tables()
    {
        for (size_t i = 0; i < sizeof(kCcc) / sizeof(uint32_t); i += 2) ccc[kCcc[i]] = uint8_t(kCcc[i + 1]);
        for (size_t i = 0; i < sizeof(kDecomp) / sizeof(uint32_t); i += 3) decomp[kDecomp[i]] = {kDecomp[i + 1], kDecomp[i + 2]};
        for (size_t i = 0; i < sizeof(kComp) / sizeof(uint32_t); i += 3)
            comp[(uint64_t(kComp[i]) << 32) | kComp[i + 1]] = kComp[i + 2];
        for (size_t i = 0; i < sizeof(kLower) / sizeof(uint32_t); i += 3) lower[kLower[i]] = {kLower[i + 1], kLower[i + 2]};
    }
};
const Tables& tables()
{
    static const Tables t;
    return t;
}
uint8_t cccOf(const Tables& t, char32_t cp)
{
    if (cp < 0x300) return 0;
    auto it = t.ccc.find(cp);
    return it == t.ccc.end() ? 0 : it->second;
}

std::vector<char32_t> decomposed(const std::string& s)
{
    const Tables& t = tables();
    std::vector<char32_t> out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        char32_t cp = next(s, i);
        if (cp < 0xC0) { out.push_back(cp); continue; }
        if (cp >= SBase && cp < SBase + SCount) {
            int si = int(cp - SBase);
            out.push_back(LBase + si / NCount);
            out.push_back(VBase + (si % NCount) / TCount);
            if (si % TCount) out.push_back(TBase + si % TCount);
            continue;
        }
        auto it = t.decomp.find(cp);
        if (it == t.decomp.end()) out.push_back(cp);
        else out.insert(out.end(), kDecompData + it->second.first, kDecompData + it->second.first + it->second.second);
    }
    // Canonical ordering: stable sort of each run of non-starters by combining class.
    for (size_t i = 0; i < out.size();) {
        if (cccOf(t, out[i]) == 0) { ++i; continue; }
        size_t j = i;
        while (j < out.size() && cccOf(t, out[j]) != 0) ++j;
        std::stable_sort(out.begin() + i, out.begin() + j,
                         [&](char32_t a, char32_t b) { return cccOf(t, a) < cccOf(t, b); });
        i = j;
    }
    return out;
}

// True when no code point of s can change under NFC (all below U+0300, the common case).
bool trivialForNfc(const std::string& s)
{
    for (unsigned char c : s)
        if (c >= 0xCC) return false; // lead bytes of U+0300 and above
    return true;
}
} // namespace

void append(std::string& out, char32_t cp)
{
    if (cp < 0x80) out += char(cp);
    else if (cp < 0x800) { out += char(0xC0 | (cp >> 6)); out += char(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { out += char(0xE0 | (cp >> 12)); out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F)); }
    else { out += char(0xF0 | (cp >> 18)); out += char(0x80 | ((cp >> 12) & 0x3F)); out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F)); }
}

std::vector<char32_t> toCodePoints(const std::string& s)
{
    std::vector<char32_t> v;
    v.reserve(s.size());
    for (size_t i = 0; i < s.size();) v.push_back(next(s, i));
    return v;
}

std::string fromCodePoints(const std::vector<char32_t>& cps)
{
    std::string s;
    s.reserve(cps.size());
    for (char32_t c : cps) append(s, c);
    return s;
}

// Length of the valid UTF-8 sequence at s[i], or 0 with `bad` = length of the maximal invalid
// subpart (at least 1), following the Unicode "maximal subpart" rule Rust uses.
static size_t validSeq(const std::string& s, size_t i, size_t& bad)
{
    auto b = [&](size_t k) -> unsigned { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0x100; };
    unsigned c = b(i);
    bad = 1;
    if (c < 0x80) return 1;
    unsigned lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    for (size_t k = 1; k <= n; ++k) {
        unsigned x = b(i + k);
        unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (x < l || x > h) { bad = k; return 0; }
    }
    return n + 1;
}

size_t invalidUtf8At(const std::string& s)
{
    for (size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
        size_t bad, n = validSeq(s, i, bad);
        if (!n) return i;
        i += n;
    }
    return std::string::npos;
}

std::string lossyUtf8(const std::string& bytes)
{
    if (invalidUtf8At(bytes) == std::string::npos) return bytes;
    std::string out;
    for (size_t i = 0; i < bytes.size();) {
        size_t bad, n = validSeq(bytes, i, bad);
        if (n) { out.append(bytes, i, n); i += n; }
        else { out += "\xEF\xBF\xBD"; i += bad; }
    }
    return out;
}

std::string escapeInvalidUtf8(const std::string& bytes)
{
    if (invalidUtf8At(bytes) == std::string::npos) return bytes;
    std::string out;
    for (size_t i = 0; i < bytes.size();) {
        size_t bad, n = validSeq(bytes, i, bad);
        if (n) { out.append(bytes, i, n); i += n; continue; }
        for (size_t k = 0; k < bad; ++k) append(out, kEscapedByteBase + static_cast<unsigned char>(bytes[i + k]));
        i += bad;
    }
    return out;
}

std::string nfd(const std::string& s)
{
    if (trivialForNfc(s)) return s;
    return fromCodePoints(decomposed(s));
}

std::string nfc(const std::string& s)
{
    if (trivialForNfc(s)) return s;
    const Tables& t = tables();
    std::vector<char32_t> d = decomposed(s);
    // Canonical composition: a character composes with the last starter unless blocked.
    size_t starter = std::string::npos, w = 0;
    int lastCcc = -1;
    for (size_t r = 0; r < d.size(); ++r) {
        char32_t cp = d[r];
        int c = cccOf(t, cp);
        if (starter != std::string::npos && (lastCcc < c || (lastCcc == 0 && w == starter + 1))) {
            char32_t a = d[starter], composite = 0;
            if (a >= LBase && a < LBase + LCount && cp >= VBase && cp < VBase + VCount && w == starter + 1)
                composite = SBase + ((a - LBase) * VCount + (cp - VBase)) * TCount;
            else if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && cp > TBase &&
                     cp < TBase + TCount && w == starter + 1)
                composite = a + (cp - TBase);
            else {
                auto it = t.comp.find((uint64_t(a) << 32) | cp);
                if (it != t.comp.end()) composite = it->second;
            }
            if (composite) { d[starter] = composite; continue; }
        }
        if (c == 0) { starter = w; lastCcc = 0; }
        else lastCcc = c;
        // A starter after non-starters that did not compose: it blocks nothing new.
        d[w++] = cp;
        if (c == 0) lastCcc = 0;
    }
    d.resize(w);
    return fromCodePoints(d);
}

std::string lowercase(const std::string& s)
{
    const Tables& t = tables();
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        char32_t cp = next(s, i);
        if (cp < 0x80) { out += char(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp); continue; }
        auto it = t.lower.find(cp);
        if (it == t.lower.end()) append(out, cp);
        else for (uint32_t k = 0; k < it->second.second; ++k) append(out, kLowerData[it->second.first + k]);
    }
    return out;
}

bool isWhiteSpace(char32_t c)
{
    return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static const CatRanges* findCat(const char* name)
{
    for (const auto& c : kCategories)
        if (std::strcmp(c.name, name) == 0) return &c;
    return nullptr;
}

bool inCategory(const char* cat, char32_t cp)
{
    const CatRanges* c = findCat(cat);
    if (!c) return false;
    size_t lo = 0, hi = c->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->ranges[2 * mid + 1] < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < c->count && c->ranges[2 * lo] <= cp;
}

std::vector<std::pair<uint32_t, uint32_t>> categoryRanges(const std::string& cat)
{
    std::vector<std::pair<uint32_t, uint32_t>> out;
    if (const CatRanges* c = findCat(cat.c_str()))
        for (size_t i = 0; i < c->count; ++i) out.emplace_back(c->ranges[2 * i], c->ranges[2 * i + 1]);
    return out;
}

} // namespace qb::unicode
