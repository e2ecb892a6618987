#include "core/results/nll_sidecar.h"

#include "core/data/sha256.h"
#include "core/util/atomic_write.h"
#include "core/util/error.h"
#include "core/util/read_file.h"

#include <cctype>
#include <cstring>

namespace fs = std::filesystem;

namespace qb {

void writeNllSidecar(const fs::path& dir, ResultRecord& rec)
{
    if (rec.nll.empty())
        return;
    std::string bytes(rec.nll.size() * sizeof(float), '\0');
    std::memcpy(bytes.data(), rec.nll.data(), bytes.size());
    const std::string sha = sha256Hex(bytes);
    // The config name is only a readable prefix (the hash names the file): characters a file system may
    // refuse (a mixed-precision "+keep:L0.q,L3.down" list) become '_' and a long list is cut.
    std::string stem = rec.config.substr(0, 96);
    for (char& c : stem)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
            c = '_';
    const std::string name = stem + ".nll." + sha.substr(0, 12) + ".f32";
    writeFileAtomic(dir / name, bytes, "per-token NLL sidecar");
    rec.details["nll_sidecar"] = {{"file", name}, {"sha256", sha}, {"count", rec.nll.size()}, {"dtype", "float32-le"}};
}

std::vector<float> loadNllSidecar(const ResultRecord& rec, std::string* why)
{
    auto no = [&](const std::string& w) {
        if (why)
            *why = w;
        return std::vector<float>{};
    };
    if (!rec.nll.empty())
        return rec.nll; // made in this process
    if (!rec.details.is_object() || !rec.details.contains("nll_sidecar"))
        return no("no per-token NLL stored (older record)");
    const auto& s = rec.details["nll_sidecar"];
    if (!s.is_object() || !s.value("file", nlohmann::json()).is_string() || !s.value("sha256", nlohmann::json()).is_string())
        return no("details.nll_sidecar is malformed");
    const fs::path file = fs::path(rec.source).parent_path() / s["file"].get<std::string>();
    std::string bytes;
    try {
        bytes = readFileBounded(file, uint64_t(1) << 32, "per-token NLL sidecar");
    } catch (const std::exception& e) {
        return no(std::string("per-token NLL sidecar unreadable: ") + e.what());
    }
    if (sha256Hex(bytes) != s["sha256"].get<std::string>())
        return no("per-token NLL sidecar " + file.string() + " does not match its sha256");
    if (bytes.size() % sizeof(float) != 0 || bytes.size() / sizeof(float) != s.value("count", uint64_t(0)))
        return no("per-token NLL sidecar " + file.string() + " has the wrong size");
    std::vector<float> v(bytes.size() / sizeof(float));
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
}

} // namespace qb
