// quantbench-cli: dispatches to the subcommands registered in cli/*.cpp.
#include "app/cli/command.h"
#include "core/util/error.h"
#include "core/util/memory.h"
#include "core/util/threads.h"

#include <exception>
#include <iostream>
#include <new>

int main(int argc, char** argv)
{
    qb::ensureOmpWaitPolicy(argv); // may re-exec: before anything else (core/util/threads.h)
    qb::configureAllocator();
    auto& reg = qb::cli::registry();
    auto usage = [&](std::ostream& os) {
        os << "usage: quantbench-cli COMMAND [options]   (COMMAND --help for its options)\n\ncommands:\n";
        for (const auto& [name, cmd] : reg)
            os << "  " << name << std::string(name.size() < 16 ? 16 - name.size() : 1, ' ') << cmd.summary << '\n';
    };
    if (argc < 2) {
        usage(std::cerr);
        return 2;
    }
    std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(std::cout);
        return 0;
    }
    auto it = reg.find(name);
    if (it == reg.end()) {
        std::cerr << "quantbench-cli: unknown command '" << name << "'\n\n";
        usage(std::cerr);
        return 2;
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    // Commands catch their own errors (runParsed); this is the last line of defence, so nothing
    // escapes as std::terminate and a core dump.
    try {
        return it->second.run(args);
    } catch (const std::exception& e) {
        std::cerr << "quantbench-cli " << name << (qb::isOutOfMemory(e) ? ": error: " : ": unexpected error: ")
                  << qb::describeException(e) << '\n';
    }
    return 1;
}
