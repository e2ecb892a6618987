// Decoders: ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, Sequence — each a
// "decode_chain" over the token strings, as in the HF library.
#include "core/tokenizer/components.h"
#include "core/tokenizer/regex.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

namespace qb::tok {
namespace {

using nlohmann::json;

struct ByteLevel : Decoder {
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        std::string bytes;
        for (const std::string& t : tokens) {
            std::string mine;
            bool ok = true;
            for (size_t i = 0; i < t.size() && ok;) {
                int b = unicodeToByte(unicode::next(t, i));
                if (b < 0) ok = false;
                else mine += char(b);
            }
            bytes += ok ? mine : t; // a token outside the byte alphabet passes through as UTF-8
        }
        tokens.assign(1, unicode::lossyUtf8(bytes));
    }
};

struct ByteFallback : Decoder {
    static int byteOf(const std::string& t)
    {
        if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
        auto hexv = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
        int h = hexv(t[3]), l = hexv(t[4]);
        return h < 0 || l < 0 ? -1 : h * 16 + l;
    }
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        std::vector<std::string> out;
        std::string pending;
        auto flush = [&] {
            if (pending.empty()) return;
            if (unicode::invalidUtf8At(pending) == std::string::npos) out.push_back(pending);
            else for (size_t k = 0; k < pending.size(); ++k) out.push_back("\xEF\xBF\xBD");
            pending.clear();
        };
        for (std::string& t : tokens) {
            int b = byteOf(t);
            if (b >= 0) { pending += char(b); continue; }
            flush();
            out.push_back(std::move(t));
        }
        flush();
        tokens.swap(out);
    }
};

struct Fuse : Decoder {
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        std::string all;
        for (auto& t : tokens) all += t;
        tokens.assign(1, all);
    }
};

struct Strip : Decoder {
    char32_t content;
    size_t start, stop;
    Strip(const json& j, const std::string& where)
    {
        std::string c = j.value("content", std::string(" "));
        if (c.empty()) throw Error(where + ": Strip decoder needs a content character");
        size_t i = 0;
        content = unicode::next(c, i);
        start = j.value("start", size_t(0));
        stop = j.value("stop", size_t(0));
    }
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        for (auto& t : tokens) {
            auto cps = unicode::toCodePoints(t);
            size_t b = 0, e = cps.size();
            while (b < e && b < start && cps[b] == content) ++b;
            size_t cut = 0;
            while (e > b && cut < stop && cps[e - 1] == content) { --e; ++cut; }
            t = unicode::fromCodePoints({cps.begin() + b, cps.begin() + e});
        }
    }
};

struct Replace : Decoder {
    std::unique_ptr<Regex> re;
    std::string content;
    Replace(const json& j, const std::string& where)
        : re(new Regex(patternOf(j.at("pattern"), where), where)), content(j.value("content", std::string())) {}
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        for (auto& t : tokens) {
            std::string out;
            size_t prev = 0;
            for (auto [b, e] : re->findAll(t)) {
                out.append(t, prev, b - prev);
                out += content;
                prev = e;
            }
            out.append(t, prev, std::string::npos);
            t.swap(out);
        }
    }
};

struct Metaspace : Decoder {
    std::string rep;
    bool prepend;
    Metaspace(const json& j, const std::string&)
    {
        rep = j.value("replacement", std::string("\xE2\x96\x81"));
        if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) prepend = j["prepend_scheme"] != "never";
        else prepend = j.value("add_prefix_space", true);
    }
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        for (size_t i = 0; i < tokens.size(); ++i) {
            std::string out;
            const std::string& t = tokens[i];
            for (size_t k = 0; k < t.size();) {
                if (!rep.empty() && t.compare(k, rep.size(), rep) == 0) {
                    if (!(i == 0 && prepend)) out += ' ';
                    k += rep.size();
                } else out += t[k++];
            }
            tokens[i].swap(out);
        }
    }
};

struct Sequence : Decoder {
    std::vector<std::unique_ptr<Decoder>> items;
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        for (auto& d : items) d->decodeChain(tokens);
    }
};

} // namespace

std::unique_ptr<Decoder> makeDecoder(const json& j, const std::string& where)
{
    if (j.is_null()) return nullptr;
    std::string t = typeOf(j, where, "decoder");
    if (t == "ByteLevel") return std::make_unique<ByteLevel>();
    if (t == "ByteFallback") return std::make_unique<ByteFallback>();
    if (t == "Fuse") return std::make_unique<Fuse>();
    if (t == "Strip") return std::make_unique<Strip>(j, where);
    if (t == "Replace") return std::make_unique<Replace>(j, where);
    if (t == "Metaspace") return std::make_unique<Metaspace>(j, where);
    if (t == "Sequence") {
        auto seq = std::make_unique<Sequence>();
        for (const auto& d : j.value("decoders", json::array()))
            if (auto x = makeDecoder(d, where)) seq->items.push_back(std::move(x));
        return seq;
    }
    throw Error(where + ": unknown decoder type '" + t + "'");
}

} // namespace qb::tok
