#include "core/tokenizer/added_tokens.h"

#include "core/tokenizer/unicode.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace qb::tok {
namespace {

bool isWordChar(char32_t c)
{
    return c == '_' || (c < 0x80 ? std::isalnum(int(c)) != 0 : unicode::inCategory("L", c) || unicode::inCategory("N", c));
}

char32_t lastChar(const std::string& s, size_t end, size_t* begin = nullptr)
{
    size_t b = end;
    do { --b; } while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80);
    if (begin) *begin = b;
    size_t i = b;
    return unicode::next(s, i);
}

} // namespace

void AddedMatcher::build(std::vector<AddedToken> tokens, std::vector<std::string> patterns)
{
    tokens_ = std::move(tokens);
    patterns_ = std::move(patterns);
    byFirstByte_.clear();
    for (size_t k = 0; k < tokens_.size(); ++k)
        if (!patterns_[k].empty()) byFirstByte_[static_cast<unsigned char>(patterns_[k][0])].push_back(k);
    for (auto& [b, list] : byFirstByte_)
        std::stable_sort(list.begin(), list.end(), [&](size_t x, size_t y) { return patterns_[x].size() > patterns_[y].size(); });
}

std::vector<Segment> AddedMatcher::split(const std::string& s) const
{
    std::vector<Segment> out;
    size_t startOffset = 0;
    for (size_t i = 0; i < s.size();) {
        auto it = byFirstByte_.find(static_cast<unsigned char>(s[i]));
        size_t hit = SIZE_MAX;
        if (it != byFirstByte_.end())
            for (size_t k : it->second)
                if (s.compare(i, patterns_[k].size(), patterns_[k]) == 0) { hit = k; break; }
        if (hit == SIZE_MAX) { ++i; continue; }
        const AddedToken& t = tokens_[hit];
        size_t start = i, stop = i + patterns_[hit].size();
        i = stop; // non-overlapping, like aho-corasick's find_iter
        if (start < startOffset) continue;
        if (t.singleWord) {
            bool startOk = start == 0 || !isWordChar(lastChar(s, start));
            size_t j = stop;
            bool stopOk = stop == s.size() || !isWordChar(unicode::next(s, j));
            if (!startOk || !stopOk) continue;
        }
        if (t.lstrip) {
            size_t b = start;
            while (b > startOffset) {
                size_t cb;
                if (!unicode::isWhiteSpace(lastChar(s, b, &cb))) break;
                b = cb;
            }
            start = std::max(b, startOffset);
        }
        if (t.rstrip) {
            while (stop < s.size()) {
                size_t j = stop;
                if (!unicode::isWhiteSpace(unicode::next(s, j))) break;
                stop = j;
            }
            i = stop;
        }
        if (startOffset < start) out.push_back({startOffset, start, -1});
        out.push_back({start, stop, t.id});
        startOffset = stop;
    }
    if (startOffset < s.size()) out.push_back({startOffset, s.size(), -1});
    return out;
}

} // namespace qb::tok
