#pragma once
// safetensors reading (memory-mapped, single file or sharded) and writing.
// Everything in a file is validated before it is trusted: header length vs file size, JSON
// shape, dtype names, offsets inside the data area and non-overlapping, shape x dtype size ==
// byte length. Failures throw qb::Error naming the file and the tensor.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qb {

enum class StDType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 };

const char* stDTypeName(StDType t);
bool stDTypeFromName(const std::string& name, StDType& out); // false for unknown names
bool stDTypeFromScalarType(at::ScalarType s, StDType& out); // false when safetensors has none
bool stDTypeIsFloat(StDType t); // F64 F32 F16 BF16 (not FP8: those need scales)
size_t stDTypeSize(StDType t);
at::ScalarType toScalarType(StDType t); // throws for dtypes this libtorch lacks (FP8 on 1.13)

struct StTensorInfo {
    std::string name;
    StDType dtype;
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0; // byte offsets relative to the data area
};

class MappedFile; // RAII mmap of a whole file

// One memory-mapped .safetensors file.
class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::filesystem::path& path); // maps and validates
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::filesystem::path& path() const { return path_; }
    const std::vector<StTensorInfo>& tensors() const { return tensors_; }
    const StTensorInfo* find(const std::string& name) const;
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const uint8_t* data(const StTensorInfo& t) const;
    // A CPU tensor viewing the mapped bytes (no copy). It keeps the mapping alive, so it stays
    // valid after this object is gone. The mapping is copy-on-write (writes never reach the
    // file), except under strict overcommit where it is read-only: do not modify views in
    // place — use .clone() or .to() to own a tensor.
    at::Tensor view(const std::string& name) const;
    // Copies the named tensor into `dst` (its shape; any floating dtype, any device) by reading the
    // file (pread) in pieces of at most 16 MiB converted one by one: only `dst` and one piece are
    // ever resident, where a copy from the mapping would also fault the whole source in.
    void readInto(const std::string& name, at::Tensor& dst) const;

private:
    std::filesystem::path path_;
    std::unique_ptr<MappedFile> map_;
    const uint8_t* data_ = nullptr; // start of the data area
    uint64_t dataSize_ = 0;
    std::vector<StTensorInfo> tensors_;
    std::map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
};

// All tensors of a model folder: model.safetensors or model.safetensors.index.json + shards.
class Checkpoint {
public:
    explicit Checkpoint(const std::filesystem::path& modelDir);
    bool has(const std::string& name) const;
    const StTensorInfo& info(const std::string& name) const; // throws naming file+tensor
    at::Tensor view(const std::string& name) const;          // zero-copy CPU view
    void readInto(const std::string& name, at::Tensor& dst) const; // see SafetensorsFile::readInto
    std::vector<std::string> names() const;
    std::filesystem::path fileOf(const std::string& name) const;
    uint64_t totalBytes() const;

private:
    std::vector<std::unique_ptr<SafetensorsFile>> files_;
    std::map<std::string, size_t> where_; // tensor -> file index
};

// Streaming writer: the header (all shapes and offsets known up front) is written first, then
// fill(i, write) must pass exactly the bytes of tensor i (little-endian, row-major) to write(),
// in as many pieces as it likes. Lets a 1 GB checkpoint be written without holding it in RAM.
struct StTensorSpec {
    std::string name;
    StDType dtype;
    std::vector<int64_t> shape;
};
using StWriteFn = std::function<void(const void* bytes, size_t n)>;
void writeSafetensorsStreamed(const std::filesystem::path& path, const std::vector<StTensorSpec>& specs,
                              const std::function<void(size_t index, const StWriteFn& write)>& fill,
                              const std::map<std::string, std::string>& metadata = {});

// Writes tensors (any device/dtype; converted to contiguous CPU) in the given order.
// Atomic: written to PATH.tmp then renamed.
void writeSafetensors(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

} // namespace qb
