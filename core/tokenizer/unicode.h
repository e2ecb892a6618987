#pragma once
// UTF-8 and the few Unicode algorithms the tokenizer needs (no ICU): decoding, validation,
// NFC/NFD, lowercase, White_Space, and General_Category ranges for regex translation.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qb::unicode {

// Decodes one code point at s[i] (s must be valid UTF-8); advances i.
inline char32_t next(const std::string& s, size_t& i)
{
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; return c; }
    int n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
    char32_t cp = c & (0x3F >> n);
    for (int k = 1; k <= n; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n + 1;
    return cp;
}
inline size_t charLen(unsigned char c) { return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2; }
void append(std::string& out, char32_t cp);
std::vector<char32_t> toCodePoints(const std::string& s);
std::string fromCodePoints(const std::vector<char32_t>& cps);

// Offset of the first invalid byte, or std::string::npos when s is valid UTF-8.
size_t invalidUtf8At(const std::string& s);
// Like Rust's String::from_utf8_lossy: each maximal invalid subpart becomes U+FFFD.
std::string lossyUtf8(const std::string& bytes);
// Keeps invalid bytes for byte-level models: each byte b of an invalid sequence becomes the
// private-use code point U+10FF00 + b (b >= 0x80), which byte_fallback and ByteLevel turn back
// into that byte, as llama2.c does with raw bytes. Valid text is returned unchanged.
std::string escapeInvalidUtf8(const std::string& bytes);
constexpr char32_t kEscapedByteBase = 0x10FF00;
inline int escapedByte(char32_t cp) { return cp >= kEscapedByteBase + 0x80 && cp <= 0x10FFFF ? int(cp - kEscapedByteBase) : -1; }

std::string nfc(const std::string& s);
std::string nfd(const std::string& s);
std::string lowercase(const std::string& s);

// Unicode White_Space (what Oniguruma's \s and Rust's char::is_whitespace mean).
bool isWhiteSpace(char32_t cp);
// General category membership, Unicode 16 ("L", "Lu", "N", "Nd", "M", "P", "S", ...).
bool inCategory(const char* cat, char32_t cp);
// The ranges of a category as [first, last] pairs; empty when the name is unknown.
std::vector<std::pair<uint32_t, uint32_t>> categoryRanges(const std::string& cat);

} // namespace qb::unicode
