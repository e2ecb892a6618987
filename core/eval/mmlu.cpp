#include "core/eval/mmlu.h"

#include "core/data/sha256.h"
#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace qb {

int parseAnswerLetter(const std::string& text)
{
    auto isAlpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c < 'A' || c > 'D')
            continue;
        bool prevOk = i == 0 || !isAlpha(text[i - 1]);
        bool nextOk = i + 1 == text.size() || !isAlpha(text[i + 1]);
        if (prevOk && nextOk)
            return c - 'A';
    }
    return -1;
}

nlohmann::json MmluResult::toJson() const
{
    nlohmann::json subj = nlohmann::json::object();
    for (const auto& [k, v] : subjects)
        subj[k] = {{"n", v.n}, {"correct", v.correct}, {"accuracy", v.n ? double(v.correct) / double(v.n) : 0.0}};
    nlohmann::json j = {{"per_subject", subj},
                        {"shots_requested", shots_requested},
                        {"shots_mean", shots_mean},
                        {"shots_min", shots_min},
                        {"truncated_prompts", truncated}};
    if (!letter_ids.empty())
        j["letter_token_ids"] = letter_ids;
    return j;
}

namespace {

struct Prepared {
    size_t q;                   // index into ds.test
    std::vector<int64_t> ids;   // prompt tokens
    int shots = 0;
    bool truncated = false;
};

} // namespace

MmluResult evalMmlu(LanguageModel& lm, const MmluDataset& ds, const std::vector<size_t>& questions,
                    const MmluTaskSettings& s, bool generate, const EvalHooks& hooks)
{
    auto t0 = std::chrono::steady_clock::now();
    MmluResult r;
    r.generate = generate;
    r.shots_requested = s.shots;
    int64_t ctx = lm.contextLength();
    int64_t limit = ctx - (generate ? s.gen_tokens : 0);
    if (limit < 1)
        fail("mmlu", "context length " + std::to_string(ctx) + " leaves no room for a prompt");
    static const std::vector<MmluQuestion> noDev;

    if (!generate)
        for (const char* l : {" A", " B", " C", " D"}) {
            auto ids = lm.encode(l, false);
            if (ids.empty())
                fail("mmlu", std::string("tokenizer encodes '") + l + "' to nothing");
            r.letter_ids.push_back(ids.back());
        }

    // Build every prompt first (tokenizing is cheap next to the forward passes).
    std::vector<Prepared> prep;
    prep.reserve(questions.size());
    int64_t shotSum = 0;
    r.shots_min = s.shots;
    for (size_t qi : questions) {
        if (qi >= ds.test.size())
            fail("mmlu", "question index out of range");
        hooks.check();
        const MmluQuestion& q = ds.test[qi];
        auto dv = ds.dev.find(q.subject);
        const auto& dev = dv == ds.dev.end() ? noDev : dv->second;
        int k = std::min<int>(s.shots, int(dev.size()));
        Prepared p{qi, {}, k, false};
        for (;;) {
            p.ids = lm.encode(mmluPrompt(q, dev, k), true);
            if (int64_t(p.ids.size()) <= limit || k == 0)
                break;
            --k;
        }
        p.shots = k;
        if (int64_t(p.ids.size()) > limit) {
            p.ids.erase(p.ids.begin(), p.ids.end() - limit);
            p.truncated = true;
            ++r.truncated;
        }
        shotSum += k;
        r.shots_min = std::min(r.shots_min, k);
        prep.push_back(std::move(p));
    }
    r.shots_mean = prep.empty() ? 0.0 : double(shotSum) / double(prep.size());

    // Batch similar lengths together (less padding); results are stored back in question order.
    std::vector<size_t> order(prep.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return prep[a].ids.size() < prep[b].ids.size(); });
    std::vector<int> pred(prep.size(), -1);
    int64_t batch = std::max<int64_t>(1, s.batch);
    int64_t done = 0;
    for (size_t start = 0; start < order.size(); start += size_t(batch)) {
        hooks.check();
        size_t end = std::min(order.size(), start + size_t(batch));
        std::vector<std::vector<int64_t>> prompts;
        for (size_t i = start; i < end; ++i)
            prompts.push_back(prep[order[i]].ids);
        if (!generate) {
            at::Tensor logits = lm.nextTokenLogits(prompts).to(torch::kCPU, torch::kFloat); // (B, V)
            at::Tensor idx = torch::tensor(r.letter_ids, torch::kLong);
            at::Tensor four = logits.index_select(1, idx); // (B, 4)
            at::Tensor best = four.argmax(1);
            for (size_t i = start; i < end; ++i)
                pred[order[i]] = int(best[int64_t(i - start)].item<int64_t>());
        } else {
            auto outs = lm.generate(prompts, s.gen_tokens);
            for (size_t i = start; i < end; ++i)
                pred[order[i]] = parseAnswerLetter(lm.decode(outs[i - start]));
        }
        done += int64_t(end - start);
        if (hooks.progress)
            hooks.progress(done, int64_t(order.size()));
    }

    std::string idsJoined;
    for (size_t i = 0; i < prep.size(); ++i) {
        const MmluQuestion& q = ds.test[prep[i].q];
        bool ok = pred[i] == q.answer;
        r.correctness += ok ? '1' : '0';
        r.predictions += pred[i] < 0 ? '?' : char('A' + pred[i]);
        if (pred[i] < 0)
            ++r.unparseable;
        r.correct += ok;
        auto& sub = r.subjects[q.subject];
        ++sub.n;
        sub.correct += ok;
        r.ids.push_back(q.id);
        idsJoined += q.id + "\n";
    }
    r.n = int64_t(prep.size());
    r.accuracy = r.n ? double(r.correct) / double(r.n) : 0.0;
    r.stderr_ = r.n ? std::sqrt(r.accuracy * (1 - r.accuracy) / double(r.n)) : 0.0;
    r.question_set = sha256Hex(idsJoined);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

} // namespace qb
