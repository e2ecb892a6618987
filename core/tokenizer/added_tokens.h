#pragma once
// Added tokens (special or not) are cut out of the text before the model sees it, matched
// leftmost-longest with the single_word / lstrip / rstrip rules of the HF AddedVocabulary.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace qb::tok {

struct AddedToken {
    int32_t id = -1;
    std::string content;
    bool singleWord = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

// A run of text (id < 0) or an added token (id >= 0), as byte offsets into the input.
struct Segment {
    size_t begin, end;
    int32_t id;
};

class AddedMatcher {
public:
    // `patterns[i]` is the text matched for `tokens[i]` (normalized content for normalized tokens).
    void build(std::vector<AddedToken> tokens, std::vector<std::string> patterns);
    bool empty() const { return tokens_.empty(); }
    std::vector<Segment> split(const std::string& s) const;

private:
    std::vector<AddedToken> tokens_;
    std::vector<std::string> patterns_;
    std::unordered_map<unsigned char, std::vector<size_t>> byFirstByte_; // longest first
};

} // namespace qb::tok
