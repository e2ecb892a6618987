#include "core/tokenizer/bpe.h"

#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <queue>

namespace qb::tok {

namespace {
constexpr int32_t kMaxId = 1 << 24; // far above any real vocabulary; guards the id table size
constexpr size_t kCacheLimit = 200000;
constexpr size_t kCacheWordLimit = 256; // longer words are rare and would bloat the cache
} // namespace

Bpe::Bpe(const nlohmann::json& m, const std::string& where)
{
    if (!m.contains("vocab") || !m["vocab"].is_object()) throw Error(where + ": BPE model has no \"vocab\" object");
    for (auto it = m["vocab"].begin(); it != m["vocab"].end(); ++it) {
        if (!it.value().is_number_integer())
            throw Error(where + ": vocab entry '" + it.key() + "' has a non-integer id");
        long long id = it.value().get<long long>();
        if (id < 0 || id >= kMaxId)
            throw Error(where + ": vocab id " + std::to_string(id) + " of '" + it.key() + "' is out of range");
        vocab_[it.key()] = int32_t(id);
        if (size_t(id) >= idToToken_.size()) idToToken_.resize(size_t(id) + 1);
        idToToken_[size_t(id)] = it.key();
    }
    auto str = [&](const char* k) {
        return m.contains(k) && m[k].is_string() ? m[k].get<std::string>() : std::string();
    };
    prefix_ = str("continuing_subword_prefix");
    suffix_ = str("end_of_word_suffix");
    fuseUnk_ = m.value("fuse_unk", false) == true;
    byteFallback_ = m.contains("byte_fallback") && m["byte_fallback"].is_boolean() && m["byte_fallback"].get<bool>();
    ignoreMerges_ = m.contains("ignore_merges") && m["ignore_merges"].is_boolean() && m["ignore_merges"].get<bool>();
    std::string unk = str("unk_token");
    if (!unk.empty()) {
        auto it = vocab_.find(unk);
        if (it == vocab_.end()) throw Error(where + ": unk_token '" + unk + "' is not in the vocab");
        unkId_ = it->second;
    }
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        byteIds_[b] = tokenToId(name);
    }

    const nlohmann::json& merges = m.contains("merges") ? m["merges"] : nlohmann::json::array();
    if (!merges.is_array()) throw Error(where + ": BPE \"merges\" must be an array");
    int32_t rank = 0;
    for (const auto& mg : merges) {
        std::string a, b;
        if (mg.is_string()) {
            const std::string& s = mg.get_ref<const std::string&>();
            size_t sp = s.find(' ', 1);
            if (sp == std::string::npos) throw Error(where + ": merge #" + std::to_string(rank) + " '" + s + "' is not \"a b\"");
            a = s.substr(0, sp);
            b = s.substr(sp + 1);
        } else if (mg.is_array() && mg.size() == 2 && mg[0].is_string() && mg[1].is_string()) {
            a = mg[0].get<std::string>();
            b = mg[1].get<std::string>();
        } else {
            throw Error(where + ": merge #" + std::to_string(rank) + " must be \"a b\" or [a, b], got " + mg.dump());
        }
        auto ia = vocab_.find(a), ib = vocab_.find(b);
        for (auto [it, name] : {std::pair{ia, &a}, std::pair{ib, &b}})
            if (it == vocab_.end())
                throw Error(where + ": merge #" + std::to_string(rank) + " '" + a + " " + b + "' references unknown token '" + *name + "'");
        std::string merged = a + (prefix_.empty() || b.compare(0, prefix_.size(), prefix_) != 0 ? b : b.substr(prefix_.size()));
        auto im = vocab_.find(merged);
        if (im == vocab_.end())
            throw Error(where + ": merge #" + std::to_string(rank) + " '" + a + " " + b + "' makes '" + merged + "', which is not in the vocab");
        merges_.emplace((uint64_t(uint32_t(ia->second)) << 32) | uint32_t(ib->second), std::pair{rank, im->second});
        if (inMerge_.size() < idToToken_.size()) inMerge_.resize(idToToken_.size(), false);
        inMerge_[size_t(ia->second)] = inMerge_[size_t(ib->second)] = true;
        ++rank;
    }
}

int32_t Bpe::tokenToId(const std::string& t) const
{
    auto it = vocab_.find(t);
    return it == vocab_.end() ? -1 : it->second;
}

const std::string* Bpe::idToToken(int32_t id) const
{
    if (id < 0 || size_t(id) >= idToToken_.size()) return nullptr;
    // Holes in a sparse vocab are empty strings; no real token is empty.
    return idToToken_[size_t(id)].empty() ? nullptr : &idToToken_[size_t(id)];
}

void Bpe::encodeWord(const std::string& word, std::vector<int32_t>& out, bool rawBytes) const
{
    if (word.empty()) return;
    if (ignoreMerges_) {
        auto it = vocab_.find(word);
        if (it != vocab_.end()) { out.push_back(it->second); return; }
    }
    bool cacheable = word.size() <= kCacheWordLimit && !rawBytes;
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cacheMutex_);
        auto it = cache_.find(word);
        if (it != cache_.end()) { out.insert(out.end(), it->second.begin(), it->second.end()); return; }
    }
    std::vector<int32_t> ids;
    merge(word, ids, rawBytes);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cacheMutex_);
        if (cache_.size() >= kCacheLimit) cache_.clear();
        cache_.emplace(word, std::move(ids));
    }
}

// The hot function: builds the initial symbols, then merges runs between symbols that take
// part in no merge (a newline's byte token, say), which is exact and keeps heaps small for
// models without a pre-tokenizer, where the whole text is one word.
void Bpe::merge(const std::string& w, std::vector<int32_t>& out, bool rawBytes) const
{
    std::vector<int32_t> syms;
    syms.reserve(w.size());
    int32_t pendingUnk = -1;
    std::string s;
    for (size_t i = 0; i < w.size();) {
        size_t b = i;
        i += unicode::charLen(static_cast<unsigned char>(w[i]));
        s.assign(w, b, i - b);
        if (rawBytes && i - b == 4 && static_cast<unsigned char>(w[b]) == 0xF4) { // an escaped invalid byte?
            size_t k = b;
            int raw = unicode::escapedByte(unicode::next(w, k));
            if (raw >= 0) s.assign(1, char(raw));
        }
        if (!prefix_.empty() && b > 0) s.insert(0, prefix_);
        if (!suffix_.empty() && i == w.size()) s += suffix_;
        auto it = vocab_.find(s);
        if (it != vocab_.end()) {
            if (pendingUnk >= 0) { syms.push_back(pendingUnk); pendingUnk = -1; }
            syms.push_back(it->second);
            continue;
        }
        if (byteFallback_) {
            bool all = true;
            for (unsigned char c : s) all = all && byteIds_[c] >= 0;
            if (all) {
                if (pendingUnk >= 0) { syms.push_back(pendingUnk); pendingUnk = -1; }
                for (unsigned char c : s) syms.push_back(byteIds_[c]);
                continue;
            }
        }
        if (unkId_ >= 0) {
            if (pendingUnk >= 0 && !fuseUnk_) syms.push_back(pendingUnk);
            pendingUnk = unkId_;
        }
    }
    if (pendingUnk >= 0) syms.push_back(pendingUnk);

    auto barrier = [&](int32_t id) { return size_t(id) >= inMerge_.size() || !inMerge_[size_t(id)]; };
    size_t runStart = 0;
    for (size_t k = 0; k < syms.size(); ++k) {
        if (!barrier(syms[k])) continue;
        mergeRun(syms.data() + runStart, k - runStart, out);
        out.push_back(syms[k]);
        runStart = k + 1;
    }
    mergeRun(syms.data() + runStart, syms.size() - runStart, out);
}

// HF's Word::merge_all: a heap of (rank, position), leftmost first among equal ranks.
void Bpe::mergeRun(const int32_t* ids, size_t n, std::vector<int32_t>& out) const
{
    if (n < 2) {
        out.insert(out.end(), ids, ids + n);
        return;
    }
    struct Sym { int32_t id; int32_t prev, next; bool alive; };
    std::vector<Sym> syms(n);
    for (size_t k = 0; k < n; ++k) syms[k] = {ids[k], int32_t(k) - 1, k + 1 < n ? int32_t(k + 1) : -1, true};

    struct Cand { int32_t rank, pos, newId; };
    auto worse = [](const Cand& a, const Cand& b) { return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos; };
    std::vector<Cand> storage;
    storage.reserve(n);
    std::priority_queue<Cand, std::vector<Cand>, decltype(worse)> heap(worse, std::move(storage));
    auto lookup = [&](int32_t l, int32_t r) -> const std::pair<int32_t, int32_t>* {
        auto it = merges_.find((uint64_t(uint32_t(l)) << 32) | uint32_t(r));
        return it == merges_.end() ? nullptr : &it->second;
    };
    for (size_t k = 0; k + 1 < n; ++k)
        if (auto m = lookup(syms[k].id, syms[k + 1].id)) heap.push({m->first, int32_t(k), m->second});
    while (!heap.empty()) {
        Cand c = heap.top();
        heap.pop();
        Sym& L = syms[size_t(c.pos)];
        if (!L.alive || L.next < 0) continue;
        Sym& R = syms[size_t(L.next)];
        auto m = lookup(L.id, R.id);
        if (!m || m->second != c.newId) continue;
        L.id = c.newId;
        R.alive = false;
        L.next = R.next;
        if (R.next >= 0) syms[size_t(R.next)].prev = c.pos;
        if (L.prev >= 0)
            if (auto p = lookup(syms[size_t(L.prev)].id, L.id)) heap.push({p->first, L.prev, p->second});
        if (L.next >= 0)
            if (auto q = lookup(L.id, syms[size_t(L.next)].id)) heap.push({q->first, c.pos, q->second});
    }
    for (const Sym& x : syms)
        if (x.alive) out.push_back(x.id);
}

} // namespace qb::tok
