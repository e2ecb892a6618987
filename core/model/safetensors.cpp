#include "core/model/safetensors.h"

#include "core/util/error.h"
#include "core/util/read_file.h"
#include "core/util/torch_compat.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors is little-endian; so is every host we build for");

namespace fs = std::filesystem;

namespace qb {

namespace {

// A lying header must never make us allocate or parse something huge.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

struct DTypeRow {
    StDType t;
    const char* name;
    size_t size;
};
constexpr DTypeRow kDTypes[] = {
    {StDType::F32, "F32", 4},  {StDType::F16, "F16", 2},         {StDType::BF16, "BF16", 2},
    {StDType::F64, "F64", 8},  {StDType::I64, "I64", 8},         {StDType::I32, "I32", 4},
    {StDType::I16, "I16", 2},  {StDType::I8, "I8", 1},           {StDType::U8, "U8", 1},
    {StDType::BOOL, "BOOL", 1}, {StDType::F8_E4M3, "F8_E4M3", 1}, {StDType::F8_E5M2, "F8_E5M2", 1},
};

std::string shapeStr(const std::vector<int64_t>& s)
{
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i)
        r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

std::string tensorWhere(const std::string& name) { return "tensor '" + name + "'"; }

} // namespace

// RAII mmap of a whole file. The mapping itself sits behind a shared_ptr so that tensors
// returned by view() keep it alive after the SafetensorsFile is gone.
class MappedFile {
public:
    struct Region {
        void* addr = nullptr;
        size_t size = 0;
        ~Region()
        {
            if (addr)
                ::munmap(addr, size);
        }
    };

    explicit MappedFile(const fs::path& path)
    {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            fail(path.string(), std::string("cannot open: ") + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            int e = errno;
            ::close(fd);
            fail(path.string(), std::string("cannot stat: ") + std::strerror(e));
        }
        if (!S_ISREG(st.st_mode)) {
            ::close(fd);
            fail(path.string(), "not a regular file");
        }
        region_ = std::make_shared<Region>();
        region_->size = static_cast<size_t>(st.st_size);
        if (region_->size > 0) {
            // MAP_PRIVATE + PROT_WRITE: copy-on-write, so an in-place op on a view can never
            // write into (or fault on) the file. Under strict overcommit (vm.overcommit_memory=2)
            // a writable private mapping is charged in full and may fail with ENOMEM: fall back
            // to a read-only mapping then (views must not be written in place; the engine copies).
            void* a = ::mmap(nullptr, region_->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
            if (a == MAP_FAILED && errno == ENOMEM)
                a = ::mmap(nullptr, region_->size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (a == MAP_FAILED) {
                int e = errno;
                ::close(fd);
                fail(path.string(), std::string("cannot mmap: ") + std::strerror(e));
            }
            region_->addr = a;
        }
        ::close(fd);
    }

    const uint8_t* bytes() const { return static_cast<const uint8_t*>(region_->addr); }
    size_t size() const { return region_->size; }
    std::shared_ptr<Region> region() const { return region_; }

private:
    std::shared_ptr<Region> region_;
};

const char* stDTypeName(StDType t)
{
    for (const auto& r : kDTypes)
        if (r.t == t)
            return r.name;
    return "?";
}

size_t stDTypeSize(StDType t)
{
    for (const auto& r : kDTypes)
        if (r.t == t)
            return r.size;
    return 0;
}

bool stDTypeFromName(const std::string& name, StDType& out)
{
    for (const auto& r : kDTypes)
        if (name == r.name) {
            out = r.t;
            return true;
        }
    return false;
}

bool stDTypeIsFloat(StDType t)
{
    return t == StDType::F32 || t == StDType::F16 || t == StDType::BF16 || t == StDType::F64;
}

at::ScalarType toScalarType(StDType t)
{
    switch (t) {
    case StDType::F32: return at::kFloat;
    case StDType::F16: return at::kHalf;
    case StDType::BF16: return at::kBFloat16;
    case StDType::F64: return at::kDouble;
    case StDType::I64: return at::kLong;
    case StDType::I32: return at::kInt;
    case StDType::I16: return at::kShort;
    case StDType::I8: return at::kChar;
    case StDType::U8: return at::kByte;
    case StDType::BOOL: return at::kBool;
    case StDType::F8_E4M3:
    case StDType::F8_E5M2: {
        auto s = t == StDType::F8_E4M3 ? compat::float8E4M3Type() : compat::float8E5M2Type();
        if (!s)
            throw Error(std::string("dtype ") + stDTypeName(t) + " needs libtorch >= 2.1 (this is " +
                        compat::torchVersion() + ")");
        return *s;
    }
    }
    throw Error("unknown safetensors dtype");
}

bool stDTypeFromScalarType(at::ScalarType s, StDType& out)
{
    for (const auto& r : kDTypes) {
        if (r.t == StDType::F8_E4M3 || r.t == StDType::F8_E5M2) {
            auto f8 = r.t == StDType::F8_E4M3 ? compat::float8E4M3Type() : compat::float8E5M2Type();
            if (f8 && *f8 == s) {
                out = r.t;
                return true;
            }
            continue;
        }
        if (toScalarType(r.t) == s) {
            out = r.t;
            return true;
        }
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// Reading

SafetensorsFile::SafetensorsFile(const fs::path& path) : path_(path)
{
    const std::string where = path.string();
    map_ = std::make_unique<MappedFile>(path);
    const uint64_t fileSize = map_->size();
    if (fileSize < 8)
        fail(where, "file too small (" + std::to_string(fileSize) +
                        " bytes; a safetensors file starts with an 8-byte header length)");
    uint64_t headerLen = 0;
    std::memcpy(&headerLen, map_->bytes(), 8); // little-endian host (static_assert above)
    if (headerLen > fileSize - 8)
        fail(where, "header length " + std::to_string(headerLen) + " runs past end of file (" +
                        std::to_string(fileSize) + " bytes)");
    if (headerLen > kMaxHeaderBytes)
        fail(where, "header length " + std::to_string(headerLen) + " exceeds the 100 MB limit");

    const char* h = reinterpret_cast<const char*>(map_->bytes() + 8);
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(h, h + headerLen);
    } catch (const nlohmann::json::exception& e) {
        fail(where, std::string("header is not valid JSON (or not valid UTF-8): ") + e.what());
    }
    if (!header.is_object())
        fail(where, std::string("header is not a JSON object (got ") + header.type_name() + ")");

    data_ = map_->bytes() + 8 + headerLen;
    dataSize_ = fileSize - 8 - headerLen;

    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        const auto& v = it.value();
        if (name == "__metadata__") {
            if (!v.is_object())
                fail(where, "__metadata__ is not an object");
            for (auto m = v.begin(); m != v.end(); ++m) {
                if (!m.value().is_string())
                    fail(where, "__metadata__ key '" + m.key() + "' is not a string");
                metadata_[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string tw = tensorWhere(name);
        if (!v.is_object())
            fail(where, tw + ": entry is not an object");
        StTensorInfo t;
        t.name = name;

        auto dt = v.find("dtype");
        if (dt == v.end())
            fail(where, tw + ": missing key 'dtype'");
        if (!dt->is_string())
            fail(where, tw + ": 'dtype' is not a string");
        if (!stDTypeFromName(dt->get<std::string>(), t.dtype))
            fail(where, tw + ": unknown dtype '" + dt->get<std::string>() + "'");

        auto sh = v.find("shape");
        if (sh == v.end())
            fail(where, tw + ": missing key 'shape'");
        if (!sh->is_array())
            fail(where, tw + ": 'shape' is not an array");
        uint64_t numel = 1;
        bool overflow = false;
        for (const auto& d : *sh) {
            if (!d.is_number_integer())
                fail(where, tw + ": shape entry " + d.dump() + " is not an integer");
            if (!d.is_number_unsigned())
                fail(where, tw + ": shape has a negative dimension " + d.dump());
            uint64_t u = d.get<uint64_t>();
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                fail(where, tw + ": shape dimension " + d.dump() + " is too large");
            t.shape.push_back(static_cast<int64_t>(u));
            if (__builtin_mul_overflow(numel, u, &numel))
                overflow = true;
        }
        uint64_t bytes = 0;
        if (overflow || numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
            __builtin_mul_overflow(numel, static_cast<uint64_t>(stDTypeSize(t.dtype)), &bytes))
            fail(where, tw + ": shape " + shapeStr(t.shape) + " element count overflows");

        auto off = v.find("data_offsets");
        if (off == v.end())
            fail(where, tw + ": missing key 'data_offsets'");
        if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
            !(*off)[1].is_number_unsigned())
            fail(where, tw + ": 'data_offsets' must be [begin, end] of non-negative integers, got " +
                            off->dump());
        t.begin = (*off)[0].get<uint64_t>();
        t.end = (*off)[1].get<uint64_t>();
        if (t.begin > t.end)
            fail(where, tw + ": data_offsets begin " + std::to_string(t.begin) + " > end " +
                            std::to_string(t.end));
        if (t.end > dataSize_)
            fail(where, tw + ": data_offsets end " + std::to_string(t.end) + " past end of data (" +
                            std::to_string(dataSize_) + " bytes)");
        if (t.end - t.begin != bytes)
            fail(where, tw + ": byte length " + std::to_string(t.end - t.begin) + " != numel " +
                            std::to_string(numel) + " x " + std::to_string(stDTypeSize(t.dtype)) +
                            " bytes (" + stDTypeName(t.dtype) + " " + shapeStr(t.shape) + ")");
        tensors_.push_back(std::move(t));
    }

    // Non-overlapping byte ranges (empty tensors overlap nothing).
    std::vector<const StTensorInfo*> byOffset;
    for (const auto& t : tensors_)
        if (t.end > t.begin)
            byOffset.push_back(&t);
    std::sort(byOffset.begin(), byOffset.end(),
              [](const StTensorInfo* a, const StTensorInfo* b) { return a->begin < b->begin; });
    for (size_t i = 1; i < byOffset.size(); ++i)
        if (byOffset[i]->begin < byOffset[i - 1]->end)
            fail(where, tensorWhere(byOffset[i]->name) + ": byte range [" + std::to_string(byOffset[i]->begin) +
                            ", " + std::to_string(byOffset[i]->end) + ") overlaps tensor '" +
                            byOffset[i - 1]->name + "' [" + std::to_string(byOffset[i - 1]->begin) + ", " +
                            std::to_string(byOffset[i - 1]->end) + ")");

    for (size_t i = 0; i < tensors_.size(); ++i)
        index_[tensors_[i].name] = i;
}

SafetensorsFile::~SafetensorsFile() = default;

const StTensorInfo* SafetensorsFile::find(const std::string& name) const
{
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t* SafetensorsFile::data(const StTensorInfo& t) const { return data_ + t.begin; }

void SafetensorsFile::readInto(const std::string& name, at::Tensor& dst) const
{
    const StTensorInfo* t = find(name);
    if (!t)
        fail(path_.string(), tensorWhere(name) + ": not in this file");
    at::ScalarType st;
    try {
        st = toScalarType(t->dtype);
    } catch (const Error& e) {
        fail(path_.string(), tensorWhere(name) + ": " + e.what());
    }
    if (dst.sizes() != at::IntArrayRef(t->shape) || !dst.is_contiguous())
        fail(path_.string(), tensorWhere(name) + ": readInto needs a contiguous destination of the tensor's shape");
    const uint64_t bytes = t->end - t->begin, es = stDTypeSize(t->dtype);
    if (bytes == 0)
        return;
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail(path_.string(), std::string("cannot open: ") + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    const uint64_t fileOffset = uint64_t(data_ - map_->bytes()) + t->begin;
    const bool direct = dst.device().is_cpu() && dst.scalar_type() == st;
    const uint64_t piece = std::max<uint64_t>(es, (uint64_t(16) << 20) / es * es);
    at::Tensor flat = dst.view({-1});
    at::Tensor staging;
    for (uint64_t done = 0; done < bytes;) {
        const uint64_t n = std::min(piece, bytes - done);
        uint8_t* target;
        if (direct) {
            target = static_cast<uint8_t*>(dst.data_ptr()) + done;
        } else {
            if (!staging.defined())
                staging = at::empty({int64_t(piece / es)}, at::TensorOptions().dtype(st));
            target = static_cast<uint8_t*>(staging.data_ptr());
        }
        for (uint64_t got = 0; got < n;) {
            const ssize_t r = ::pread(fd, target + got, n - got, off_t(fileOffset + done + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                fail(path_.string(), tensorWhere(name) + ": " +
                                         (r < 0 ? std::string("read failed: ") + std::strerror(errno)
                                                : std::string("file ends early (was it changed while loading?)")));
            got += uint64_t(r);
        }
        // Weights are checked as they arrive (one vectorised pass per piece, while it is hot in cache):
        // a NaN or Inf weight would otherwise surface as "ppl nan" with exit 0.
        at::Tensor piece = direct ? flat.narrow(0, int64_t(done / es), int64_t(n / es))
                                  : staging.narrow(0, 0, int64_t(n / es));
        if (at::isFloatingType(st) && !at::isfinite(piece).all().item<bool>()) {
            const int64_t first = at::logical_not(at::isfinite(piece)).nonzero()[0][0].item<int64_t>();
            const double v = piece[first].item<double>();
            fail(path_.string(), tensorWhere(name) + ": holds a non-finite weight (" + (std::isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf") +
                                     " at flat index " + std::to_string(int64_t(done / es) + first) + ")");
        }
        if (!direct)
            flat.narrow(0, int64_t(done / es), int64_t(n / es)).copy_(piece);
        done += n;
    }
}

at::Tensor SafetensorsFile::view(const std::string& name) const
{
    const StTensorInfo* t = find(name);
    if (!t)
        fail(path_.string(), tensorWhere(name) + ": not in this file");
    at::ScalarType st;
    try {
        st = toScalarType(t->dtype);
    } catch (const Error& e) {
        fail(path_.string(), tensorWhere(name) + ": " + e.what());
    }
    auto opts = at::TensorOptions().dtype(st).device(at::kCPU);
    if (t->end == t->begin)
        return at::empty(t->shape, opts);
    void* p = const_cast<uint8_t*>(data(*t));
    // Offsets in a valid file need not be aligned to the element size; a misaligned view would
    // be undefined behaviour for the kernels, so such a tensor is copied instead.
    if (reinterpret_cast<uintptr_t>(p) % stDTypeSize(t->dtype) != 0) {
        auto out = at::empty(t->shape, opts);
        std::memcpy(out.data_ptr(), p, t->end - t->begin);
        return out;
    }
    auto keep = map_->region();
    return torch::from_blob(p, t->shape, [keep](void*) mutable { keep.reset(); }, opts);
}

// ---------------------------------------------------------------------------------------------
// Checkpoint (single file or sharded)

Checkpoint::Checkpoint(const fs::path& modelDir)
{
    std::error_code ec;
    if (fs::is_regular_file(modelDir, ec) && modelDir.extension() == ".safetensors") {
        files_.push_back(std::make_unique<SafetensorsFile>(modelDir));
    } else if (fs::exists(modelDir / "model.safetensors.index.json", ec)) {
        const fs::path indexPath = modelDir / "model.safetensors.index.json";
        const std::string where = indexPath.string();
        nlohmann::json idx;
        try {
            idx = nlohmann::json::parse(readFileBounded(indexPath, kConfigJsonCap, "safetensors index"));
        } catch (const nlohmann::json::exception& e) {
            fail(where, std::string("not valid JSON: ") + e.what());
        }
        if (!idx.is_object() || !idx.contains("weight_map") || !idx["weight_map"].is_object())
            fail(where, "missing object 'weight_map'");
        std::map<std::string, size_t> shardIndex;
        for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
            if (!it.value().is_string())
                fail(where, "weight_map['" + it.key() + "'] is not a string");
            const std::string shard = it.value().get<std::string>();
            fs::path rel(shard);
            if (shard.empty() || rel.is_absolute() || shard.find("..") != std::string::npos)
                fail(where, "weight_map['" + it.key() + "']: shard name '" + shard + "' must be a plain file name");
            if (!shardIndex.count(shard)) {
                fs::path sp = modelDir / rel;
                if (!fs::exists(sp, ec))
                    fail(where, "weight_map['" + it.key() + "']: shard file '" + shard + "' does not exist");
                shardIndex[shard] = files_.size();
                files_.push_back(std::make_unique<SafetensorsFile>(sp));
            }
            size_t fi = shardIndex[shard];
            if (!files_[fi]->find(it.key()))
                fail(files_[fi]->path().string(), tensorWhere(it.key()) + ": listed in " + where +
                                                      " but not in this shard");
            where_[it.key()] = fi;
        }
        return;
    } else if (fs::exists(modelDir / "model.safetensors", ec)) {
        files_.push_back(std::make_unique<SafetensorsFile>(modelDir / "model.safetensors"));
    } else {
        fail(modelDir.string(), "no model.safetensors or model.safetensors.index.json");
    }
    for (const auto& t : files_[0]->tensors())
        where_[t.name] = 0;
}

bool Checkpoint::has(const std::string& name) const { return where_.count(name) > 0; }

const StTensorInfo& Checkpoint::info(const std::string& name) const
{
    auto it = where_.find(name);
    if (it == where_.end())
        fail(files_.empty() ? std::string() : files_[0]->path().parent_path().string(),
             tensorWhere(name) + ": not in the checkpoint");
    return *files_[it->second]->find(name);
}

void Checkpoint::readInto(const std::string& name, at::Tensor& dst) const
{
    info(name);
    files_[where_.at(name)]->readInto(name, dst);
}

at::Tensor Checkpoint::view(const std::string& name) const
{
    info(name); // throws naming the tensor when absent
    return files_[where_.at(name)]->view(name);
}

std::vector<std::string> Checkpoint::names() const
{
    std::vector<std::string> r;
    for (const auto& [n, _] : where_)
        r.push_back(n);
    return r;
}

fs::path Checkpoint::fileOf(const std::string& name) const
{
    auto it = where_.find(name);
    return it == where_.end() ? fs::path() : files_[it->second]->path();
}

uint64_t Checkpoint::totalBytes() const
{
    uint64_t n = 0;
    std::error_code ec;
    for (const auto& f : files_)
        n += fs::file_size(f->path(), ec);
    return n;
}

// ---------------------------------------------------------------------------------------------
// Writing

void writeSafetensorsStreamed(const fs::path& path, const std::vector<StTensorSpec>& specs,
                              const std::function<void(size_t, const StWriteFn&)>& fill,
                              const std::map<std::string, std::string>& metadata)
{
    const std::string where = path.string();
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    std::vector<uint64_t> sizes;
    uint64_t offset = 0;
    std::set<std::string> seen;
    for (const auto& s : specs) {
        if (s.name == "__metadata__" || !seen.insert(s.name).second)
            fail(where, tensorWhere(s.name) + ": duplicate or reserved tensor name");
        uint64_t n = stDTypeSize(s.dtype);
        for (int64_t d : s.shape) {
            if (d < 0)
                fail(where, tensorWhere(s.name) + ": negative dimension");
            n *= static_cast<uint64_t>(d);
        }
        header[s.name] = {{"dtype", stDTypeName(s.dtype)}, {"shape", s.shape}, {"data_offsets", {offset, offset + n}}};
        sizes.push_back(n);
        offset += n;
    }
    std::string h = header.dump();
    h.append((8 - h.size() % 8) % 8, ' '); // data area 8-byte aligned, as the reference writer does

    const fs::path tmp = path.string() + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f)
        fail(tmp.string(), std::string("cannot create: ") + std::strerror(errno));
    auto abort = [&](const std::string& what) {
        std::fclose(f);
        std::error_code ec;
        fs::remove(tmp, ec);
        fail(where, what);
    };
    uint64_t hl = h.size();
    bool ok = std::fwrite(&hl, 8, 1, f) == 1 && std::fwrite(h.data(), 1, h.size(), f) == h.size();
    if (!ok)
        abort(std::string("write failed: ") + std::strerror(errno));
    for (size_t i = 0; i < specs.size(); ++i) {
        uint64_t written = 0;
        bool werr = false;
        StWriteFn write = [&](const void* p, size_t n) {
            if (written + n > sizes[i] || (n && std::fwrite(p, 1, n, f) != n))
                werr = true;
            written += n;
        };
        try {
            fill(i, write);
        } catch (const std::exception& e) {
            abort(tensorWhere(specs[i].name) + ": " + e.what());
        }
        if (werr || written != sizes[i])
            abort(tensorWhere(specs[i].name) + ": wrote " + std::to_string(written) + " bytes, expected " +
                  std::to_string(sizes[i]) + (werr ? std::string(" (") + std::strerror(errno) + ")" : ""));
    }
    if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0)
        abort(std::string("write failed: ") + std::strerror(errno));
    std::fclose(f);
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        fail(where, "cannot rename temporary file: " + ec.message());
    }
}

void writeSafetensors(const fs::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata)
{
    std::vector<StTensorSpec> specs;
    for (const auto& [name, t] : tensors) {
        StTensorSpec s;
        s.name = name;
        if (!t.defined())
            fail(path.string(), tensorWhere(name) + ": undefined tensor");
        if (!stDTypeFromScalarType(t.scalar_type(), s.dtype))
            fail(path.string(), tensorWhere(name) + ": dtype " + std::string(c10::toString(t.scalar_type())) +
                                    " has no safetensors equivalent");
        s.shape = t.sizes().vec();
        specs.push_back(std::move(s));
    }
    // One tensor at a time is made contiguous on the CPU, so peak extra memory is one tensor.
    writeSafetensorsStreamed(path, specs, [&](size_t i, const StWriteFn& write) {
        at::Tensor c = tensors[i].second.to(at::kCPU).contiguous();
        write(c.data_ptr(), c.numel() * c.element_size());
    }, metadata);
}

} // namespace qb
