#pragma once
// Subcommand registry and a small argument parser for quantbench-cli.
// Each subcommand lives in its own cli/<name>.cpp and registers itself with QB_CLI_COMMAND.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qb::cli {

// Parses "--key value", "--key=value", "--flag" and positionals. Options must be declared so
// that a typo is an error ("unknown option --modle") instead of being silently ignored.
class Args {
public:
    struct Opt { std::string name; bool takes_value; std::string help; std::string def; };

    Args(std::string command, std::string usage);
    Args& option(const std::string& name, const std::string& help, const std::string& def = {});
    Args& flag(const std::string& name, const std::string& help);
    // Returns false and fills error() on bad input; "--help" sets helpRequested().
    bool parse(const std::vector<std::string>& argv);

    bool has(const std::string& name) const;                // flag given, or option given
    std::string get(const std::string& name) const;         // value or default
    std::optional<std::string> opt(const std::string& name) const;
    long long getInt(const std::string& name) const;        // throws qb::Error naming the option
    double getDouble(const std::string& name) const;
    const std::vector<std::string>& positional() const { return positional_; }
    bool helpRequested() const { return help_; }
    const std::string& error() const { return error_; }
    std::string helpText() const;
    const std::string& command() const { return command_; }

private:
    std::string command_, usage_;
    std::vector<Opt> opts_;
    std::map<std::string, std::string> values_;
    std::vector<std::string> positional_;
    bool help_ = false;
    std::string error_;
    const Opt* find(const std::string& name) const;
};

struct Command {
    std::string name;
    std::string summary;
    // Returns the process exit code: 0 ok, 1 runtime failure, 2 usage error.
    std::function<int(const std::vector<std::string>& args)> run;
};

std::map<std::string, Command>& registry();

struct Registrar {
    Registrar(std::string name, std::string summary, std::function<int(const std::vector<std::string>&)> fn);
};

// Common exit-code handling: parse, print help, print errors ("quantbench-cli X: ...").
// `body` runs after a successful parse; qb::Error from it becomes exit 1 with its message.
int runParsed(Args& args, const std::vector<std::string>& argv, const std::function<int()>& body);

// Checks a --device value ("cpu", "cuda", "cuda:N") against this build and machine, so a CPU-only
// build says so instead of surfacing libtorch's internal text. Throws qb::Error naming the option.
void requireDevice(const std::string& device);

// Default model when --model is omitted: the bundled demo model.
std::string demoModelDir();

} // namespace qb::cli

#define QB_CLI_CONCAT2(a, b) a##b
#define QB_CLI_CONCAT(a, b) QB_CLI_CONCAT2(a, b)
#define QB_CLI_COMMAND(name, summary, fn) \
    static ::qb::cli::Registrar QB_CLI_CONCAT(qb_cli_registrar_, __LINE__)(name, summary, fn)
