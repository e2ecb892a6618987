#include "core/results/store.h"

#include "core/results/import.h"
#include "core/util/error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
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
    if (!fs::exists(path_))
        return {};
    return loadResultsJsonl(path_);
}

LoadedResults loadResultsJsonl(const fs::path& p)
{
    LoadedResults out;
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        out.messages.push_back(p.string() + ": cannot open");
        return out;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    bool endsWithNewline = !text.empty() && text.back() == '\n';
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        if (l.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        std::string where = p.string() + ":" + std::to_string(i + 1);
        bool last = i + 1 == lines.size();
        auto j = nlohmann::json::parse(l, nullptr, false);
        if (j.is_discarded()) {
            if (last && !endsWithNewline)
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
    return out;
}

// `named`: the user named this file (not found by walking a folder).
static void loadJsonDoc(const fs::path& p, LoadedResults& out, bool named)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    const nlohmann::json* arr = nullptr;
    if (!j.is_discarded()) {
        // A sweep file (a run folder holds its sweep.json next to results.jsonl): no results.
        if (j.is_object() && j.contains("schemes") && (j["schemes"].is_array() || j["schemes"].is_object()) &&
            !j.contains("results")) {
            if (named)
                out.messages.push_back(p.string() + ": a sweep file, not results (run it, or open its results.jsonl)");
            return;
        }
        if (j.is_array() && !j.empty() && j[0].is_object() && j[0].contains("schema_version"))
            arr = &j;
        else if (j.is_object() && j.value("schema", "") == "quantbench.results" && j.contains("records") &&
                 j["records"].is_array())
            arr = &j["records"];
        else if (j.is_object() && j.contains("quantbench_results")) {
            ImportResult ir = importLegacyUiResults(j, p.string());
            for (auto& r : ir.records)
                out.records.push_back(std::move(r));
            for (auto& m : ir.messages)
                out.messages.push_back(std::move(m));
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
        ImportResult ir = importReportFile(p);
        for (auto& r : ir.records)
            out.records.push_back(std::move(r));
        for (auto& m : ir.messages)
            out.messages.push_back(std::move(m));
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
            if (ext == ".jsonl") {
                auto r = loadResultsJsonl(f);
                out.records.insert(out.records.end(), r.records.begin(), r.records.end());
                out.messages.insert(out.messages.end(), r.messages.begin(), r.messages.end());
            } else if (ext == ".json") {
                loadJsonDoc(f, out, named);
            } else {
                out.messages.push_back(f.string() + ": not a .json or .jsonl file, ignored");
            }
        } catch (const std::exception& e) {
            out.messages.push_back(f.string() + ": " + e.what());
        }
    };
    for (const auto& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<fs::path> files;
            for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
                 it.increment(ec))
                if (it->is_regular_file() && (it->path().extension() == ".json" || it->path().extension() == ".jsonl"))
                    files.push_back(it->path());
            std::sort(files.begin(), files.end());
            if (files.empty())
                out.messages.push_back(p.string() + ": folder holds no .json or .jsonl files");
            for (const auto& f : files)
                one(f, false);
        } else if (fs::exists(p, ec)) {
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
    fs::path tmp = p;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            fail(tmp.string(), "cannot open for writing");
        out << doc.dump(1) << '\n';
        out.flush();
        if (!out)
            fail(tmp.string(), "write failed");
    }
    std::error_code ec;
    fs::rename(tmp, p, ec);
    if (ec)
        fail(p.string(), "cannot replace: " + ec.message());
}

} // namespace qb
