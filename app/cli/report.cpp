// `quantbench-cli report RESULTS... [--format md|csv|json|lm-eval] [--out FILE]`: the summary report of
// result files and run folders (this app's, report-style files from scripts, lm-eval results);
// `--format lm-eval --out DIR` writes the MMLU results in lm-evaluation-harness's layout instead.
#include "app/cli/command.h"
#include "core/report/report.h"
#include "core/results/lm_eval.h"
#include "core/results/store.h"
#include "core/util/atomic_write.h"
#include "core/util/error.h"

#include <fstream>
#include <iostream>

namespace {

int runReport(const std::vector<std::string>& argv)
{
    qb::cli::Args args("report", "RESULTS... [--format md|csv|json|lm-eval] [--out FILE]");
    args.option("format", "md, csv, json, or lm-eval (MMLU results as lm-evaluation-harness results files in --out DIR)", "md")
        .option("out", "write to FILE (lm-eval: a folder) instead of stdout")
        .option("alpha", "significance level of the tests", "0.05")
        .option("title", "report title", "QuantBench results");
    return qb::cli::runParsed(args, argv, [&] {
        if (args.positional().empty())
            throw qb::Error("give at least one results file or run folder");
        std::vector<std::filesystem::path> paths(args.positional().begin(), args.positional().end());
        auto loaded = qb::loadResults(paths);
        for (const auto& m : loaded.messages)
            std::cerr << "quantbench-cli report: " << m << '\n';
        for (const auto& m : loaded.notes)
            std::cerr << "quantbench-cli report: note: " << m << '\n';
        if (loaded.records.empty())
            throw qb::Error("no results could be read");
        if (args.get("format") == "lm-eval") {
            auto out = args.opt("out");
            if (!out)
                throw qb::Error("--format lm-eval writes a folder: give --out DIR");
            const auto files = qb::exportLmEval(loaded.records, *out);
            if (files.empty())
                throw qb::Error("no MMLU direct results to export in lm-eval's layout");
            for (const auto& f : files)
                std::cerr << "wrote " << f.string() << '\n';
            return 0;
        }
        qb::ReportOptions o;
        o.alpha = args.getDouble("alpha");
        o.title = args.get("title");
        qb::Report rep = qb::buildReport(loaded.records, o);
        std::string fmt = args.get("format"), text;
        if (fmt == "md")
            text = rep.markdown();
        else if (fmt == "csv")
            text = rep.csv();
        else if (fmt == "json")
            text = rep.toJson().dump(2) + "\n";
        else
            throw qb::Error("--format must be md, csv, json or lm-eval, not '" + fmt + "'");
        if (auto out = args.opt("out")) {
            qb::writeFileAtomic(*out, text, "report"); // temp file + rename: never a partial file
            std::cerr << "wrote " << *out << " (" << loaded.records.size() << " records)\n";
        } else {
            std::cout << text;
        }
        return 0;
    });
}

QB_CLI_COMMAND("report", "summary tables (Markdown, CSV, JSON) from result files and run folders", runReport);

} // namespace
