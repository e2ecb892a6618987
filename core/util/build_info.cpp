#include "core/util/build_info.h"
#include "core/util/torch_compat.h"
#include "core/util/build_info_gen.h" // IWYU pragma: keep
#include "core/util/git_commit_gen.h"  // IWYU pragma: keep

#include <fstream>

namespace qb {

static std::string cpuModelName()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            auto pos = line.find(':');
            if (pos != std::string::npos)
                return line.substr(line.find_first_not_of(' ', pos + 1));
        }
    }
    return "unknown CPU";
}

BuildInfo buildInfo()
{
    BuildInfo b;
    b.app_version = QB_VERSION_STRING;
    b.git_commit = QB_GIT_COMMIT;
    b.torch_version = compat::torchVersion();
    b.torch_cuda = compat::torchBuiltWithCuda();
    b.cuda_available = compat::cudaAvailable();
    if (b.cuda_available)
        b.cuda_device = compat::cudaDeviceName(0);
    b.cpu = cpuModelName();
    return b;
}

} // namespace qb
