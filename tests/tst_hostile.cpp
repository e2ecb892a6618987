// Hostile input (issue 15): every case builds its fixture in a temporary folder (oversized files
// are sparse, so nothing big is written or shipped), runs the CLI as a child process where memory
// matters (under `ulimit -v`, so an unbounded allocation shows up as a failure here instead of
// taking the machine down) and requires a clear error and a non-zero exit code, never a signal.
#include "qbtest.h"

#include "core/data/mmlu_data.h"
#include "core/report/report.h"
#include "core/results/record.h"
#include "core/results/import.h"
#include "core/results/store.h"
#include "core/run/run_lock.h"
#include "core/tokenizer/regex.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/atomic_write.h"
#include "core/util/error.h"
#include "core/util/json_number.h"
#include "core/run/sweep.h"
#include "core/util/read_file.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <QProcess>
#include <QTemporaryDir>

#include <cmath>
#include <cstring>
#include <functional>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr long kUlimitKb = 4000000; // ~4 GB of address space: libtorch fits, 2^40 of anything does not

struct Proc {
    bool crashed = false, timedOut = false;
    int code = -1;
    std::string out, err;
    std::string all() const { return out + "\n" + err; }
    std::string describe() const
    {
        return (crashed ? std::string("CRASHED ") : std::string()) + (timedOut ? "TIMED OUT " : "") + "exit " +
               std::to_string(code) + "\nstdout: " + out.substr(0, 1500) + "\nstderr: " + err.substr(0, 1500);
    }
};

// Waits for a started child (killing it past timeoutMs) and collects what it did.
Proc finish(QProcess& p, int timeoutMs)
{
    Proc r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.timedOut = true;
    }
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.code = p.exitCode();
    r.out = p.readAllStandardOutput().toStdString();
    r.err = p.readAllStandardError().toStdString();
    return r;
}

using qbtest::kAsan;

// Starts quantbench-cli with `args` under a memory bound of `kb` KiB (none when kb <= 0): `ulimit -v`
// on the address space. An ASan build reserves terabytes of shadow address space, so there the
// bound is ASan's own instead: an allocation larger than it, or one made while the resident size is
// above it, returns null, which operator new turns into std::bad_alloc like an exhausted ulimit.
void startBounded(QProcess& p, const QStringList& args, long kb, QProcessEnvironment env)
{
    const QString cli = QString::fromStdString(qbtest::cliPath());
    if (kb > 0 && kAsan) {
        QString opts = env.value(QStringLiteral("ASAN_OPTIONS"));
        if (!opts.isEmpty())
            opts += QLatin1Char(':');
        opts += QStringLiteral("allocator_may_return_null=1:max_allocation_size_mb=%1:soft_rss_limit_mb=%1").arg(kb / 1024);
        env.insert(QStringLiteral("ASAN_OPTIONS"), opts);
        kb = 0;
    }
    p.setProcessEnvironment(env);
    if (kb > 0)
        p.start(QStringLiteral("bash"), QStringList{QStringLiteral("-c"), QStringLiteral("ulimit -v %1; exec \"$0\" \"$@\"").arg(kb), cli} + args);
    else
        p.start(cli, args);
}

// Runs quantbench-cli with `args` under a memory bound of `ulimitKb` (none when <= 0).
Proc runCli(const QStringList& args, long ulimitKb = kUlimitKb, int timeoutMs = 300000)
{
    QProcess p;
    startBounded(p, args, ulimitKb, QProcessEnvironment::systemEnvironment());
    return finish(p, timeoutMs);
}

// Same, with one malloc arena and one thread so the address space the CLI needs is stable enough
// to calibrate a limit against.
Proc runCliLean(QStringList args, long ulimitKb, int timeoutMs = 120000)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("MALLOC_ARENA_MAX"), QStringLiteral("1"));
    env.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("1"));
    args << QStringLiteral("--threads") << QStringLiteral("1");
    startBounded(p, args, ulimitKb, env);
    return finish(p, timeoutMs);
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// A clean failure: a normal exit with code != 0 and every `needles` in the output.
#define QB_EXPECT_CLEAN_FAILURE(proc, ...)                                                                 \
    do {                                                                                                   \
        const Proc& p_ = (proc);                                                                           \
        QVERIFY2(!p_.crashed && !p_.timedOut && p_.code != 0, p_.describe().c_str());                      \
        for (const std::string& n_ : std::vector<std::string>{__VA_ARGS__})                                \
            QVERIFY2(contains(p_.all(), n_), ("missing '" + n_ + "' in:\n" + p_.describe()).c_str());      \
    } while (0)

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

fs::path demoText() { return qbtest::sourceDir() / "resources/demo/tinystories_sample.txt"; }

// A copy of the bundled demo model that a test may break.
fs::path copyDemo(const fs::path& dst)
{
    fs::create_directories(dst);
    for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"})
        fs::copy_file(qbtest::demoModelDir() / f, dst / f, fs::copy_options::overwrite_existing);
    return dst;
}

void editConfig(const fs::path& dir, const std::function<void(json&)>& edit)
{
    json j = json::parse(qbtest::readFile(dir / "config.json"));
    edit(j);
    qbtest::writeFile(dir / "config.json", j.dump(2));
}

// A file of `bytes` bytes that occupies no disk (a hole); `head` is written at its start.
void sparseFile(const fs::path& p, uint64_t bytes, const std::string& head = {})
{
    qbtest::writeFile(p, head);
    fs::resize_file(p, bytes);
}

json record(const std::string& config, const std::string& task, const json& metrics, const std::string& finished,
            const std::string& sweepHash = {})
{
    json settings = json::object();
    if (!sweepHash.empty())
        settings["sweep_hash"] = sweepHash;
    return {{"schema", "quantbench.result"}, {"schema_version", 2}, {"config", config}, {"task", task},
            {"status", "ok"}, {"metrics", metrics}, {"settings", settings},
            {"provenance", {{"finished", finished}}}};
}

json tinySweep(int ctx)
{
    return {{"name", "hostile"},
            {"model", qbtest::demoModelDir().string()},
            {"baseline_dtype", "FP32"},
            {"device", "cpu"},
            {"schemes", json::array()},
            {"tasks", {{"ppl", {{"ctx", ctx}, {"max_windows", 1}}}}},
            {"datasets", {{"ppl_text", demoText().string()}}},
            {"seed", 1}};
}

int g_cases = 0; // hostile cases exercised, printed at the end

} // namespace

class TestHostile : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    fs::path dir(const std::string& name) const
    {
        fs::path p = fs::path(tmp_.path().toStdString()) / name;
        fs::create_directories(p);
        return p;
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(tmp_.isValid()); }
    void cleanupTestCase() { qInfo("hostile cases exercised: %d", g_cases); }

    // ---- 1. config dimensions bounded, by limits and by the checkpoint, before any allocation
    void configDimensions_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<qlonglong>("value");
        QTest::newRow("layers 2^40") << QStringLiteral("num_hidden_layers") << (qlonglong(1) << 40);
        QTest::newRow("layers 10^6") << QStringLiteral("num_hidden_layers") << qlonglong(1000000);
        QTest::newRow("layers one more than the checkpoint") << QStringLiteral("num_hidden_layers") << qlonglong(6);
        QTest::newRow("vocab 2^40") << QStringLiteral("vocab_size") << (qlonglong(1) << 40);
        QTest::newRow("vocab off by one") << QStringLiteral("vocab_size") << qlonglong(513);
        QTest::newRow("hidden 2^40") << QStringLiteral("hidden_size") << (qlonglong(1) << 40);
        QTest::newRow("heads 2^40") << QStringLiteral("num_attention_heads") << (qlonglong(1) << 40);
        QTest::newRow("intermediate 2^40") << QStringLiteral("intermediate_size") << (qlonglong(1) << 40);
        QTest::newRow("intermediate wrong") << QStringLiteral("intermediate_size") << qlonglong(4096);
        QTest::newRow("positions 10^12") << QStringLiteral("max_position_embeddings") << qlonglong(1000000000000LL);
    }
    void configDimensions()
    {
        QFETCH(QString, key);
        QFETCH(qlonglong, value);
        const fs::path m = copyDemo(dir("cfg_" + key.toStdString() + "_" + std::to_string(value)));
        editConfig(m, [&](json& j) { j[key.toStdString()] = value; });
        ++g_cases;
        Proc r = runCli({"ppl", "--model", q(m), "--text", q(demoText()), "--max-windows", "1", "--ctx", "32"});
        QB_EXPECT_CLEAN_FAILURE(r, "config.json", key.toStdString());
        ++g_cases;
        Proc i = runCli({"info", "--model", q(m)});
        QB_EXPECT_CLEAN_FAILURE(i, "config.json", key.toStdString());
    }

    // ---- 2. JSON inputs capped by size; 3. every input a regular file of bounded size
    void oversizedConfigJson()
    {
        const fs::path m = copyDemo(dir("big_config"));
        sparseFile(m / "config.json", 65 * qb::kMiB, "{");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"info", "--model", q(m)}), "config.json", "64 MiB");
    }
    void oversizedTokenizerJson()
    {
        const fs::path m = copyDemo(dir("big_tokenizer"));
        sparseFile(m / "tokenizer.json", 513 * qb::kMiB, "{");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"info", "--model", q(m)}), "tokenizer.json", "512 MiB");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"ppl", "--model", q(m), "--text", q(demoText())}), "tokenizer.json", "512 MiB");
    }
    void oversizedSweepJson()
    {
        const fs::path d = dir("big_sweep");
        sparseFile(d / "sweep.json", 65 * qb::kMiB, "{");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"sweep", q(d / "sweep.json"), "--out", q(d / "run")}), "sweep.json", "64 MiB");
    }
    void pplTextDevZero()
    {
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"ppl", "--text", "/dev/zero"}), "/dev/zero", "regular file", "character device");
    }
    void pplTextFifo()
    {
        const fs::path f = dir("fifo") / "text.fifo";
        QCOMPARE(::mkfifo(f.c_str(), 0600), 0);
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"ppl", "--text", q(f)}, kUlimitKb, 60000), "regular file", "FIFO");
    }
    void pplTextOverCap()
    {
        const fs::path f = dir("bigtext") / "text.txt";
        sparseFile(f, qb::kTextCap + 1, "hello");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"ppl", "--text", q(f)}), "text.txt", "1024 MiB");
    }
    void tokenizerSymlinkToDevZero()
    {
        const fs::path m = copyDemo(dir("tok_zero"));
        fs::remove(m / "tokenizer.json");
        fs::create_symlink("/dev/zero", m / "tokenizer.json");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"ppl", "--model", q(m), "--text", q(demoText())}), "tokenizer.json",
                                "character device");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"info", "--model", q(m)}), "valid", "tokenizer.json", "character device");
    }
    void boundedReaderRefusesGrowthAndDevices()
    {
        ++g_cases;
        try {
            qb::readFileBounded("/dev/null", 10, "probe");
            QFAIL("a character device was read");
        } catch (const qb::Error& e) {
            QVERIFY2(contains(e.what(), "character device"), e.what());
        }
    }

    // ---- 2. an allocation that does not fit is an error at the command boundary, not a crash
    void badAllocIsAnError()
    {
        auto pplArgs = [](const fs::path& text) {
            return QStringList{QStringLiteral("ppl"), QStringLiteral("--text"), q(text), QStringLiteral("--max-windows"),
                               QStringLiteral("1"), QStringLiteral("--ctx"), QStringLiteral("32")};
        };
        if (kAsan)
            QSKIP("calibrates an address-space limit to 32 MB, which ASan's shadow memory makes meaningless: "
                  "the dev preset runs it (the other memory-bound cases run under ASan's own limits here)");
        // The smallest address-space limit (within 32 MB) under which an ordinary ppl run succeeds.
        long lo = 100000, hi = kUlimitKb;
        if (runCliLean(pplArgs(demoText()), hi).code != 0)
            QSKIP("ppl does not run under a 4 GB address-space limit here");
        // Every probe ends: under a limit the run succeeds or fails, it never hangs (OpenBLAS used
        // to retry its failed buffer allocation forever inside attention's sgemm at ~0.72 GB).
        while (hi - lo > 32000) {
            const long mid = (lo + hi) / 2;
            const Proc p = runCliLean(pplArgs(demoText()), mid, 60000);
            QVERIFY2(!p.timedOut, qPrintable(QStringLiteral("ppl hung under ulimit -v %1 KB: ").arg(mid) +
                                             QString::fromStdString(p.describe())));
            (p.code == 0 ? hi : lo) = mid;
        }
        // A text of 900 MB (a hole: no disk) is under the 1 GiB cap, but holding it needs far more
        // than the ~64 MB left above that limit.
        const fs::path big = dir("oom") / "huge.txt";
        sparseFile(big, 900 * qb::kMiB, "hello");
        ++g_cases;
        Proc r = runCliLean(pplArgs(big), hi + 64000);
        QB_EXPECT_CLEAN_FAILURE(r, "out of memory", "ppl");
    }

    // libtorch's allocator says "no" with its own exception type and a C++ backtrace: the boundaries
    // (CLI, sweep records, GUI) must still call it out of memory, in one readable paragraph.
    void torchAllocationFailureIsOutOfMemory()
    {
        ++g_cases;
        bool threw = false;
        try {
            (void)at::empty({int64_t(1) << 50}, at::kFloat); // 4 PiB
        } catch (const std::exception& e) {
            threw = true;
            QVERIFY2(qb::isOutOfMemory(e), e.what());
            const std::string d = qb::describeException(e);
            QVERIFY2(d.rfind("out of memory", 0) == 0, d.c_str());
            QVERIFY2(d.find("frame #") == std::string::npos && d.find('\n') == std::string::npos, d.c_str());
        }
        QVERIFY(threw);
        const qb::Error plain("model.safetensors: header truncated");
        QVERIFY(!qb::isOutOfMemory(plain));
        QCOMPARE(qb::describeException(plain), std::string(plain.what()));
    }

    // ---- 4. a regex that hits PCRE2's limit is an error naming the tokenizer file and pattern
    void regexLimitIsAnError()
    {
        const fs::path d = dir("regex");
        const json tok = {{"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"Regex", "\\w+|[^\\w\\s]+"}}}, {"behavior", "Isolated"}}},
                          {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {" ", 2}, {"!", 3}}}, {"merges", json::array()}}}};
        qbtest::writeFile(d / "tokenizer.json", tok.dump());
        auto t = qb::Tokenizer::fromFile(d / "tokenizer.json");
        const std::string text = "ab ba ab! ba ab ba ab ba";
        const auto ok = t.encode(text, false);
        QVERIFY(!ok.empty());
        qb::Regex::setMatchLimit(1);
        ++g_cases;
        bool threw = false;
        try {
            (void)t.encode(text, false);
        } catch (const qb::Error& e) {
            threw = true;
            QVERIFY2(contains(e.what(), (d / "tokenizer.json").string()), e.what());
            QVERIFY2(contains(e.what(), "\\w+|[^\\w\\s]+"), e.what());
            QVERIFY2(contains(e.what(), "limit"), e.what());
        }
        qb::Regex::setMatchLimit(0);
        QVERIFY2(threw, "a match limit hit was ignored: the split stopped early and encoding went on");
        QCOMPARE(t.encode(text, false), ok);
    }

    // ---- 5. results streamed line by line, a line and a .json file bounded
    void resultsLineAndFileCaps()
    {
        const fs::path d = dir("caps");
        const std::string good = record("FP32", "ppl", {{"ppl", 10.0}}, "2026-01-01T00:00:00Z").dump() + "\n";
        const fs::path jl = d / "results.jsonl";
        qbtest::writeFile(jl, good);
        fs::resize_file(jl, good.size() + qb::kResultLineCap + 10); // line 2: 64 MiB + 10 NUL bytes
        {
            std::ofstream o(jl, std::ios::binary | std::ios::app);
            o << "\n" << record("INT8_Per_Row", "ppl", {{"ppl", 11.0}}, "2026-01-01T00:00:00Z").dump() << "\n";
        }
        ++g_cases;
        auto r = qb::loadResults({jl});
        QCOMPARE(int(r.records.size()), 2);
        bool named = false;
        for (const auto& m : r.messages)
            named = named || (contains(m, jl.string() + ":2") && contains(m, "64 MiB"));
        QVERIFY2(named, r.messages.empty() ? "no message" : r.messages[0].c_str());

        const fs::path big = d / "big.json";
        sparseFile(big, qb::kResultJsonCap + 1, "[");
        ++g_cases;
        auto b = qb::loadResults({big});
        QVERIFY(b.records.empty());
        QVERIFY(!b.messages.empty() && contains(b.messages[0], "big.json") && contains(b.messages[0], "512 MiB"));
    }

    // ---- 6. one bad entry does not kill the folder
    void symlinkLoopInResultsFolder()
    {
        const fs::path d = dir("loop");
        qbtest::writeFile(d / "results.jsonl", record("FP32", "ppl", {{"ppl", 10.0}}, "2026-01-01T00:00:00Z").dump() + "\n");
        fs::create_symlink("loop.json", d / "loop.json");  // loops onto itself
        fs::create_directories(d / "sub");
        fs::create_symlink("../sub", d / "sub" / "again"); // a directory cycle
        fs::create_symlink("nowhere.json", d / "sub" / "dangling.json");
        ++g_cases;
        auto r = qb::loadResults({d});
        QCOMPARE(int(r.records.size()), 1);
        bool named = false;
        for (const auto& m : r.messages)
            named = named || contains(m, "loop.json");
        QVERIFY(named);
        ++g_cases;
        Proc p = runCli({"report", q(d)}, 0);
        QVERIFY2(!p.crashed && p.code == 0, p.describe().c_str());
        QVERIFY2(contains(p.err, "loop.json") && contains(p.out, "FP32"), p.describe().c_str());
        ++g_cases;
        Proc i = runCli({"import", q(d), "--out", q(dir("loop_out") / "all.json")}, 0);
        QVERIFY2(!i.crashed && i.code == 0 && contains(i.err, "loop.json"), i.describe().c_str());
    }

    // ---- 7. conflicting duplicates: said, and picked by rule
    void conflictingDuplicates()
    {
        const fs::path d = dir("dups");
        qbtest::writeFile(d / "a.jsonl", record("FP32", "ppl", {{"ppl", 10.0}}, "2026-02-01T00:00:00Z").dump() + "\n");
        qbtest::writeFile(d / "b.jsonl", record("FP32", "ppl", {{"ppl", 12.0}}, "2026-01-01T00:00:00Z").dump() + "\n");
        qbtest::writeFile(d / "c.jsonl", record("INT8_Per_Row", "ppl", {{"ppl", 20.0}}, "2026-01-01T00:00:00Z").dump() + "\n");
        qbtest::writeFile(d / "d.jsonl", record("INT8_Per_Row", "ppl", {{"ppl", 21.0}}, "2026-01-01T00:00:00Z").dump() + "\n");
        auto loaded = qb::loadResults({d});
        QCOMPARE(int(loaded.records.size()), 4);
        ++g_cases;
        qb::Report rep = qb::buildReport(loaded.records);
        int conflicts = 0;
        for (const auto& w : rep.warnings)
            if (contains(w, "Conflicting")) {
                ++conflicts;
                if (contains(w, "FP32"))
                    QVERIFY2(contains(w, "a.jsonl") && contains(w, "b.jsonl") && contains(w, "using " + (d / "a.jsonl").string()),
                             w.c_str());
                else
                    QVERIFY2(contains(w, "using " + (d / "d.jsonl").string()), w.c_str()); // tie: the later file
            }
        QCOMPARE(conflicts, 2);
        const qb::Table* acc = rep.table("accuracy");
        QVERIFY(acc);
        bool newest = false, later = false;
        for (const auto& row : acc->rows) {
            newest = newest || (row[1].text == "FP32" && contains(row[2].text, "10.000"));
            later = later || (row[1].text == "INT8_Per_Row" && contains(row[2].text, "21.000"));
        }
        QVERIFY(newest && later);
    }

    // ---- 8. a missing metric stays missing
    void missingMetricIsNotZero()
    {
        std::vector<qb::ResultRecord> recs;
        recs.push_back(qb::ResultRecord::fromJson(record("FP32", "ppl", {{"ppl", "oops"}}, "t"), "string.jsonl:1"));
        recs.push_back(qb::ResultRecord::fromJson(record("INT8_Per_Row", "ppl", json::object(), "t"), "none.jsonl:1"));
        recs.push_back(qb::ResultRecord::fromJson(record("FP8_Per_Row", "ppl", {{"ppl", nullptr}}, "t"), "null.jsonl:1"));
        ++g_cases;
        qb::Report rep = qb::buildReport(recs);
        const std::string md = rep.markdown();
        QVERIFY2(!contains(md, "0.000"), md.c_str());
        QVERIFY2(!contains(md, "n/a"), md.c_str());
        for (const auto& f : rep.findings)
            QVERIFY2(!contains(f, "PPL"), f.c_str());
        QVERIFY(std::isnan(recs[1].metric("ppl")));
    }

    // ---- 9. writes checked, whole or not at all
    void reportOutToFullDisk()
    {
        const fs::path d = dir("full");
        qbtest::writeFile(d / "results.jsonl", record("FP32", "ppl", {{"ppl", 10.0}}, "t").dump() + "\n");
        fs::create_symlink("/dev/full", d / "report.md");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"report", q(d / "results.jsonl"), "--out", q(d / "report.md")}, 0), "report.md",
                                "No space left");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"report", q(d / "results.jsonl"), "--out", q(d / "missing" / "r.md")}, 0), "r.md");
        QVERIFY(!fs::exists(d / "missing"));
        // An existing file is replaced whole or kept: no temporary left behind either way.
        qbtest::writeFile(d / "old.md", "old");
        QVERIFY2(runCli({"report", q(d / "results.jsonl"), "--out", q(d / "old.md")}, 0).code == 0, "report --out failed");
        QVERIFY(contains(qbtest::readFile(d / "old.md"), "FP32"));
        for (const auto& e : fs::directory_iterator(d))
            QVERIFY2(!contains(e.path().filename().string(), ".tmp"), e.path().c_str());
        ++g_cases;
        try {
            qb::writeFileAtomic(d / "report.md", std::string(1 << 20, 'x'), "report");
            QFAIL("a write to /dev/full succeeded");
        } catch (const qb::Error& e) {
            QVERIFY2(contains(e.what(), "No space left"), e.what());
        }
    }

    // ---- 9 (sweep), 10 and 11: one run folder through its life
    void sweepRunFolder()
    {
        const fs::path d = dir("sweep");
        const fs::path run = d / "run";
        qbtest::writeFile(d / "sweep.json", tinySweep(32).dump(2));
        Proc first = runCli({"sweep", q(d / "sweep.json"), "--out", q(run), "--quiet"}, 0);
        QVERIFY2(!first.crashed && first.code == 0, first.describe().c_str());
        QVERIFY(fs::exists(run / "run.manifest"));
        const json manifest = json::parse(qbtest::readFile(run / "run.manifest"));
        const std::string hash1 = manifest.at("sweep_hash").get<std::string>();
        QVERIFY(contains(qbtest::readFile(run / "results.jsonl"), hash1));

        // 10: a second writer on a held folder is refused, naming the holder.
        {
            ++g_cases;
            qb::RunLock held(run);
            Proc second = runCli({"sweep", q(d / "sweep.json"), "--out", q(run), "--quiet"}, 0);
            QB_EXPECT_CLEAN_FAILURE(second, "another sweep", "pid " + std::to_string(::getpid()));
        }

        // 9: report.md on a full disk: the sweep exits non-zero naming it.
        fs::remove(run / "report.md");
        fs::create_symlink("/dev/full", run / "report.md");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"sweep", q(d / "sweep.json"), "--out", q(run), "--quiet"}, 0), "report.md",
                                "No space left");
        fs::remove(run / "report.md");

        // 11: a changed sweep file is refused with both hashes and what differs ...
        qbtest::writeFile(d / "sweep.json", tinySweep(48).dump(2));
        ++g_cases;
        Proc changed = runCli({"sweep", q(d / "sweep.json"), "--out", q(run), "--quiet"}, 0);
        QB_EXPECT_CLEAN_FAILURE(changed, hash1, "/tasks/ppl/ctx", "--resume-changed");
        // ... and --resume-changed starts a new protocol group that the report keeps apart.
        ++g_cases;
        Proc resumed = runCli({"sweep", q(d / "sweep.json"), "--out", q(run), "--quiet", "--resume-changed"}, 0);
        QVERIFY2(!resumed.crashed && resumed.code == 0, resumed.describe().c_str());
        const std::string hash2 = json::parse(qbtest::readFile(run / "run.manifest")).at("sweep_hash").get<std::string>();
        QVERIFY(hash2 != hash1);
        auto loaded = qb::loadResults({run / "results.jsonl"});
        QCOMPARE(int(loaded.records.size()), 2);
        qb::Report rep = qb::buildReport(loaded.records);
        const std::string md = rep.markdown();
        QVERIFY2(contains(md, "[sweep " + hash1.substr(0, 12) + "]") && contains(md, "[sweep " + hash2.substr(0, 12) + "]"),
                 md.c_str());
        QVERIFY2(!contains(md, "Conflicting"), md.c_str());
    }

    // ---- 14. weak spots
    void infoChecksTokenizer()
    {
        const fs::path m = copyDemo(dir("info_notok"));
        fs::remove(m / "tokenizer.json");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"info", "--model", q(m)}), "NO", "tokenizer.json", "missing");
        qbtest::writeFile(m / "tokenizer.json", "{\"model\": ");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"info", "--model", q(m)}), "NO", "tokenizer.json", "not valid JSON");
        Proc good = runCli({"info", "--model", q(qbtest::demoModelDir())});
        QVERIFY2(good.code == 0 && contains(good.out, "valid      yes"), good.describe().c_str());
    }
    void nonFiniteWeights_data()
    {
        QTest::addColumn<float>("value");
        QTest::newRow("NaN") << std::nanf("");
        QTest::newRow("+Inf") << INFINITY;
    }
    void nonFiniteWeights()
    {
        QFETCH(float, value);
        const fs::path m = copyDemo(dir(std::string("weights_") + (std::isnan(value) ? "nan" : "inf")));
        // Poke the value into the middle of model.norm.weight (F32) in the file.
        const fs::path st = m / "model.safetensors";
        std::string bytes = qbtest::readFile(st);
        uint64_t hlen = 0;
        std::memcpy(&hlen, bytes.data(), 8);
        const json h = json::parse(bytes.substr(8, hlen));
        const auto& t = h.at("model.norm.weight");
        QCOMPARE(t.at("dtype").get<std::string>(), std::string("F32"));
        const uint64_t at = 8 + hlen + t.at("data_offsets")[0].get<uint64_t>() + 4 * 3;
        std::memcpy(&bytes[at], &value, 4);
        qbtest::writeFile(st, bytes);
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"ppl", "--model", q(m), "--text", q(demoText()), "--max-windows", "1", "--ctx", "32"}),
                                "model.norm.weight", "non-finite", "flat index 3");
    }
    void generateLimits()
    {
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"generate", "--prompt", "Once upon a time", "--max-new", "600"}),
                                "max_position_embeddings 512", "--max-new");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"generate", "--prompt", "x", "--max-new", "1000000000000"}), "--max-new",
                                "over the limit");
    }
    void cudaOnCpuBuild()
    {
        Proc info = runCli({"info", "--json"}, 0);
        QVERIFY2(info.code == 0, info.describe().c_str());
        const json j = json::parse(info.out);
        if (j.at("cuda_available").get<bool>())
            QSKIP("CUDA is available here: nothing to refuse");
        ++g_cases;
        Proc p = runCli({"ppl", "--text", q(demoText()), "--device", "cuda"});
        QB_EXPECT_CLEAN_FAILURE(p, j.at("torch_cuda").get<bool>() ? "no CUDA device" : "this build has no CUDA");
        ++g_cases;
        QB_EXPECT_CLEAN_FAILURE(runCli({"generate", "--device", "cuda"}), "CUDA");
    }
    void accuracyRangeOnImport()
    {
        const fs::path d = dir("acc");
        qbtest::writeFile(d / "task_31_mmlu_INT8_Per_Row_direct.json", R"({"accuracy": -0.5})");
        qbtest::writeFile(d / "task_31_mmlu_FP8_Per_Row_direct.json", R"({"accuracy": 250})");
        qbtest::writeFile(d / "task_31_mmlu_FP32_direct.json", R"({"accuracy": 45.5})");
        ++g_cases;
        auto r = qb::loadResults({d});
        QCOMPARE(int(r.records.size()), 1); // the percent one
        QVERIFY(std::abs(r.records[0].metric("accuracy") - 0.455) < 1e-12);
        int named = 0;
        for (const auto& m : r.messages)
            if (contains(m, "accuracy") && contains(m, "out of range") &&
                (contains(m, "task_31_mmlu_INT8_Per_Row_direct.json") || contains(m, "task_31_mmlu_FP8_Per_Row_direct.json")))
                ++named;
        QCOMPARE(named, 2);
        // A QuantBench record with a fraction out of range is refused, naming where it came from.
        ++g_cases;
        qbtest::writeFile(d / "bad.jsonl", record("FP32", "mmlu_direct", {{"accuracy", -0.5}}, "t").dump() + "\n");
        auto b = qb::loadResults({d / "bad.jsonl"});
        QVERIFY(b.records.empty());
        QVERIFY(!b.messages.empty() && contains(b.messages[0], "bad.jsonl:1") && contains(b.messages[0], "accuracy"));
    }

    // ---- 16. inputs the fuzzers (fuzz/) found crashing a parser, kept as regression cases
    // A record field of the wrong type made nlohmann's value() throw type_error out of
    // ResultRecord::fromJson, through loadResultsJsonl (which promises never to throw): the whole
    // file was lost to an "unexpected error". Now that line is skipped and named.
    void fuzzRecordFieldOfWrongType_data()
    {
        QTest::addColumn<QString>("line");
        QTest::newRow("run_id number") << R"({"schema_version":2,"config":"X","task":"ppl","run_id":5})";
        QTest::newRow("status array") << R"({"schema_version":2,"config":"X","task":"ppl","status":[]})";
        QTest::newRow("provenance seconds string")
            << R"({"schema_version":2,"config":"X","task":"ppl","provenance":{"seconds":"5"}})";
        QTest::newRow("v1 ok string") << R"({"version":1,"config":"X","task":"ppl","ok":"yes"})";
        QTest::newRow("dataset bytes string")
            << R"({"schema_version":2,"config":"X","task":"ppl","datasets":[{"bytes":"12"}]})";
    }
    void fuzzRecordFieldOfWrongType()
    {
        QFETCH(QString, line);
        ++g_cases;
        const json j = json::parse(line.toStdString());
        QVERIFY_EXCEPTION_THROWN(qb::ResultRecord::fromJson(j, "here"), qb::Error);
        const fs::path jl = dir("fuzz_record") / (std::string(QTest::currentDataTag()) + ".jsonl");
        qbtest::writeFile(jl, record("FP32", "ppl", {{"ppl", 10.0}}, "2026-01-01T00:00:00Z").dump() + "\n" +
                                  line.toStdString() + "\n");
        qb::LoadedResults r;
        try {
            r = qb::loadResultsJsonl(jl);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        QCOMPARE(int(r.records.size()), 1);
        QVERIFY(!r.messages.empty() && contains(r.messages[0], jl.string() + ":2"));
    }
    // Same in MMLU JSON lines: a non-string "subject" or "split" threw type_error out of loadMmlu.
    void fuzzMmluJsonlFieldOfWrongType()
    {
        const fs::path f = dir("fuzz_mmlu") / "q.jsonl";
        qbtest::writeFile(f, R"({"question":"q","choices":["a","b","c","d"],"answer":0,"subject":5})" "\n"
                             R"({"question":"q","choices":["a","b","c","d"],"answer":1,"split":[]})" "\n"
                             R"({"question":"q","choices":["a","b","c","d"],"answer":2,"subject":"s"})" "\n");
        ++g_cases;
        qb::MmluDataset d;
        try {
            d = qb::loadMmlu(f);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        QCOMPARE(int(d.test.size()), 1);
        QCOMPARE(int(d.warnings.size()), 2);
        QVERIFY(contains(d.warnings[0], f.string() + ":1") && contains(d.warnings[1], f.string() + ":2"));
        ++g_cases;
        qb::MmluLoadOptions strict;
        strict.strict = true;
        QVERIFY_EXCEPTION_THROWN(qb::loadMmlu(f, strict), qb::Error);
    }
    // Found by fuzz_sweep_file in CI: a number too large for its C++ type ({"seed": 1e300}, a
    // group size of 1e300) went through get<int>(), a float-to-integer conversion out of range,
    // which is undefined behaviour, not an error. Each must now be an error naming the key.
    void fuzzNumberOutOfRange_data()
    {
        QTest::addColumn<QString>("sweep");
        QTest::addColumn<QString>("key");
        const QString t = R"("tasks":{"ppl":{}},"schemes":["INT8_Per_Row"])";
        QTest::newRow("seed 1e300") << R"({"seed":1e300,)" + t + "}" << "seed";
        QTest::newRow("seed negative") << R"({"seed":-1,)" + t + "}" << "seed";
        QTest::newRow("ctx 1e300") << R"({"tasks":{"ppl":{"ctx":1e300}},"schemes":["INT8_Per_Row"]})" << "ctx";
        QTest::newRow("ctx fractional") << R"({"tasks":{"ppl":{"ctx":64.5}},"schemes":["INT8_Per_Row"]})" << "ctx";
        QTest::newRow("calibration length") << R"({"calibration":{"length":1e19},)" + t + "}" << "length";
        QTest::newRow("group size") << R"({"tasks":{"ppl":{}},"schemes":{"matrix":{"granularities":[1e300]}}})"
                                    << "group size";
        QTest::newRow("alpha") << R"({"tasks":{"ppl":{}},"schemes":{"smoothquant":[{"alpha":1e400}]}})" << "alpha";
    }
    void fuzzNumberOutOfRange()
    {
        QFETCH(QString, sweep);
        QFETCH(QString, key);
        ++g_cases;
        const fs::path f = dir("fuzz_numbers") / (std::string(QTest::currentDataTag()) + ".json");
        qbtest::writeFile(f, sweep.toStdString());
        try {
            qb::SweepSpec s = qb::SweepSpec::load(f);
            (void)s.configs();
            QFAIL("accepted");
        } catch (const qb::Error& e) {
            QVERIFY2(contains(e.what(), f.string()) && contains(e.what(), key.toStdString()), e.what());
        } catch (const std::exception& e) {
            // nlohmann refuses 1e400 at parse time; that is fine as long as it is a named qb::Error.
            QFAIL(e.what());
        }
    }
    void jsonNumberBounds()
    {
        ++g_cases;
        int32_t i = 7;
        QVERIFY(qb::jsonNumber(json(2147483647), i) && i == 2147483647);
        QVERIFY(!qb::jsonNumber(json(2147483648LL), i));
        QVERIFY(!qb::jsonNumber(json(-2147483649LL), i));
        QVERIFY(qb::jsonNumber(json(3.0), i) && i == 3);
        QVERIFY(!qb::jsonNumber(json(3.5), i));
        QVERIFY(!qb::jsonNumber(json("3"), i));
        uint64_t u = 0;
        QVERIFY(qb::jsonNumber(json(18446744073709551615ULL), u) && u == 18446744073709551615ULL);
        QVERIFY(!qb::jsonNumber(json(-1), u));
        QVERIFY(!qb::jsonNumber(json(18446744073709551616.0), u));
        int64_t l = 0;
        QVERIFY(!qb::jsonNumber(json(9223372036854775808.0), l));
        QVERIFY(qb::jsonNumber(json(-9223372036854775808.0), l) && l == std::numeric_limits<int64_t>::min());
        float f = 0;
        QVERIFY(!qb::jsonNumber(json(1e300), f));
        QVERIFY(qb::jsonNumber(json(0.5), f) && f == 0.5f);
        double d = 0;
        QVERIFY(qb::jsonNumber(json(1e300), d) && d == 1e300);
    }
};

QTEST_GUILESS_MAIN(TestHostile)
#include "tst_hostile.moc"
