#pragma once
// MMLU evaluation, direct (next-token log-probs of " A".." D") and generate (greedy, first
// standalone letter). The model is reached through LanguageModel so the scoring logic is tested
// on a stub; core/eval/model_lm.h adapts LlamaModel + Tokenizer.
//
// Letter tokens: the id of " A" is the LAST token of encode(" A", no special tokens) — with
// SentencePiece-style tokenizers encode(" A") may start with a lone "▁" piece, and the last token
// is the one a model emits after "Answer:". The ids used are recorded in the result.
// Prompts that do not fit (context - gen_tokens for generate) lose shots from the end, one at a
// time; a 0-shot prompt that still does not fit keeps its last tokens (counted as truncated).
#include "core/data/mmlu_data.h"
#include "core/eval/tasks.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qb {

class LanguageModel {
public:
    virtual ~LanguageModel() = default;
    virtual std::vector<int64_t> encode(const std::string& text, bool addSpecial) const = 0;
    virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
    virtual int64_t contextLength() const = 0;
    // Next-token logits after each prompt: (B, V) float32 (any device). Prompts may differ in length.
    virtual at::Tensor nextTokenLogits(const std::vector<std::vector<int64_t>>& prompts) = 0;
    // Greedy continuation of each prompt, up to maxNew tokens (stops at EOS).
    virtual std::vector<std::vector<int64_t>> generate(const std::vector<std::vector<int64_t>>& prompts,
                                                       int64_t maxNew) = 0;
};

struct MmluResult {
    bool generate = false;
    int64_t n = 0, correct = 0, unparseable = 0;
    double accuracy = 0, stderr_ = 0;
    struct Subject { int64_t n = 0, correct = 0; };
    std::map<std::string, Subject> subjects;
    std::string correctness;  // '1'/'0' per question, in evaluated order
    std::string predictions;  // 'A'-'D' or '?'
    std::vector<std::string> ids;
    std::string question_set; // sha256 of ids joined by '\n'
    std::vector<int64_t> letter_ids; // direct only
    int shots_requested = 0;
    double shots_mean = 0;
    int shots_min = 0;
    int64_t truncated = 0;    // prompts that did not fit even with 0 shots
    double seconds = 0;
    nlohmann::json toJson() const; // details for the record (per subject, shots, letters)
};

// First standalone letter A-D in generated text: a letter not adjacent to another letter
// ("B", " B.", "(C)", "Answer: D" -> D... but "Because" -> none). Returns 0..3, or -1.
int parseAnswerLetter(const std::string& text);

// Evaluates `ds.test[i]` for every i in `questions` (in that order).
MmluResult evalMmlu(LanguageModel& lm, const MmluDataset& ds, const std::vector<size_t>& questions,
                    const MmluTaskSettings& s, bool generate, const EvalHooks& hooks = {});

} // namespace qb
