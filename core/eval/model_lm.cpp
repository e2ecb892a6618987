#include "core/eval/model_lm.h"

#include "core/model/generate.h"
#include "core/model/llama.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/torch_compat.h"

namespace qb {

std::vector<int64_t> ModelLm::encode(const std::string& text, bool addSpecial) const
{
    auto ids = tok_.encode(text, addSpecial);
    return {ids.begin(), ids.end()};
}

std::string ModelLm::decode(const std::vector<int64_t>& ids) const
{
    std::vector<int32_t> v(ids.begin(), ids.end());
    return tok_.decode(v, true);
}

int64_t ModelLm::contextLength() const { return model_.config().max_position_embeddings; }

at::Tensor ModelLm::nextTokenLogits(const std::vector<std::vector<int64_t>>& prompts)
{
    compat::InferenceGuard g;
    at::Tensor ids, mask;
    leftPad(prompts, /*padToken=*/0, ids, mask); // (B, T) each
    bool padded = false;
    for (const auto& p : prompts)
        padded |= p.size() != prompts[0].size();
    at::Tensor logits = model_.forward(ids.to(model_.device()), nullptr,
                                       padded ? mask.to(model_.device()) : at::Tensor(), /*lastOnly=*/true); // (B, 1, V)
    return logits.select(1, 0);
}

std::vector<std::vector<int64_t>> ModelLm::generate(const std::vector<std::vector<int64_t>>& prompts, int64_t maxNew)
{
    compat::InferenceGuard g;
    GenerateOptions o;
    o.maxNewTokens = maxNew;
    o.keepStopToken = false;
    return generateGreedy(model_, prompts, o).tokens;
}

} // namespace qb
