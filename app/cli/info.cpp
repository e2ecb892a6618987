// `quantbench-cli info`: versions and devices (model summary added by the model loader).
#include "app/cli/command.h"
#include "core/util/build_info.h"

#include <nlohmann/json.hpp>
#include <iostream>

namespace {

int runInfo(const std::vector<std::string>& argv)
{
    qb::cli::Args args("info", "[--model DIR] [--json]");
    args.option("model", "model folder to describe").flag("json", "machine-readable output");
    return qb::cli::runParsed(args, argv, [&] {
        auto b = qb::buildInfo();
        nlohmann::json j = {{"app_version", b.app_version}, {"git_commit", b.git_commit},
                            {"torch_version", b.torch_version}, {"torch_cuda", b.torch_cuda},
                            {"cuda_available", b.cuda_available}, {"cuda_device", b.cuda_device},
                            {"cpu", b.cpu}};
        if (args.has("json")) {
            std::cout << j.dump(2) << '\n';
        } else {
            std::cout << "QuantBench " << b.app_version << " (" << b.git_commit << ")\n"
                      << "libtorch   " << b.torch_version << (b.torch_cuda ? " (CUDA)" : " (CPU)") << '\n'
                      << "CPU        " << b.cpu << '\n'
                      << "CUDA       " << (b.cuda_available ? b.cuda_device : std::string("not available")) << '\n';
        }
        return 0;
    });
}

QB_CLI_COMMAND("info", "versions, devices and a model's configuration", runInfo);

} // namespace
