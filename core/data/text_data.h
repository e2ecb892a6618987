#pragma once
// A text file used for PPL or calibration, with the identity results record (sha256, size).
#include <cstdint>
#include <filesystem>
#include <string>

namespace qb {

struct TextDataset {
    std::filesystem::path path;
    std::string text;   // the bytes as they are (WikiText-2 raw is used joined as it is)
    std::string sha256;
    uint64_t bytes = 0;
};

TextDataset loadText(const std::filesystem::path& p); // throws qb::Error naming the file

} // namespace qb
