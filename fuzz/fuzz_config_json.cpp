// config.json: loadConfig (bounded read, JSON parse, every dimension checked), then the
// expected-tensor list and parameter count that are sized from an accepted config.
#include "core/model/config.h"
#include "core/util/error.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto p = qbfuzz::writeInput("config.json", data, size);
    try {
        qb::ModelConfig c = qb::loadConfig(p);
        (void)c.parameterCount();
        (void)c.toJson().dump();
        if (c.num_hidden_layers <= 64)
            (void)qb::expectedTensors(c);
    } catch (const qb::Error&) {
    }
    return 0;
}
