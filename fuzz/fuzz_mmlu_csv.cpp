// MMLU files: parseCsv on the bytes, then loadMmlu on them as a <subject>_test.csv beside a
// one-question dev file (the Hendrycks folder layout) and as a .jsonl file, in lenient and
// strict mode, and the prompt of every question accepted.
#include "core/data/csv.h"
#include "core/data/mmlu_data.h"
#include "core/util/error.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        (void)qb::parseCsv(text, "fuzz.csv");
    } catch (const qb::Error&) {
    }
    static const std::string dev = "What is 1+1?,1,2,3,4,B\n";
    qbfuzz::writeInput("mmlu/dev/fuzz_dev.csv", reinterpret_cast<const uint8_t*>(dev.data()), dev.size());
    qbfuzz::writeInput("mmlu/test/fuzz_test.csv", data, size);
    const auto jsonl = qbfuzz::writeInput("mmlu.jsonl", data, size);
    for (const auto& path : {qbfuzz::scratchDir() / "mmlu", jsonl})
        for (bool strict : {false, true}) {
            try {
                qb::MmluLoadOptions o;
                o.strict = strict;
                qb::MmluDataset d = qb::loadMmlu(path, o);
                for (const auto& q : d.test)
                    (void)qb::mmluPrompt(q, d.dev[q.subject], 5);
            } catch (const qb::Error&) {
            }
        }
    return 0;
}
