#pragma once
// The results file of a run folder: JSON lines (`results.jsonl`), one record per line,
// appended with a single write() on an O_APPEND descriptor followed by fsync(). A crash loses
// at most the record being written; a torn last line (no newline, or invalid JSON) is skipped
// on load with a warning, and the next append starts on a fresh line so it is never glued to
// the fragment.
#include "core/results/record.h"

#include <filesystem>
#include <string>
#include <vector>

namespace qb {

struct LoadedResults {
    std::vector<ResultRecord> records;
    std::vector<std::string> messages; // "file: what was skipped or not understood"
    std::vector<std::string> notes;    // "file: how it was read" (percent or fraction, ...): not problems
};

class ResultsFile {
public:
    static constexpr const char* kFileName = "results.jsonl";

    // `path` is the .jsonl file, or a run folder (then <folder>/results.jsonl); folders are created.
    explicit ResultsFile(std::filesystem::path path);
    const std::filesystem::path& path() const { return path_; }

    void append(const ResultRecord& r); // throws qb::Error naming the file on I/O failure
    LoadedResults load() const;         // missing file = no records

private:
    std::filesystem::path path_;
};

// Reads one JSON-lines results file; never throws for bad content (messages instead).
LoadedResults loadResultsJsonl(const std::filesystem::path& p);

// Any set of files and folders: QuantBench .jsonl files, QuantBench JSON exports (an array of
// records or {"records": [...]}), the window's legacy {"quantbench_results": 1} export and
// report-style files (see import.h). Folders are walked recursively. Every record's `source` is
// the file it came from. Never throws for a file's content; every problem is a message naming
// the file.
LoadedResults loadResults(const std::vector<std::filesystem::path>& paths);

// Writes records as one JSON document {"schema": "quantbench.results", "records": [...]},
// atomically (tmp + rename).
void writeResultsJson(const std::filesystem::path& p, const std::vector<ResultRecord>& records);

} // namespace qb
