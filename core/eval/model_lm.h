#pragma once
// LanguageModel over a LlamaModel + Tokenizer: batches are left-padded (mask 0 on padding)
// and scored with lastOnly logits; generation is the engine's greedy decoder.
#include "core/eval/mmlu.h"

namespace qb {

class LlamaModel;
class Tokenizer;

class ModelLm : public LanguageModel {
public:
    ModelLm(const LlamaModel& model, const Tokenizer& tok) : model_(model), tok_(tok) {}
    std::vector<int64_t> encode(const std::string& text, bool addSpecial) const override;
    std::string decode(const std::vector<int64_t>& ids) const override;
    int64_t contextLength() const override;
    at::Tensor nextTokenLogits(const std::vector<std::vector<int64_t>>& prompts) override;
    std::vector<std::vector<int64_t>> generate(const std::vector<std::vector<int64_t>>& prompts, int64_t maxNew) override;

private:
    const LlamaModel& model_;
    const Tokenizer& tok_;
};

} // namespace qb
