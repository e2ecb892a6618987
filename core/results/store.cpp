#include "core/results/store.h"

#include "core/results/import.h"
#include "core/results/lm_eval.h"
#include "core/util/atomic_write.h"
#include "core/util/error.h"
#include "core/util/read_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <unistd.h>

namespace fs = std::filesystem;

namespace qb {

ResultsFile::ResultsFile(fs::path path) : path_(std::move(path))
{
    std::error_code ec;
    if (fs::is_directory(path_, ec) || path_.extension() != ".jsonl")
        path_ /= kFileName;
}

void ResultsFile::append(const ResultRecord& r)
{
    std::error_code ec;
    fs::create_directories(path_.parent_path(), ec);
    std::string line = r.toJson().dump() + "\n";
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        fail(path_.string(), std::string("cannot open results file for appending: ") + std::strerror(errno));
    // A torn last line (a crash mid-write) has no newline: start on a fresh line.
    off_t end = ::lseek(fd, 0, SEEK_END);
    if (end > 0) {
        char last = '\n';
        int rfd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (rfd >= 0) {
            if (::pread(rfd, &last, 1, end - 1) != 1)
                last = '\n';
            ::close(rfd);
        }
        if (last != '\n')
            line.insert(line.begin(), '\n');
    }
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t w = ::write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            std::string why = std::strerror(errno);
            ::close(fd);
            fail(path_.string(), "write failed: " + why);
        }
        p += w;
        left -= size_t(w);
    }
    if (::fsync(fd) != 0) {
        std::string why = std::strerror(errno);
        ::close(fd);
        fail(path_.string(), "fsync failed: " + why);
    }
    ::close(fd);
}

LoadedResults ResultsFile::load() const
{
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(path_, ec)))
        return {};
    return loadResultsJsonl(path_);
}

LoadedResults loadResultsJsonl(const fs::path& p)
{
    LoadedResults out;
    try {
        // Streamed: one line in memory at a time, each at most kResultLineCap.
        BoundedLineReader in(p, UINT64_MAX, kResultLineCap, "results file");
        std::string l;
        while (in.next(l)) {
            const std::string where = p.string() + ":" + std::to_string(in.lineNumber());
            if (in.tooLong()) {
                out.messages.push_back(where + ": line longer than the " + formatCap(in.lineCap()) + " limit, skipped");
                continue;
            }
            if (l.find_first_not_of(" \t\r") == std::string::npos)
                continue;
            auto j = nlohmann::json::parse(l, nullptr, false);
            if (j.is_discarded()) {
                if (!in.endedWithNewline())
                    out.messages.push_back(where + ": torn last line skipped (the run was interrupted while writing it)");
                else
                    out.messages.push_back(where + ": not valid JSON, line skipped");
                continue;
            }
            try {
                out.records.push_back(ResultRecord::fromJson(j, where));
                out.records.back().source = p.string(); // the file, not the line: records of one file are one source
            } catch (const Error& e) {
                out.messages.push_back(std::string(e.what()) + " (line skipped)");
            }
        }
    } catch (const Error& e) {
        out.messages.push_back(e.what());
    }
    return out;
}

// What an importer read joins what the other files gave.
static void absorb(LoadedResults& out, ImportResult&& ir)
{
    for (auto& r : ir.records)
        out.records.push_back(std::move(r));
    for (auto& m : ir.messages)
        out.messages.push_back(std::move(m));
    for (auto& m : ir.notes)
        out.notes.push_back(std::move(m));
}

// `named`: the user named this file (not found by walking a folder).
static void loadJsonDoc(const fs::path& p, LoadedResults& out, bool named)
{
    const std::string text = readFileBounded(p, kResultJsonCap, "results JSON file");
    auto j = nlohmann::json::parse(text, nullptr, false);
    const nlohmann::json* arr = nullptr;
    if (!j.is_discarded()) {
        // A Slurm run's job record (slurm.json, core/run/slurm.h): part of the run folder, no results.
        if (j.is_object() && j.value("schema", "") == "quantbench.slurm") {
            if (named)
                out.messages.push_back(p.string() + ": a Slurm job record, not results (open its run folder)");
            return;
        }
        // A sweep file (a run folder holds its sweep.json next to results.jsonl): no results.
        if (j.is_object() && j.contains("schemes") && (j["schemes"].is_array() || j["schemes"].is_object()) &&
            !j.contains("results")) {
            if (named)
                out.messages.push_back(p.string() + ": a sweep file, not results (run it, or open its results.jsonl)");
            return;
        }
        if (isLmEvalResults(j)) { // lm-evaluation-harness results_*.json (+ its samples files)
            absorb(out, importLmEvalResults(j, p));
            return;
        }
        if (j.is_array() && !j.empty() && j[0].is_object() && j[0].contains("schema_version"))
            arr = &j;
        else if (j.is_object() && j.value("schema", "") == "quantbench.results" && j.contains("records") &&
                 j["records"].is_array())
            arr = &j["records"];
        else if (j.is_object() && j.contains("quantbench_results")) {
            absorb(out, importLegacyUiResults(j, p.string()));
            return;
        } else if (j.is_object() && j.contains("schema_version")) {
            try {
                out.records.push_back(ResultRecord::fromJson(j, p.string()));
            } catch (const Error& e) {
                out.messages.push_back(e.what());
            }
            return;
        }
    }
    if (!arr) {
        absorb(out, importReportContent(p, text));
        return;
    }
    for (size_t i = 0; i < arr->size(); ++i) {
        try {
            out.records.push_back(ResultRecord::fromJson((*arr)[i], p.string() + " record " + std::to_string(i + 1)));
            out.records.back().source = p.string();
        } catch (const Error& e) {
            out.messages.push_back(std::string(e.what()) + " (record skipped)");
        }
    }
}

LoadedResults loadResults(const std::vector<fs::path>& paths)
{
    LoadedResults out;
    auto one = [&](const fs::path& f, bool named) {
        try {
            std::string ext = f.extension().string();
            if (ext == ".jsonl" && isLmEvalSamplesName(f)) {
                // per-item logs of lm-eval, read with their results_*.json
                if (named)
                    out.messages.push_back(f.string() + ": an lm-eval samples file; open its results_*.json (or the folder), "
                                                        "which reads it");
            } else if (ext == ".jsonl") {
                auto r = loadResultsJsonl(f);
                out.records.insert(out.records.end(), r.records.begin(), r.records.end());
                out.messages.insert(out.messages.end(), r.messages.begin(), r.messages.end());
            } else if (ext == ".json") {
                loadJsonDoc(f, out, named);
            } else {
                out.messages.push_back(f.string() + ": not a .json or .jsonl file, ignored");
            }
        } catch (const Error& e) {
            out.messages.push_back(e.what()); // names the file already
        } catch (const std::bad_alloc&) {
            out.messages.push_back(f.string() + ": out of memory while reading it, file skipped");
        } catch (const std::exception& e) {
            out.messages.push_back(f.string() + ": " + e.what());
        }
    };
    for (const auto& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            // One bad entry (a symlink loop, a dangling link, an unreadable folder) is named and
            // skipped; the rest of the folder still loads. Only error_code overloads here.
            std::vector<fs::path> files;
            auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
            if (ec)
                out.messages.push_back(p.string() + ": cannot list folder: " + ec.message());
            for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
                const fs::path& e = it->path();
                const bool wanted = e.extension() == ".json" || e.extension() == ".jsonl";
                std::error_code fec;
                const bool regular = it->is_regular_file(fec);
                if (fec) {
                    out.messages.push_back(e.string() + ": skipped (" + fec.message() + ")");
                    continue;
                }
                if (!wanted)
                    continue;
                if (regular)
                    files.push_back(e);
                else if (!it->is_directory(fec))
                    out.messages.push_back(e.string() + ": skipped (not a regular file)");
            }
            if (ec)
                out.messages.push_back(p.string() + ": listing stopped early: " + ec.message());
            std::sort(files.begin(), files.end());
            if (files.empty())
                out.messages.push_back(p.string() + ": folder holds no .json or .jsonl files");
            for (const auto& f : files)
                one(f, false);
        } else if (fs::exists(fs::symlink_status(p, ec))) {
            one(p, true);
        } else {
            out.messages.push_back(p.string() + ": no such file or folder");
        }
    }
    return out;
}

void writeResultsJson(const fs::path& p, const std::vector<ResultRecord>& records)
{
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : records)
        arr.push_back(r.toJson());
    nlohmann::json doc = {{"schema", "quantbench.results"}, {"schema_version", kResultSchemaVersion}, {"records", arr}};
    writeFileAtomic(p, doc.dump(1) + "\n", "results file");
}

} // namespace qb
