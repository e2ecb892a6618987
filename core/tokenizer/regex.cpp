#include "core/tokenizer/regex.h"

#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <atomic>
#include <cstdio>

namespace qb {
namespace {

std::string hex(uint32_t c)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\x{%X}", c);
    return buf;
}

// Class body (without brackets) for Unicode White_Space.
const char* kWhiteSpaceBody = "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

std::string categoryBody(const std::string& name)
{
    std::string body;
    for (auto [a, b] : unicode::categoryRanges(name)) {
        body += hex(a);
        if (b != a) body += "-" + hex(b);
    }
    return body;
}

// Category names as written in patterns: "L", "Letter", "Lu", ...
std::string canonicalCategory(std::string n)
{
    if (n.size() > 2 && n.compare(0, 3, "Is_") == 0) n = n.substr(3);
    static const std::pair<const char*, const char*> longNames[] = {
        {"Letter", "L"}, {"Uppercase_Letter", "Lu"}, {"Lowercase_Letter", "Ll"}, {"Titlecase_Letter", "Lt"},
        {"Modifier_Letter", "Lm"}, {"Other_Letter", "Lo"}, {"Mark", "M"}, {"Nonspacing_Mark", "Mn"},
        {"Spacing_Mark", "Mc"}, {"Enclosing_Mark", "Me"}, {"Number", "N"}, {"Decimal_Number", "Nd"},
        {"Letter_Number", "Nl"}, {"Other_Number", "No"}, {"Punctuation", "P"}, {"Symbol", "S"}};
    for (auto& [l, s] : longNames)
        if (n == l) return s;
    return n;
}

} // namespace

struct Regex::Impl {
    pcre2_code* code = nullptr;
    bool jit = false;
    std::string pattern, where; // for errors
};

namespace {
std::atomic<uint32_t> g_matchLimit{0}; // 0: PCRE2's default

// Per-thread match context with a JIT stack larger than PCRE2's 32 KiB default, so long pieces
// of ordinary text do not hit the stack limit (which is now an error, not a silent stop).
struct MatchContext {
    pcre2_match_context* mc = pcre2_match_context_create(nullptr);
    pcre2_jit_stack* js = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    MatchContext()
    {
        if (mc && js) pcre2_jit_stack_assign(mc, nullptr, js);
    }
    ~MatchContext()
    {
        if (js) pcre2_jit_stack_free(js);
        if (mc) pcre2_match_context_free(mc);
    }
};
} // namespace

void Regex::setMatchLimit(uint32_t limit) { g_matchLimit.store(limit); }

std::string Regex::escape(const std::string& literal)
{
    std::string out;
    for (char c : literal) {
        if (std::string("\\^$.|?*+()[]{}-/").find(c) != std::string::npos) out += '\\';
        out += c;
    }
    return out;
}

std::string Regex::translate(const std::string& p)
{
    std::string out;
    int classDepth = 0; // inside [...]
    for (size_t i = 0; i < p.size(); ++i) {
        char c = p[i];
        if (c == '\\' && i + 1 < p.size()) {
            char e = p[i + 1];
            if (e == 's' || e == 'S') {
                if (classDepth > 0 && e == 's') out += kWhiteSpaceBody;
                else if (classDepth > 0) out += "\\S"; // rare; PCRE2's own \S inside a class
                else out += std::string(e == 's' ? "[" : "[^") + kWhiteSpaceBody + "]";
                ++i;
                continue;
            }
            if ((e == 'p' || e == 'P') && i + 2 < p.size() && p[i + 2] == '{') {
                size_t close = p.find('}', i + 3);
                if (close != std::string::npos) {
                    std::string name = p.substr(i + 3, close - i - 3);
                    bool neg = e == 'P';
                    if (!name.empty() && name[0] == '^') { neg = !neg; name = name.substr(1); }
                    std::string body = categoryBody(canonicalCategory(name));
                    if (!body.empty() && (classDepth == 0 || !neg)) {
                        out += classDepth > 0 ? body : std::string(neg ? "[^" : "[") + body + "]";
                        i = close;
                        continue;
                    }
                }
            }
            out += c;
            out += e;
            ++i;
            continue;
        }
        if (c == '[') {
            ++classDepth;
            out += c;
            if (i + 1 < p.size() && p[i + 1] == '^') { out += '^'; ++i; }
            if (i + 1 < p.size() && p[i + 1] == ']') { out += "\\]"; ++i; } // literal ] first
            continue;
        }
        if (c == ']' && classDepth > 0) --classDepth;
        out += c;
    }
    return out;
}

Regex::Regex(const std::string& onigPattern, const std::string& where) : d(new Impl)
{
    std::string pat = translate(onigPattern);
    int err = 0;
    PCRE2_SIZE off = 0;
    d->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat.data()), pat.size(), PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK,
                            &err, &off, nullptr);
    if (!d->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        throw Error(where + ": cannot compile regex '" + onigPattern + "': " + reinterpret_cast<char*>(msg));
    }
    d->jit = pcre2_jit_compile(d->code, PCRE2_JIT_COMPLETE) == 0;
    d->pattern = onigPattern;
    d->where = where;
}

Regex::~Regex()
{
    if (d && d->code) pcre2_code_free(d->code);
}

std::vector<std::pair<size_t, size_t>> Regex::findAll(const std::string& s) const
{
    std::vector<std::pair<size_t, size_t>> out;
    // One match-data block per thread: encode() may run on several threads at once.
    thread_local std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
        pcre2_match_data_create(4, nullptr), &pcre2_match_data_free);
    thread_local MatchContext ctx;
    const uint32_t limit = g_matchLimit.load();
    if (ctx.mc) {
        pcre2_set_match_limit(ctx.mc, limit ? limit : 10000000u); // 10^7: PCRE2's own default
        pcre2_set_depth_limit(ctx.mc, limit ? limit : 10000000u);
    }
    // JIT counts its limit coarsely; a set limit runs the interpreter so it is hit where asked.
    const bool jit = d->jit && limit == 0;
    auto subject = reinterpret_cast<PCRE2_SPTR>(s.data());
    size_t pos = 0;
    while (pos <= s.size()) {
        int rc = jit ? pcre2_jit_match(d->code, subject, s.size(), pos, PCRE2_NO_UTF_CHECK, md.get(), ctx.mc)
                     : pcre2_match(d->code, subject, s.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md.get(), ctx.mc);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            // A match or depth limit, the JIT stack, ...: the split would stop here and the rest of
            // the text be tokenized as one piece. Wrong tokens with exit 0 are worse than an error.
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            throw Error(d->where + ": tokenizer regex '" + d->pattern + "' failed at byte " + std::to_string(pos) +
                        " of a " + std::to_string(s.size()) + "-byte piece (PCRE2: " + reinterpret_cast<char*>(msg) +
                        "); refusing to tokenize with a partial split");
        }
        PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
        size_t b = ov[0], e = ov[1];
        if (e > b) {
            out.emplace_back(b, e);
            pos = e;
        } else {
            if (b >= s.size()) break;
            pos = b + unicode::charLen(static_cast<unsigned char>(s[b]));
        }
    }
    return out;
}

} // namespace qb
