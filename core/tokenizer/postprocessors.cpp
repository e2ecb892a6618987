// Post-processors: TemplateProcessing, Roberta/Bert, ByteLevel (ids unchanged), Sequence.
#include "core/tokenizer/components.h"
#include "core/util/error.h"
#include "core/util/json_number.h"

#include <nlohmann/json.hpp>

namespace qb::tok {
namespace {

using nlohmann::json;

int32_t tokenId(const json& v, const std::string& where)
{
    int32_t id = 0;
    if (!jsonNumber(v, id) || id < 0)
        throw Error(where + ": post-processor token id is not a non-negative 32-bit integer: " + v.dump());
    return id;
}

struct Template : PostProcessor {
    std::vector<int32_t> before, after; // special ids around the single sequence "A"
    Template(const json& j, const std::string& where)
    {
        const json& specials = j.value("special_tokens", json::object());
        bool seenA = false;
        for (const json& item : j.value("single", json::array())) {
            if (item.contains("Sequence")) { seenA = true; continue; }
            if (!item.contains("SpecialToken"))
                throw Error(where + ": TemplateProcessing item must be Sequence or SpecialToken: " + item.dump());
            std::string name = item["SpecialToken"].value("id", std::string());
            if (!specials.contains(name) || !specials[name].contains("ids"))
                throw Error(where + ": TemplateProcessing special token '" + name + "' is not in special_tokens");
            for (const json& id : specials[name]["ids"]) (seenA ? after : before).push_back(tokenId(id, where));
        }
    }
    void process(std::vector<int32_t>& ids) const override
    {
        ids.insert(ids.begin(), before.begin(), before.end());
        ids.insert(ids.end(), after.begin(), after.end());
    }
    std::vector<int32_t> prefixIds() const override { return before; }
    std::vector<int32_t> suffixIds() const override { return after; }
};

// RobertaProcessing / BertProcessing: cls A sep, with "cls": ["<s>", 0], "sep": ["</s>", 2].
struct ClsSep : PostProcessor {
    int32_t cls, sep;
    ClsSep(const json& j, const std::string& where)
    {
        if (!j.contains("cls") || !j.contains("sep")) throw Error(where + ": " + j.value("type", std::string()) + " needs cls and sep");
        cls = tokenId(j["cls"].at(1), where);
        sep = tokenId(j["sep"].at(1), where);
    }
    void process(std::vector<int32_t>& ids) const override
    {
        ids.insert(ids.begin(), cls);
        ids.push_back(sep);
    }
    std::vector<int32_t> prefixIds() const override { return {cls}; }
    std::vector<int32_t> suffixIds() const override { return {sep}; }
};

struct NoOp : PostProcessor {
    void process(std::vector<int32_t>&) const override {}
};

struct Sequence : PostProcessor {
    std::vector<std::unique_ptr<PostProcessor>> items;
    void process(std::vector<int32_t>& ids) const override
    {
        for (auto& p : items) p->process(ids);
    }
    std::vector<int32_t> prefixIds() const override
    {
        std::vector<int32_t> r;
        for (auto& p : items) { auto x = p->prefixIds(); r.insert(r.begin(), x.begin(), x.end()); }
        return r;
    }
    std::vector<int32_t> suffixIds() const override
    {
        std::vector<int32_t> r;
        for (auto& p : items) { auto x = p->suffixIds(); r.insert(r.end(), x.begin(), x.end()); }
        return r;
    }
};

} // namespace

std::unique_ptr<PostProcessor> makePostProcessor(const json& j, const std::string& where)
{
    if (j.is_null()) return nullptr;
    std::string t = typeOf(j, where, "post_processor");
    if (t == "TemplateProcessing") return std::make_unique<Template>(j, where);
    if (t == "RobertaProcessing" || t == "BertProcessing") return std::make_unique<ClsSep>(j, where);
    if (t == "ByteLevel") return std::make_unique<NoOp>(); // only trims offsets, which we do not report
    if (t == "Sequence") {
        auto seq = std::make_unique<Sequence>();
        for (const auto& p : j.value("processors", json::array()))
            if (auto x = makePostProcessor(p, where)) seq->items.push_back(std::move(x));
        return seq;
    }
    throw Error(where + ": unknown post_processor type '" + t + "'");
}

} // namespace qb::tok
