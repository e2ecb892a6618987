// tokenizer.json: Tokenizer::fromFile (bounded read, every component), then encode and decode
// of a short string with and without special tokens.
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto p = qbfuzz::writeInput("tokenizer.json", data, size);
    try {
        qb::Tokenizer t = qb::Tokenizer::fromFile(p);
        for (bool special : {true, false}) {
            std::vector<int32_t> ids = t.encode("Hello world, it's 2024! \xC3\xA9t\xC3\xA9  x\n", special);
            (void)t.decode(ids);
        }
    } catch (const qb::Error&) {
    }
    return 0;
}
