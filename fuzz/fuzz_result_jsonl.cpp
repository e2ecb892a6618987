// Result records: a results.jsonl file through loadResultsJsonl (streamed lines, torn lines,
// never throws), and each line on its own through ResultRecord::fromJson and back to JSON.
#include "core/results/record.h"
#include "core/results/store.h"
#include "core/util/error.h"
#include "fuzz_util.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto p = qbfuzz::writeInput("results.jsonl", data, size);
    qb::LoadedResults loaded = qb::loadResultsJsonl(p);
    for (const auto& r : loaded.records)
        (void)r.toJson().dump();
    const std::string text(reinterpret_cast<const char*>(data), size);
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        nlohmann::json j = nlohmann::json::parse(text.begin() + start, text.begin() + end, nullptr, false);
        start = end + 1;
        if (j.is_discarded())
            continue;
        try {
            qb::ResultRecord r = qb::ResultRecord::fromJson(j, "fuzz");
            (void)r.toJson().dump();
        } catch (const qb::Error&) {
        }
    }
    return 0;
}
