// `quantbench-cli import FILES... --out results.json`: reads report-style JSON files (and this
// app's results) and writes them as one QuantBench results document; says what it could not read.
#include "app/cli/command.h"
#include "core/results/store.h"
#include "core/util/error.h"

#include <iostream>

namespace {

int runImport(const std::vector<std::string>& argv)
{
    qb::cli::Args args("import", "FILES_OR_FOLDERS... --out results.json");
    args.option("out", "output results file (JSON)");
    return qb::cli::runParsed(args, argv, [&] {
        if (args.positional().empty())
            throw qb::Error("give at least one file or folder to import");
        if (!args.has("out"))
            throw qb::Error("--out is required");
        std::vector<std::filesystem::path> paths(args.positional().begin(), args.positional().end());
        auto loaded = qb::loadResults(paths);
        for (const auto& m : loaded.messages)
            std::cerr << "not understood: " << m << '\n';
        for (const auto& m : loaded.notes)
            std::cerr << "note: " << m << '\n';
        qb::writeResultsJson(args.get("out"), loaded.records);
        std::cout << "imported " << loaded.records.size() << " records into " << args.get("out") << " ("
                  << loaded.messages.size() << " messages)\n";
        return loaded.records.empty() ? 1 : 0;
    });
}

QB_CLI_COMMAND("import", "convert report-style result files into a QuantBench results file", runImport);

} // namespace
