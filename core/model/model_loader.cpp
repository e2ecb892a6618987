// LlamaModel::load: a Hugging Face folder (config.json + safetensors) -> engine.
#include "core/model/llama.h"

#include "core/model/safetensors.h"
#include "core/util/error.h"
#include "core/util/memory.h"
#include "core/util/torch_compat.h"

namespace qb {

std::shared_ptr<LlamaModel> LlamaModel::load(const std::filesystem::path& dir, at::ScalarType dtype,
                                             torch::Device device)
{
    if (!std::filesystem::is_directory(dir))
        throw Error(dir.string() + ": not a model folder");
    ModelConfig cfg = loadConfig(dir / "config.json"); // every dimension bounded
    // The checkpoint is only mapped (nothing allocated): its tensors are checked against the config
    // first, so a config claiming more than the files hold is named as such, not as a memory need.
    Checkpoint ckpt(dir);
    validateCheckpoint(cfg, ckpt, dir.string()); // names the file and tensor on any mismatch
    // Refused before anything is allocated, with the numbers (an OOM kill halfway says nothing).
    const ModelMemory mem = estimateModelMemory(cfg, dtype);
    const std::string what = "loading " + dir.string() + " in " + std::string(c10::toString(dtype));
    if (device.is_cpu())
        requireMemory(uint64_t(mem.weights), what, "weights " + formatBytes(uint64_t(mem.weights)));
    else if (device.is_cuda())
        compat::requireDeviceMemory(device.index() < 0 ? 0 : device.index(), uint64_t(mem.weights), what);
    // A tied model saved with only "lm_head.weight" reads its embedding from there.
    const std::string embed = embeddingTensorName(cfg, ckpt);
    auto stored = [&](const std::string& name) -> const std::string& {
        return name == "model.embed_tokens.weight" ? embed : name;
    };
    auto src = [&](const std::string& name) -> at::Tensor {
        return ckpt.has(stored(name)) ? ckpt.view(stored(name)) : at::Tensor();
    };
    // Values are read from the files into the weights: resident memory is the weights alone (a copy
    // from the mapping also faulted every source page in, 2x the weights at the end of a load).
    auto fill = [&](const std::string& name, at::Tensor& dst) { ckpt.readInto(stored(name), dst); };
    try {
        return std::make_shared<LlamaModel>(std::move(cfg), src, dtype, device, fill);
    } catch (const Error& e) {
        throw Error(dir.string() + ": " + e.what());
    }
}

} // namespace qb
