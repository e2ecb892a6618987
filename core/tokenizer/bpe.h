#pragma once
// The BPE model of tokenizer.json: vocab + ranked merges, byte_fallback, unk/fuse_unk,
// continuing_subword_prefix / end_of_word_suffix, ignore_merges. Words are cached.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace qb::tok {

class Bpe {
public:
    Bpe(const nlohmann::json& model, const std::string& where);

    // Appends the ids of one pre-token. `rawBytes`: U+10FF80..U+10FFFF stand for invalid bytes.
    void encodeWord(const std::string& word, std::vector<int32_t>& out, bool rawBytes = false) const;

    int32_t tokenToId(const std::string& t) const;
    const std::string* idToToken(int32_t id) const;
    int32_t maxId() const { return int32_t(idToToken_.size()) - 1; }
    int32_t size() const { return int32_t(vocab_.size()); } // HF get_vocab_size()

private:
    void merge(const std::string& word, std::vector<int32_t>& out, bool rawBytes) const;
    void mergeRun(const int32_t* ids, size_t n, std::vector<int32_t>& out) const;

    std::unordered_map<std::string, int32_t> vocab_;
    std::vector<std::string> idToToken_;
    std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_; // (left<<32|right) -> (rank, new id)
    int32_t unkId_ = -1;
    bool fuseUnk_ = false, byteFallback_ = false, ignoreMerges_ = false;
    std::string prefix_, suffix_;
    int32_t byteIds_[256];
    // Ids that take part in no merge: a long word is merged in independent runs between them.
    std::vector<bool> inMerge_;

    mutable std::mutex cacheMutex_;
    mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

} // namespace qb::tok
