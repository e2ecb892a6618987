// Sweep files: SweepSpec::load (bounded read, schemes list or matrix, tasks, datasets), then
// the canonical JSON and protocol hash of an accepted sweep.
#include "core/run/sweep.h"
#include "core/util/error.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto p = qbfuzz::writeInput("sweep.json", data, size);
    try {
        qb::SweepSpec s = qb::SweepSpec::load(p);
        (void)s.configs();
        (void)s.protocolHash();
    } catch (const qb::Error&) {
    }
    return 0;
}
