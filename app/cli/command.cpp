#include "app/cli/command.h"

#include "core/util/build_info.h"
#include "core/util/error.h"
#include "core/util/threads.h"
#include "core/util/torch_compat.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <new>
#include <sstream>

namespace qb::cli {

Args::Args(std::string command, std::string usage)
    : command_(std::move(command)), usage_(std::move(usage))
{
    opts_.push_back({"help", false, "show this help", {}});
    opts_.push_back({"threads", true, "CPU threads for libtorch and the kernels (0: the CPUs this process may use)", "0"});
}

Args& Args::option(const std::string& name, const std::string& help, const std::string& def)
{
    opts_.push_back({name, true, help, def});
    return *this;
}

Args& Args::flag(const std::string& name, const std::string& help)
{
    opts_.push_back({name, false, help, {}});
    return *this;
}

const Args::Opt* Args::find(const std::string& name) const
{
    for (const auto& o : opts_)
        if (o.name == name)
            return &o;
    return nullptr;
}

bool Args::parse(const std::vector<std::string>& argv)
{
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--") {
            for (++i; i < argv.size(); ++i)
                positional_.push_back(argv[i]);
            break;
        }
        if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
            std::string name = a.substr(2), value;
            bool inlineValue = false;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
                inlineValue = true;
            }
            const Opt* o = find(name);
            if (!o) {
                error_ = "unknown option --" + name;
                return false;
            }
            if (name == "help") {
                help_ = true;
                continue;
            }
            if (o->takes_value) {
                if (!inlineValue) {
                    if (i + 1 >= argv.size()) {
                        error_ = "option --" + name + " needs a value";
                        return false;
                    }
                    value = argv[++i];
                }
                values_[name] = value;
            } else {
                if (inlineValue) {
                    error_ = "option --" + name + " takes no value";
                    return false;
                }
                values_[name] = "1";
            }
        } else if (a == "-h") {
            help_ = true;
        } else {
            positional_.push_back(a);
        }
    }
    return true;
}

bool Args::has(const std::string& name) const { return values_.count(name) > 0; }

std::string Args::get(const std::string& name) const
{
    if (auto it = values_.find(name); it != values_.end())
        return it->second;
    if (const Opt* o = find(name))
        return o->def;
    return {};
}

std::optional<std::string> Args::opt(const std::string& name) const
{
    if (auto it = values_.find(name); it != values_.end())
        return it->second;
    return std::nullopt;
}

long long Args::getInt(const std::string& name) const
{
    std::string v = get(name);
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno)
        throw Error("option --" + name + ": expected an integer, got '" + v + "'");
    return x;
}

double Args::getDouble(const std::string& name) const
{
    std::string v = get(name);
    char* end = nullptr;
    errno = 0;
    double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || errno)
        throw Error("option --" + name + ": expected a number, got '" + v + "'");
    return x;
}

std::string Args::helpText() const
{
    std::ostringstream os;
    os << "usage: quantbench-cli " << command_ << ' ' << usage_ << "\n\noptions:\n";
    for (const auto& o : opts_) {
        std::string left = "  --" + o.name + (o.takes_value ? " VALUE" : "");
        os << left;
        os << std::string(left.size() < 26 ? 26 - left.size() : 1, ' ') << o.help;
        if (!o.def.empty())
            os << " (default " << o.def << ")";
        os << '\n';
    }
    return os.str();
}

std::map<std::string, Command>& registry()
{
    static std::map<std::string, Command> r;
    return r;
}

Registrar::Registrar(std::string name, std::string summary, std::function<int(const std::vector<std::string>&)> fn)
{
    registry()[name] = Command{name, std::move(summary), std::move(fn)};
}

int runParsed(Args& args, const std::vector<std::string>& argv, const std::function<int()>& body)
{
    if (!args.parse(argv)) {
        std::cerr << "quantbench-cli: " << args.error() << "\n\n" << args.helpText();
        return 2;
    }
    if (args.helpRequested()) {
        std::cout << args.helpText();
        return 0;
    }
    try {
        const long long threads = args.getInt("threads");
        if (threads < 0 || threads > 4096)
            throw Error("option --threads: must be between 0 and 4096");
        applyThreadPolicy(int(threads));
        return body();
    } catch (const Error& e) {
        std::cerr << "quantbench-cli: error: " << e.what() << '\n';
        return 1;
    } catch (const std::exception& e) {
        if (isOutOfMemory(e)) {
            // An allocation the input asked for did not fit (or ulimit -v said no; libtorch's
            // allocator throws its own error for it): a clear message and exit 1, never an
            // uncaught exception and a core dump.
            std::cerr << "quantbench-cli " << args.command() << ": error: " << describeException(e)
                      << " while running this command; check the sizes its inputs declare (config.json, --ctx, "
                         "--max-new, dataset limits) against the memory available\n";
            return 1;
        }
        std::cerr << "quantbench-cli: unexpected error: " << describeException(e) << '\n';
        return 1;
    }
}

void requireDevice(const std::string& device)
{
    if (device == "cpu")
        return;
    if (device == "cuda" || device.rfind("cuda:", 0) == 0) {
        if (!buildInfo().torch_cuda)
            throw Error("option --device " + device + ": this build has no CUDA (its libtorch is CPU-only); use --device cpu");
        if (!compat::cudaAvailable())
            throw Error("option --device " + device + ": no CUDA device is available on this machine; use --device cpu");
        return;
    }
    throw Error("option --device: expected cpu or cuda, got '" + device + "'");
}

std::string demoModelDir()
{
    if (const char* env = std::getenv("QB_DEMO_MODEL"))
        return env;
    // Installed layout: <prefix>/bin/quantbench-cli -> <prefix>/share/quantbench/demo/stories260k
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto installed = exe.parent_path().parent_path() / "share/quantbench/demo/stories260k";
        if (std::filesystem::exists(installed / "config.json"))
            return installed.string();
    }
#ifdef QB_DEMO_MODEL_DIR
    return QB_DEMO_MODEL_DIR;
#else
    return "resources/demo/stories260k";
#endif
}

} // namespace qb::cli
