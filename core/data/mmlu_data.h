#pragma once
// MMLU questions from the layouts people actually have on disk:
//   - the original Hendrycks archive: a folder with dev/ and test/ holding <subject>_dev.csv and
//     <subject>_test.csv (rows: question, A, B, C, D, answer letter, no header);
//   - a folder of <subject>_dev.csv / <subject>_test.csv files side by side;
//   - JSON lines (a .jsonl file, or a folder with dev.jsonl / test.jsonl): one object per line
//     with "question", "choices" (4 strings), "answer" (0-3 or "A"-"D"), "subject", and
//     optionally "split" ("dev" or "test"; default test).
// Bad rows (wrong field count, answer not A-D) are skipped and listed in `warnings`, each naming
// file and line; with `strict` they throw instead. Files that are not CSV at all always throw.
#include "core/util/error.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace qb {

struct MmluQuestion {
    std::string subject;   // "high_school_physics" (underscores, as in the file names)
    std::string question;
    std::string choices[4];
    int answer = 0;        // 0..3 = A..D
    std::string id;        // "subject/test/12" (split and 0-based row), stable across runs
};

struct MmluDataset {
    std::filesystem::path path;
    std::map<std::string, std::vector<MmluQuestion>> dev; // per subject, file order
    std::vector<MmluQuestion> test;                       // subjects sorted, file order within
    std::vector<std::string> warnings;
    std::string sha256;  // over the bytes of every file read, in path order
    uint64_t bytes = 0;
    std::vector<std::string> subjects() const; // sorted, from test
};

struct MmluLoadOptions {
    bool strict = false;
    std::vector<std::string> subjects; // empty = all
};

MmluDataset loadMmlu(const std::filesystem::path& path, const MmluLoadOptions& opts = {});

// "high_school_physics" -> "high school physics"
std::string mmluSubjectText(const std::string& subject);

// The Hendrycks / lm-eval prompt, byte for byte:
//   "The following are multiple choice questions (with answers) about {subject}.\n\n"
//   then per shot "{question}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nAnswer: {X}\n\n"
//   then "{question}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nAnswer:"
// using the first `shots` of `dev` (fewer when dev is shorter).
std::string mmluPrompt(const MmluQuestion& q, const std::vector<MmluQuestion>& dev, int shots);

// Deterministic spreading of a question limit over subjects: every subject gets
// floor(max / subjects), the remainder goes to subjects picked by a seeded shuffle; a subject
// with fewer questions gives its unused share to the others; inside a subject, the questions
// are a seeded sample kept in file order. Returns indices into `test`, in `test` order.
// max <= 0 or >= test.size() returns every index. Same (test, max, seed) -> same result on
// every platform (own PRNG, no std distributions).
std::vector<size_t> spreadLimit(const std::vector<MmluQuestion>& test, int64_t max, uint64_t seed);

} // namespace qb
