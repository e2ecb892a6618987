#include "core/data/mmlu_data.h"

#include "core/data/csv.h"
#include "core/data/sha256.h"
#include "core/util/read_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace qb {
namespace {

std::string readAll(const fs::path& p)
{
    return readFileBounded(p, kTextCap, "MMLU data file");
}

struct Loader {
    const MmluLoadOptions& opts;
    MmluDataset& ds;
    Sha256 sha;

    bool wanted(const std::string& subject) const
    {
        return opts.subjects.empty() ||
               std::find(opts.subjects.begin(), opts.subjects.end(), subject) != opts.subjects.end();
    }

    void bad(const std::string& where, const std::string& what)
    {
        if (opts.strict)
            fail(where, what);
        ds.warnings.push_back(where + ": " + what + " (row skipped)");
    }

    std::string read(const fs::path& p)
    {
        std::string text = readAll(p);
        sha.update(text.data(), text.size());
        ds.bytes += text.size();
        return text;
    }

    static int letterIndex(std::string s)
    {
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
            s.pop_back();
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
            s.erase(s.begin());
        if (s.size() == 1 && s[0] >= 'A' && s[0] <= 'D')
            return s[0] - 'A';
        return -1;
    }

    void csvFile(const fs::path& p, const std::string& subject, bool dev)
    {
        auto rows = parseCsv(read(p), p.string());
        int64_t idx = 0;
        for (const auto& r : rows) {
            std::string where = p.string() + ":" + std::to_string(r.line);
            if (r.fields.size() != 6) {
                bad(where, "expected 6 fields (question, A, B, C, D, answer), got " + std::to_string(r.fields.size()));
                continue;
            }
            int a = letterIndex(r.fields[5]);
            if (a < 0) {
                bad(where, "answer '" + r.fields[5] + "' is not one of A, B, C, D");
                continue;
            }
            MmluQuestion q;
            q.subject = subject;
            q.question = r.fields[0];
            for (int k = 0; k < 4; ++k)
                q.choices[k] = r.fields[1 + k];
            q.answer = a;
            q.id = subject + (dev ? "/dev/" : "/test/") + std::to_string(idx++);
            (dev ? ds.dev[subject] : ds.test).push_back(std::move(q));
        }
    }

    void jsonlFile(const fs::path& p, const std::string& defaultSplit)
    {
        std::istringstream in(read(p));
        std::string line;
        int64_t lineNo = 0;
        std::map<std::string, int64_t> counters;
        while (std::getline(in, line)) {
            ++lineNo;
            if (line.find_first_not_of(" \t\r") == std::string::npos)
                continue;
            std::string where = p.string() + ":" + std::to_string(lineNo);
            nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
            if (j.is_discarded() || !j.is_object()) {
                bad(where, "not a JSON object");
                continue;
            }
            if (!j.contains("question") || !j["question"].is_string() || !j.contains("choices") ||
                !j["choices"].is_array() || j["choices"].size() != 4 || !j.contains("answer")) {
                bad(where, "needs \"question\" (string), \"choices\" (4 strings) and \"answer\"");
                continue;
            }
            // value() throws nlohmann's type_error on a non-string: a bad row, not a crash.
            if ((j.contains("subject") && !j["subject"].is_string()) || (j.contains("split") && !j["split"].is_string())) {
                bad(where, "\"subject\" and \"split\" must be strings");
                continue;
            }
            int a = -1;
            const auto& ans = j["answer"];
            if (ans.is_number_integer() && ans.get<int64_t>() >= 0 && ans.get<int64_t>() <= 3)
                a = int(ans.get<int64_t>());
            else if (ans.is_string())
                a = letterIndex(ans.get<std::string>());
            if (a < 0) {
                bad(where, "answer " + ans.dump() + " is not 0-3 or A-D");
                continue;
            }
            MmluQuestion q;
            q.subject = j.value("subject", std::string("unknown"));
            if (!wanted(q.subject))
                continue;
            q.question = j["question"].get<std::string>();
            bool ok = true;
            for (int k = 0; k < 4; ++k) {
                if (!j["choices"][k].is_string()) {
                    ok = false;
                    break;
                }
                q.choices[k] = j["choices"][k].get<std::string>();
            }
            if (!ok) {
                bad(where, "choices must be strings");
                continue;
            }
            q.answer = a;
            std::string split = j.value("split", defaultSplit);
            bool dev = split == "dev" || split == "validation_dev";
            q.id = q.subject + (dev ? "/dev/" : "/test/") + std::to_string(counters[q.subject + split]++);
            (dev ? ds.dev[q.subject] : ds.test).push_back(std::move(q));
        }
    }

    // *_dev.csv / *_test.csv files of a folder
    void csvFolder(const fs::path& dir, const std::string& suffix, bool dev)
    {
        // error_code overloads only: an unrelated bad entry (a symlink loop, a dangling link) is
        // ignored; one that names a subject file fails naming it (a silently missing subject would
        // change the question set).
        std::vector<fs::path> files;
        std::error_code ec;
        for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
            const std::string n = it->path().filename().string();
            if (n.size() <= suffix.size() || n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0)
                continue;
            std::error_code fec;
            if (!it->is_regular_file(fec))
                fail(it->path().string(), "MMLU file is not a readable regular file" + (fec ? " (" + fec.message() + ")" : std::string()));
            files.push_back(it->path());
        }
        if (ec)
            fail(dir.string(), "cannot list MMLU folder: " + ec.message());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            std::string n = f.filename().string();
            std::string subject = n.substr(0, n.size() - suffix.size());
            if (wanted(subject))
                csvFile(f, subject, dev);
        }
    }
};

} // namespace

std::vector<std::string> MmluDataset::subjects() const
{
    std::set<std::string> s;
    for (const auto& q : test)
        s.insert(q.subject);
    return {s.begin(), s.end()};
}

MmluDataset loadMmlu(const fs::path& path, const MmluLoadOptions& opts)
{
    MmluDataset ds;
    ds.path = path;
    Loader L{opts, ds, {}};
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
        std::string ext = path.extension().string();
        if (ext == ".jsonl" || ext == ".json")
            L.jsonlFile(path, "test");
        else if (ext == ".csv") {
            std::string n = path.filename().string();
            bool dev = n.size() > 8 && n.compare(n.size() - 8, 8, "_dev.csv") == 0;
            std::string subject = n.substr(0, n.size() - (dev ? 8 : (n.size() > 9 && n.compare(n.size() - 9, 9, "_test.csv") == 0 ? 9 : 4)));
            L.csvFile(path, subject, dev);
        } else
            fail(path.string(), "not an MMLU file (expected .csv or .jsonl)");
    } else if (fs::is_directory(path, ec)) {
        if (fs::is_directory(path / "test", ec)) {
            if (fs::is_directory(path / "dev", ec))
                L.csvFolder(path / "dev", "_dev.csv", true);
            L.csvFolder(path / "test", "_test.csv", false);
        } else if (fs::exists(fs::symlink_status(path / "test.jsonl", ec))) {
            if (fs::exists(fs::symlink_status(path / "dev.jsonl", ec)))
                L.jsonlFile(path / "dev.jsonl", "dev");
            L.jsonlFile(path / "test.jsonl", "test");
        } else {
            L.csvFolder(path, "_dev.csv", true);
            L.csvFolder(path, "_test.csv", false);
        }
    } else {
        fail(path.string(), "no such file or folder");
    }
    std::stable_sort(ds.test.begin(), ds.test.end(),
                     [](const MmluQuestion& a, const MmluQuestion& b) { return a.subject < b.subject; });
    if (ds.test.empty())
        fail(path.string(), "no MMLU test questions found (expected dev/ and test/ folders, *_test.csv files or JSON lines)");
    ds.sha256 = L.sha.hexDigest();
    return ds;
}

std::string mmluSubjectText(const std::string& subject)
{
    std::string s = subject;
    std::replace(s.begin(), s.end(), '_', ' ');
    return s;
}

static void appendQuestion(std::string& out, const MmluQuestion& q)
{
    out += q.question;
    static const char* L[4] = {"\nA. ", "\nB. ", "\nC. ", "\nD. "};
    for (int k = 0; k < 4; ++k) {
        out += L[k];
        out += q.choices[k];
    }
    out += "\nAnswer:";
}

std::string mmluPrompt(const MmluQuestion& q, const std::vector<MmluQuestion>& dev, int shots)
{
    std::string out = "The following are multiple choice questions (with answers) about " + mmluSubjectText(q.subject) + ".\n\n";
    int k = std::min<int>(std::max(shots, 0), int(dev.size()));
    for (int i = 0; i < k; ++i) {
        appendQuestion(out, dev[size_t(i)]);
        out += ' ';
        out += char('A' + dev[size_t(i)].answer);
        out += "\n\n";
    }
    appendQuestion(out, q);
    return out;
}

namespace {
// splitmix64: tiny, portable, good enough for sampling
struct Rng {
    uint64_t s;
    uint64_t next()
    {
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) // unbiased in [0, n)
    {
        uint64_t lim = UINT64_MAX - UINT64_MAX % n;
        uint64_t x;
        do
            x = next();
        while (x >= lim);
        return x % n;
    }
    template <class T> void shuffle(std::vector<T>& v)
    {
        for (size_t i = v.size(); i > 1; --i)
            std::swap(v[i - 1], v[size_t(below(i))]);
    }
};
} // namespace

std::vector<size_t> spreadLimit(const std::vector<MmluQuestion>& test, int64_t max, uint64_t seed)
{
    std::vector<size_t> all(test.size());
    for (size_t i = 0; i < all.size(); ++i)
        all[i] = i;
    if (max <= 0 || size_t(max) >= test.size())
        return all;
    std::map<std::string, std::vector<size_t>> bySubject;
    for (size_t i = 0; i < test.size(); ++i)
        bySubject[test[i].subject].push_back(i);
    std::vector<std::string> subjects;
    for (const auto& kv : bySubject)
        subjects.push_back(kv.first);
    Rng rng{seed};
    std::map<std::string, size_t> quota;
    size_t left = size_t(max);
    // Water-filling: equal shares, capped by what a subject has, repeated until nothing moves.
    std::vector<std::string> open = subjects;
    while (left > 0 && !open.empty()) {
        size_t share = left / open.size();
        std::vector<std::string> order = open;
        rng.shuffle(order);
        size_t extra = left - share * open.size();
        std::vector<std::string> still;
        size_t given = 0;
        for (size_t k = 0; k < order.size(); ++k) {
            const auto& s = order[k];
            size_t want = share + (k < extra ? 1 : 0);
            size_t room = bySubject[s].size() - quota[s];
            size_t g = std::min(want, room);
            quota[s] += g;
            given += g;
            if (quota[s] < bySubject[s].size())
                still.push_back(s);
        }
        left -= given;
        std::sort(still.begin(), still.end());
        if (given == 0)
            break;
        open = still;
    }
    std::vector<size_t> picked;
    for (const auto& s : subjects) {
        auto idx = bySubject[s];
        rng.shuffle(idx);
        idx.resize(quota[s]);
        picked.insert(picked.end(), idx.begin(), idx.end());
    }
    std::sort(picked.begin(), picked.end());
    return picked;
}

} // namespace qb
