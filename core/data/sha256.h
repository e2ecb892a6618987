#pragma once
// SHA-256 (FIPS 180-4) for dataset identity: results record the sha256 and size of every file
// they were computed from, so two numbers are only compared when their inputs are the same bytes.
#include <cstdint>
#include <filesystem>
#include <string>

namespace qb {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t n);
    std::string hexDigest(); // finalizes; the object is spent afterwards

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t bufLen_ = 0;
    uint64_t total_ = 0;
};

std::string sha256Hex(const std::string& bytes);
// Streams the file; throws qb::Error naming it when it cannot be read.
std::string sha256File(const std::filesystem::path& p);

} // namespace qb
