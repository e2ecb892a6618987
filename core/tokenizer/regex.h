#pragma once
// PCRE2 wrapper that runs the Oniguruma patterns found in tokenizer.json files the way the HF
// library does: \s means Unicode White_Space, \p{..} follows Unicode 16 (PCRE2 10.42 has 14),
// JIT-compiled when available.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace qb {

class Regex {
public:
    // Throws qb::Error naming `where` when the pattern does not compile.
    Regex(const std::string& onigPattern, const std::string& where);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    // Non-overlapping matches [begin, end) in s, left to right; empty matches are skipped.
    // Throws qb::Error naming `where` and the pattern when PCRE2 gives up (match or depth limit,
    // JIT stack): a split cut short would silently change the tokens.
    std::vector<std::pair<size_t, size_t>> findAll(const std::string& s) const;

    // The PCRE2 pattern the Oniguruma one became (for error messages and tests).
    static std::string translate(const std::string& onigPattern);
    // PCRE2 match limit for every match in the process (0: PCRE2's default of 10^7). A hook for
    // tests that need a limit to be hit; ordinary runs never set it.
    static void setMatchLimit(uint32_t limit);
    // Escapes a literal string for use as a pattern.
    static std::string escape(const std::string& literal);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace qb
