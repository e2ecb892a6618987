#pragma once
// Versions of everything that can change a number: recorded in results and shown in About.
#include <string>

namespace qb {

struct BuildInfo {
    std::string app_version;
    std::string git_commit;
    std::string torch_version;
    bool torch_cuda = false;   // libtorch was built with CUDA
    bool cuda_available = false; // and a device is usable now
    std::string cuda_device;   // name of device 0, empty without CUDA
    std::string cpu;           // CPU model name
};

BuildInfo buildInfo();

} // namespace qb
