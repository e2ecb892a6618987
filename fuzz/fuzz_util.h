#pragma once
// Shared by the fuzz targets: parsers that take a path get the input through one temporary file
// per process (rewritten for every input), named so the parser's file-name rules apply.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace qbfuzz {

// A per-process scratch folder under $TMPDIR (or /tmp), created once.
inline const std::filesystem::path& scratchDir() {
    static const std::filesystem::path dir = [] {
        const char* t = std::getenv("TMPDIR");
        std::filesystem::path d = std::filesystem::path(t && *t ? t : "/tmp") /
                                  ("qb_fuzz_" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

// Writes data to scratchDir()/name (replacing it) and returns the path.
inline std::filesystem::path writeInput(const std::string& name, const uint8_t* data, size_t size) {
    std::filesystem::path p = scratchDir() / name;
    std::filesystem::create_directories(p.parent_path());
    FILE* f = std::fopen(p.c_str(), "wb");
    if (!f)
        std::abort();
    if (size && std::fwrite(data, 1, size, f) != size)
        std::abort();
    std::fclose(f);
    return p;
}

} // namespace qbfuzz
