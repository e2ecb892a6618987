#pragma once
// Shared helpers for the QtTest executables.
// Real data (tokenizers, goldens, MMLU, ...) lives outside the repository, in the folder named
// by the CMake cache variable QB_SHARED_DATA; a fresh clone has none, so tests QSKIP then.
#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace qbtest {

// Sanitizer builds (the asan preset: Debug + ASan + UBSan) run several times slower and reserve
// terabytes of address space: bounds that only catch blocking scale by kSlowdown there, and
// `ulimit -v` cannot bound them (see tst_hostile's startBounded).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
inline constexpr double kSlowdown = 5.0;
#else
inline constexpr bool kAsan = false;
inline constexpr double kSlowdown = 1.0;
#endif

inline std::filesystem::path sharedData() { return std::filesystem::path(QB_SHARED_DATA_DIR); }
inline std::filesystem::path sourceDir() { return std::filesystem::path(QB_SOURCE_DIR); }
inline std::filesystem::path demoModelDir() { return sourceDir() / "resources/demo/stories260k"; }
inline std::string cliPath() { return QB_CLI_PATH; }

inline std::string readFile(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void writeFile(const std::filesystem::path& p, const std::string& bytes)
{
    std::ofstream out(p, std::ios::binary);
    out << bytes;
}

} // namespace qbtest

// Skips the current test unless `rel` exists under the shared data folder.
#define QB_REQUIRE_SHARED(rel)                                                                         \
    do {                                                                                               \
        if (!std::filesystem::exists(qbtest::sharedData() / (rel)))                                    \
            QSKIP(qPrintable(QStringLiteral("shared data not found: %1 (set -DQB_SHARED_DATA=...)")     \
                                 .arg(QString::fromStdString((qbtest::sharedData() / (rel)).string())))); \
    } while (0)
