// Result records, the JSON-lines results file (append, torn last line, old schema versions),
// report-style import, the sweep file and the sweep runner (resume, failures, shards, cancel)
// on stub backends.
#include "qbtest.h"

#include "core/results/import.h"
#include "core/results/store.h"
#include "core/run/runner.h"
#include "core/run/sweep.h"
#include "core/util/error.h"

#include <QTemporaryDir>

#include <atomic>
#include <cmath>

namespace fs = std::filesystem;
using namespace qb;

namespace {

ResultRecord rec(const std::string& config, const std::string& task, double acc)
{
    ResultRecord r;
    r.config = config;
    r.task = task;
    r.metrics["accuracy"] = acc;
    r.metrics["n"] = 10;
    r.correct = "1101001110";
    r.predictions = "ABCD?ABCDA";
    r.question_set = "abc";
    r.datasets.push_back({"mmlu", "/x/mmlu", "ff00", 1234});
    return r;
}

// Records every call; can throw on apply for a named config or on a task.
class StubBackend : public EvalBackend {
public:
    std::string failApply, failTask;
    std::vector<std::string> calls;
    std::atomic<bool>* cancelAfterFirst = nullptr;
    int runs = 0;
    void prepare(const SweepSpec&, const EvalHooks&) override { calls.push_back("prepare"); }
    nlohmann::json apply(const QuantScheme& s, const EvalHooks&) override
    {
        calls.push_back("apply " + s.name());
        if (s.name() == failApply)
            throw Error("bad shape for " + s.name());
        return {{"linears", 7}};
    }
    void run(const QuantScheme& s, const std::string& t, ResultRecord& r, const EvalHooks& h) override
    {
        h.check();
        calls.push_back("run " + s.name() + " " + t);
        if (t == failTask && !s.isBaseline())
            throw std::runtime_error("out of memory");
        r.metrics["value"] = double(s.name().size());
        if (++runs == 1 && cancelAfterFirst)
            cancelAfterFirst->store(true);
    }
    std::string deviceName() const override { return "stub"; }
};

SweepSpec spec3()
{
    nlohmann::json j = {{"model", "/m"},
                        {"schemes", {"INT8_Per_Row", "FP8_Per_Tensor_Fake"}},
                        {"tasks", {{"ppl", {{"ctx", 64}}}, {"throughput", nlohmann::json::object()}}}};
    return SweepSpec::fromJson(j, "test.json");
}

} // namespace

class TestResults : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void recordRoundTrip()
    {
        ResultRecord r = rec("INT8_Per_Row", task::MmluDirect, 0.6);
        r.metrics["bad"] = NAN;
        auto j = r.toJson();
        QCOMPARE(j["schema_version"].get<int>(), kResultSchemaVersion);
        QVERIFY(j["metrics"]["bad"].is_null()); // JSON has no NaN
        ResultRecord b = ResultRecord::fromJson(j, "x");
        QCOMPARE(b.config, r.config);
        QCOMPARE(b.correct, r.correct);
        QCOMPARE(b.predictions, r.predictions);
        QCOMPARE(b.metric("accuracy"), 0.6);
        QVERIFY(std::isnan(b.metric("bad")));
        QCOMPARE(b.datasets.size(), size_t(1));
        QCOMPARE(b.datasets[0].bytes, uint64_t(1234));
    }

    void oldSchemaAndNewerRefused()
    {
        nlohmann::json v1 = {{"version", 1}, {"config", "INT8_Per_Row"}, {"task", "ppl"}, {"result", {{"ppl", 9.5}}}, {"ok", true}};
        ResultRecord r = ResultRecord::fromJson(v1, "old.json");
        QCOMPARE(r.schema_version, 1);
        QCOMPARE(r.metric("ppl"), 9.5);
        QVERIFY(r.ok());
        nlohmann::json v9 = {{"schema_version", 9}, {"config", "a"}, {"task", "ppl"}};
        try {
            ResultRecord::fromJson(v9, "new.json");
            QFAIL("a newer schema must be refused");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("new.json") != std::string::npos);
            QVERIFY(std::string(e.what()).find("newer") != std::string::npos);
        }
    }

    void appendAndTornLastLine()
    {
        QTemporaryDir tmp;
        fs::path dir = tmp.path().toStdString();
        ResultsFile f(dir / "run");
        f.append(rec("BF16", task::MmluDirect, 0.5));
        f.append(rec("INT8_Per_Row", task::MmluDirect, 0.4));
        QCOMPARE(f.load().records.size(), size_t(2));
        // simulate a crash in the middle of a write: half a line, no newline
        std::string line = rec("FP8_Per_Row", task::MmluDirect, 0.3).toJson().dump();
        {
            std::ofstream o(f.path(), std::ios::app | std::ios::binary);
            o << line.substr(0, line.size() / 2);
        }
        auto l = f.load();
        QCOMPARE(l.records.size(), size_t(2));
        QCOMPARE(l.messages.size(), size_t(1));
        QVERIFY(l.messages[0].find("torn last line") != std::string::npos);
        QVERIFY(l.messages[0].find(":3") != std::string::npos);
        // the next append starts on its own line and is readable
        f.append(rec("FP8_Per_Row", task::MmluDirect, 0.3));
        l = f.load();
        QCOMPARE(l.records.size(), size_t(3));
        QCOMPARE(l.records[2].config, std::string("FP8_Per_Row"));
        QCOMPARE(l.messages.size(), size_t(1)); // the fragment is now a bad middle line
        QVERIFY(l.messages[0].find("not valid JSON") != std::string::npos);
    }

    void jsonExportRoundTrip()
    {
        QTemporaryDir tmp;
        fs::path p = fs::path(tmp.path().toStdString()) / "all.json";
        writeResultsJson(p, {rec("BF16", "ppl", 1), rec("INT8_Per_Row", "ppl", 0.2)}); // accuracy is a fraction
        auto l = loadResults({p});
        QCOMPARE(l.records.size(), size_t(2));
        QVERIFY(l.messages.empty());
        QVERIFY(!fs::exists(p.string() + ".tmp"));
    }

    void importReportStyleFolder()
    {
        QTemporaryDir tmp;
        fs::path d = tmp.path().toStdString();
        qbtest::writeFile(d / "task_31_ppl_INT8_Per_Row.json", R"({"perplexity": 12.5, "ppl_stderr": 0.1, "notes": "x"})");
        qbtest::writeFile(d / "task_31_mmlu_BF16_direct.json", R"({"accuracy": 45.0, "total": 200, "correct": 90})");
        qbtest::writeFile(d / "task_31_mmlu_FP8_Per_Row_Fake_generate.json", R"({"acc": 0.25, "unparseable": 3})");
        qbtest::writeFile(d / "task_32_throughput_results.json",
                          R"({"BF16": {"prefill_samples_per_sec": 10.5, "decode_tokens_per_sec": 33, "mmlu_throughput": 4},
                              "INT8_Per_Row": {"prefill": {"samples_per_s": 12}, "decode": "40.5", "weird": true}})");
        qbtest::writeFile(d / "task_33_int8_results.json",
                          R"({"SmoothQuant_INT8_W8A8": {"ppl": 13.0, "mmlu_acc": "44.5%"}, "comment": "hello"})");
        qbtest::writeFile(d / "broken.json", R"({"ppl": 1.0,)");
        qbtest::writeFile(d / "task_31_ppl_X.json", R"([1, 2, 3])");
        qbtest::writeFile(d / "flat_no_name.json", R"({"ppl": 3.0})");
        qbtest::writeFile(d / "task_31_mmlu_Y_direct.json", R"({"accuracy": 250})");
        auto l = loadResults({d});
        auto find = [&](const std::string& c, const std::string& t) -> const ResultRecord* {
            for (const auto& r : l.records)
                if (r.config == c && r.task == t)
                    return &r;
            return nullptr;
        };
        auto msg = [&](const std::string& file, const std::string& what) {
            for (const auto& m : l.messages)
                if (m.find(file) != std::string::npos && m.find(what) != std::string::npos)
                    return true;
            return false;
        };
        const ResultRecord* p = find("INT8_Per_Row", task::Ppl);
        QVERIFY(p);
        QCOMPARE(p->metric("ppl"), 12.5);
        QCOMPARE(p->metric("ppl_stderr"), 0.1);
        QVERIFY(msg("task_31_ppl_INT8_Per_Row.json", "'notes'"));
        const ResultRecord* d1 = find("BF16", task::MmluDirect);
        QVERIFY(d1);
        QCOMPARE(d1->metric("accuracy"), 0.45); // percent -> fraction
        QCOMPARE(d1->metric("n"), 200.0);
        QVERIFY(std::abs(d1->metric("accuracy_stderr") - std::sqrt(0.45 * 0.55 / 200)) < 1e-12);
        const ResultRecord* g = find("FP8_Per_Row_Fake", task::MmluGenerate);
        QVERIFY(g);
        QCOMPARE(g->metric("accuracy"), 0.25);
        QCOMPARE(g->metric("unparseable"), 3.0);
        const ResultRecord* t1 = find("BF16", task::Throughput);
        QVERIFY(t1);
        QCOMPARE(t1->metric("prefill_samples_per_s"), 10.5);
        QCOMPARE(t1->metric("decode_tokens_per_s"), 33.0);
        QCOMPARE(t1->metric("mmlu_questions_per_s"), 4.0);
        const ResultRecord* t2 = find("INT8_Per_Row", task::Throughput);
        QVERIFY(t2);
        QCOMPARE(t2->metric("prefill_samples_per_s"), 12.0);
        QCOMPARE(t2->metric("decode_tokens_per_s"), 40.5);
        QVERIFY(msg("task_32_throughput_results.json", "'weird'"));
        const ResultRecord* s1 = find("SmoothQuant_INT8_W8A8", task::Ppl);
        QVERIFY(s1);
        QCOMPARE(s1->metric("ppl"), 13.0);
        const ResultRecord* s2 = find("SmoothQuant_INT8_W8A8", task::MmluDirect);
        QVERIFY(s2);
        QVERIFY(std::abs(s2->metric("accuracy") - 0.445) < 1e-12);
        QVERIFY(msg("task_33_int8_results.json", "'comment'"));
        QVERIFY(msg("broken.json", "not valid JSON"));
        QVERIFY(msg("task_31_ppl_X.json", "expected a JSON object"));
        QVERIFY(msg("flat_no_name.json", "does not name a config"));
        QVERIFY(msg("task_31_mmlu_Y_direct.json", "out of range (a fraction must be in [0, 1], a percent in [0, 100])"));
        QVERIFY(!find("Y", task::MmluDirect));
        for (const auto& r : l.records)
            QVERIFY(!r.source.empty());
    }

    void sweepFileMatrixAndErrors()
    {
        nlohmann::json j = {{"model", "m"},
                            {"baseline_dtype", "BF16"},
                            {"schemes", {{"matrix", {{"dtypes", {"INT8", "FP8"}}, {"granularities", {"tensor", "row", "group64"}},
                                                     {"modes", {"fake", "real"}}}},
                                         {"smoothquant", {{{"dtype", "INT8"}}, {{"dtype", "FP8"}, {"alpha", 0.75}}}}}},
                            {"tasks", {{"mmlu", {{"shots", 2}, {"generate", false}}}}}};
        SweepSpec s = SweepSpec::fromJson(j, "sweep.json", "/base");
        QCOMPARE(s.model, std::string("/base/m"));
        QCOMPARE(s.schemes.size(), size_t(2 * 3 * 2 + 2));
        auto c = s.configs();
        QCOMPARE(c[0].name(), std::string("BF16"));
        bool sawSq = false, sawG64 = false;
        for (const auto& q : c) {
            sawSq |= q.name() == "SmoothQuant_FP8_W8A8_Alpha0.75";
            sawG64 |= q.name() == "INT8_Per_Group_64_Fake";
        }
        QVERIFY(sawSq);
        QVERIFY(sawG64);
        auto tasks = s.tasks.enabledTasks();
        QCOMPARE(tasks, std::vector<std::string>{task::MmluDirect});
        QCOMPARE(s.tasks.mmlu.shots, 2);
        // save/load round trip keeps the matrix
        QTemporaryDir tmp;
        fs::path f = fs::path(tmp.path().toStdString()) / "s.json";
        s.save(f);
        SweepSpec s2 = SweepSpec::load(f);
        QCOMPARE(s2.schemes.size(), s.schemes.size());
        // a typo is an error naming the file and the key
        nlohmann::json bad = {{"model", "m"}, {"tasks", {{"mmlu", {{"shot", 2}}}}}};
        try {
            SweepSpec::fromJson(bad, "typo.json");
            QFAIL("unknown key accepted");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("typo.json") != std::string::npos);
            QVERIFY(std::string(e.what()).find("\"shot\"") != std::string::npos);
        }
        nlohmann::json badG = {{"model", "m"}, {"schemes", {{"matrix", {{"granularities", {"colum"}}}}}}};
        QVERIFY_EXCEPTION_THROWN(SweepSpec::fromJson(badG, "g.json"), Error);
        // a misspelt scheme name is reported with the file and the list entry
        nlohmann::json badName = {{"model", "m"}, {"schemes", {"INT8_Per_Row", "INT8_Per_Lump"}}};
        try {
            SweepSpec::fromJson(badName, "names.json");
            QFAIL("unknown scheme name accepted");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("names.json: schemes[1]") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("Lump") != std::string::npos, e.what());
        }
    }

    void runnerRecordsEverythingAndResumes()
    {
        QTemporaryDir tmp;
        fs::path out = tmp.path().toStdString();
        SweepSpec s = spec3();
        StubBackend b;
        std::vector<SweepProgress> seen;
        RunOptions o;
        o.out_dir = out;
        o.progress = [&](const SweepProgress& p) { seen.push_back(p); };
        auto sum = runSweep(s, b, o);
        QCOMPARE(sum.recorded, int64_t(6));
        QCOMPARE(sum.failed, int64_t(0));
        QVERIFY(!sum.cancelled);
        auto l = ResultsFile(out).load();
        QCOMPARE(l.records.size(), size_t(6));
        QCOMPARE(l.records[0].config, std::string("FP32"));
        QCOMPARE(l.records[0].provenance.device, std::string("stub"));
        QVERIFY(!l.records[0].provenance.started.empty());
        QCOMPARE(l.records[0].settings["task"]["ctx"].get<int>(), 64);
        QVERIFY(l.records[0].settings.contains("protocol"));
        QVERIFY(fs::exists(out / "sweep.json"));
        QVERIFY(!seen.empty());
        QCOMPARE(seen.back().done, int64_t(6));
        QCOMPARE(seen.back().configs, 3);
        // second run: nothing to do, nothing quantized
        StubBackend b2;
        auto sum2 = runSweep(s, b2, o);
        QCOMPARE(sum2.recorded, int64_t(0));
        QCOMPARE(sum2.skipped, int64_t(6));
        for (const auto& c : b2.calls)
            QVERIFY(c.rfind("apply", 0) != 0);
    }

    void runnerCancelThenResumeMatchesUninterrupted()
    {
        QTemporaryDir tmp;
        fs::path out = fs::path(tmp.path().toStdString()) / "a";
        SweepSpec s = spec3();
        std::atomic<bool> cancel{false};
        StubBackend b;
        b.cancelAfterFirst = &cancel;
        RunOptions o;
        o.out_dir = out;
        o.cancel = &cancel;
        auto sum = runSweep(s, b, o);
        QVERIFY(sum.cancelled);
        QCOMPARE(sum.recorded, int64_t(1));
        cancel = false;
        StubBackend b2;
        auto sum2 = runSweep(s, b2, o);
        QVERIFY(!sum2.cancelled);
        QCOMPARE(sum2.skipped, int64_t(1));
        QCOMPARE(sum2.recorded, int64_t(5));
        auto l = ResultsFile(out).load();
        // same records as an uninterrupted run: every key once, same values
        std::map<std::string, double> got;
        for (const auto& r : l.records)
            got[r.key()] = r.metric("value");
        QCOMPARE(got.size(), size_t(6));
        for (const auto& [k, v] : got)
            QCOMPARE(v, double(k.substr(0, k.find('|')).size()));
    }

    void runnerFailedConfigRecordedAndSweepContinues()
    {
        QTemporaryDir tmp;
        fs::path out = tmp.path().toStdString();
        SweepSpec s = spec3();
        StubBackend b;
        b.failApply = "INT8_Per_Row";
        b.failTask = task::Throughput;
        RunOptions o;
        o.out_dir = out;
        auto sum = runSweep(s, b, o);
        QCOMPARE(sum.recorded, int64_t(6));
        QCOMPARE(sum.failed, int64_t(3)); // 2 tasks of INT8_Per_Row, throughput of FP8
        auto l = ResultsFile(out).load();
        int failed = 0;
        for (const auto& r : l.records) {
            if (r.config == "INT8_Per_Row") {
                QCOMPARE(r.status, std::string("failed"));
                QVERIFY(r.error.find("bad shape") != std::string::npos);
                ++failed;
            }
            if (r.config == "FP8_Per_Tensor_Fake" && r.task == task::Throughput) {
                QVERIFY(!r.ok());
                QVERIFY(r.error.find("out of memory") != std::string::npos);
            }
            if (r.config == "FP8_Per_Tensor_Fake" && r.task == task::Ppl)
                QVERIFY(r.ok());
        }
        QCOMPARE(failed, 2);
        // resume retries the failed ones only
        StubBackend b2;
        auto sum2 = runSweep(s, b2, o);
        QCOMPARE(sum2.recorded, int64_t(3));
        QCOMPARE(sum2.failed, int64_t(0));
    }

    void shardsAndOnlyConfig()
    {
        SweepSpec s = spec3();
        auto a = selectConfigs(s, 0, 2, "");
        auto b = selectConfigs(s, 1, 2, "");
        QCOMPARE(a.size(), size_t(2));
        QCOMPARE(b.size(), size_t(1));
        QCOMPARE(a[0].name(), std::string("FP32"));
        QCOMPARE(b[0].name(), std::string("INT8_Per_Row"));
        QCOMPARE(a[1].name(), std::string("FP8_Per_Tensor_Fake"));
        auto one = selectConfigs(s, 0, 1, "FP8_Per_Tensor_Fake");
        QCOMPARE(one.size(), size_t(1));
        QVERIFY_EXCEPTION_THROWN(selectConfigs(s, 0, 1, "nope"), Error);
        QVERIFY_EXCEPTION_THROWN(selectConfigs(s, 2, 2, ""), Error);
    }
};

QTEST_GUILESS_MAIN(TestResults)
#include "tst_results.moc"
