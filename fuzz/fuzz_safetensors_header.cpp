// The safetensors header (8-byte length, JSON header, data area): SafetensorsFile maps and
// validates a file; every tensor it accepts must lie inside the data area and be viewable.
#include "core/model/safetensors.h"
#include "core/util/error.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto p = qbfuzz::writeInput("model.safetensors", data, size);
    try {
        qb::SafetensorsFile f(p);
        for (const auto& t : f.tensors()) {
            at::Tensor v = f.view(t.name);
            if (v.numel() > 0 && v.numel() <= 4096 && v.scalar_type() == at::kFloat)
                (void)v.sum().item<float>(); // touches every byte of a small tensor
        }
    } catch (const qb::Error&) {
    } catch (const c10::Error&) { // FP8 dtypes this libtorch lacks (toScalarType)
    }
    return 0;
}
