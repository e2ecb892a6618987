// Result records, the JSON-lines results file (append, torn last line, old schema versions),
// report-style import, the sweep file and the sweep runner (resume, failures, shards, cancel)
// on stub backends.
#include "qbtest.h"

#include "core/data/sha256.h"
#include "core/report/report.h"
#include "core/report/rows.h"
#include "core/results/import.h"
#include "core/results/lm_eval.h"
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

// Whether one of the lines names `file` (empty: any) and says `what`.
bool mentions(const std::vector<std::string>& lines, const std::string& file, const std::string& what)
{
    for (const auto& m : lines)
        if (m.find(file) != std::string::npos && m.find(what) != std::string::npos)
            return true;
    return false;
}

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

    // The window's export before it wrote records: {"quantbench_results": 1, "results": [...]}
    // (per-config entries, metrics as {value, stderr, n} under the window's own keys). core's
    // loader reads it as a legacy layout into records, one per task.
    void legacyWindowExportOpens()
    {
        QTemporaryDir d;
        const fs::path f = fs::path(d.path().toStdString()) / "old_export.json";
        ResultRecord inner;
        inner.config = "INT8_Per_Row_Fake";
        inner.task = task::MmluDirect;
        inner.metrics = {{"accuracy", 0.25}, {"n", 40}};
        nlohmann::json doc = {
            {"quantbench_results", 1},
            {"results",
             {{{"config", "FP32"}, {"scheme", QuantScheme::baseline("FP32").toJson()}, {"status", "ok"}, {"seconds", 3.0},
               {"metrics",
                {{"ppl", {{"value", 8.5}, {"stderr", 0.05}, {"n", 4096}}},
                 {"mmlu_direct", {{"value", 0.3}, {"stderr", 0.02}, {"n", 100}}},
                 {"decode_tokens_per_s", {{"value", 900.0}, {"stderr", nullptr}, {"n", 5}}},
                 {"weight_mib", {{"value", 2.0}, {"stderr", nullptr}, {"n", 0}}},
                 {"matmul_sqnr_db", {{"value", nullptr}, {"stderr", nullptr}, {"n", 0}}},
                 {"kl_divergence", 0.001}}}},
              {{"config", "INT8_Per_Tensor"}, {"status", "failed"}, {"error", "simulated failure"}, {"metrics", nlohmann::json::object()}},
              {{"config", "INT8_Per_Row_Fake"}, {"status", "ok"}, {"metrics", {{"ppl", 9.0}}},
               {"records", {inner.toJson()}}},
              {{"config", "FP8_Per_Row"}, {"metrics", {{"made_up_metric", 1}}}}}}};
        qbtest::writeFile(f, doc.dump(2));
        auto loaded = loadResults({f});
        // FP32: ppl, mmlu_direct, throughput (decode + weights), ppl carries the KL; the null
        // SQNR is "not measured". INT8_Per_Tensor: one failed record. INT8_Per_Row_Fake: its
        // core records win over the flattened metrics. FP8_Per_Row: an unknown key, said so.
        QCOMPARE(loaded.messages.size(), size_t(1));
        QVERIFY2(loaded.messages[0].find("made_up_metric") != std::string::npos, loaded.messages[0].c_str());
        QVERIFY(loaded.messages[0].find(f.string()) != std::string::npos);
        auto rows = groupRecords(loaded.records);
        QCOMPARE(rows.size(), size_t(3));
        const ConfigRow& fp32 = rows[0];
        QCOMPARE(fp32.config, std::string("FP32"));
        QCOMPARE(fp32.source, f.string());
        QCOMPARE(fp32.group, std::string("Baseline"));
        QCOMPARE(fp32.records.size(), size_t(3));
        QCOMPARE(fp32.value("ppl.ppl"), 8.5);
        QCOMPARE(fp32.stderrOf("ppl.ppl"), 0.05);
        QCOMPARE(fp32.value("ppl.n_tokens"), 4096.0);
        QCOMPARE(fp32.value("ppl.kl_mean"), 0.001);
        QCOMPARE(fp32.value("mmlu_direct.accuracy"), 0.3);
        QCOMPARE(fp32.value("mmlu_direct.n"), 100.0);
        QCOMPARE(fp32.value("throughput.decode_tokens_per_s"), 900.0);
        QCOMPARE(fp32.value("throughput.weight_bytes"), 2.0 * 1024 * 1024);
        QVERIFY(std::isnan(fp32.value("matmul_accuracy.sqnr_db")));
        QCOMPARE(fp32.seconds(), 3.0);
        QCOMPARE(rows[1].status(), std::string("failed"));
        QCOMPARE(rows[1].error(), std::string("all: simulated failure"));
        QCOMPARE(rows[2].records.size(), size_t(1));
        QCOMPARE(rows[2].value("mmlu_direct.accuracy"), 0.25);
        // The records write out in the one current format and read back the same.
        const fs::path out = fs::path(d.path().toStdString()) / "converted.json";
        writeResultsJson(out, loaded.records);
        auto again = loadResults({out});
        QVERIFY(again.messages.empty());
        QCOMPARE(again.records.size(), loaded.records.size());
        QCOMPARE(groupRecords(again.records)[0].value("ppl.ppl"), 8.5);
        // A run folder's sweep.json is not read as results when the folder is opened.
        SweepSpec spec;
        spec.model = "m";
        spec.schemes = {QuantScheme::parse("INT8_Per_Row")};
        spec.save(fs::path(d.path().toStdString()) / "sweep.json");
        auto folder = loadResults({fs::path(d.path().toStdString())});
        QVERIFY2(folder.messages.size() == 1, folder.messages.empty() ? "" : folder.messages.back().c_str()); // made_up_metric
        QCOMPARE(folder.records.size(), loaded.records.size() + again.records.size());
        auto named = loadResults({fs::path(d.path().toStdString()) / "sweep.json"});
        QVERIFY(named.records.empty() && named.messages.size() == 1);
    }

    // One grouping for the report, the CSV and the window: a metric no code names becomes a
    // column; stderr rides with its metric; report-style files of a folder are one source.
    void rowsAndGenericColumns()
    {
        ResultRecord a;
        a.config = "INT8_Per_Row";
        a.task = task::Ppl;
        a.metrics = {{"ppl", 9.0}, {"ppl_stderr", 0.1}, {"kl_p999", 0.5}};
        a.source = "/r/run1/results.jsonl";
        ResultRecord b = a;
        b.task = task::Throughput;
        b.metrics = {{"decode_tokens_per_s", 10}};
        ResultRecord c = a;
        c.source = "/r/run2/results.jsonl";
        c.metrics["ppl"] = 9.5;
        ResultRecord imp1 = a, imp2 = b;
        imp1.source = "/r/scripts/task_31_ppl_INT8_Per_Row.json";
        imp2.source = "/r/scripts/task_32_throughput_results.json";
        imp1.settings = {{"imported_from", "task_31_ppl_INT8_Per_Row.json"}};
        imp2.settings = {{"imported_from", "task_32_throughput_results.json"}};
        auto rows = groupRecords({a, b, c, imp1, imp2});
        QCOMPARE(rows.size(), size_t(3));
        QCOMPARE(rows[0].records.size(), size_t(2));
        QCOMPARE(rows[2].source, std::string("/r/scripts"));
        QCOMPARE(rows[2].records.size(), size_t(2));
        QCOMPARE(groupRecords({a, b, c}, RowKey::Config).front().value("ppl.ppl"), 9.5); // the last ok one wins
        auto cols = metricColumns(rows);
        std::vector<std::string> keys;
        for (const auto& col : cols)
            keys.push_back(col.key);
        std::vector<std::string> expected = {"ppl.ppl", "throughput.decode_tokens_per_s", "ppl.kl_p999"};
        QCOMPARE(keys, expected);
        QCOMPARE(cols[2].label, std::string("ppl: kl_p999"));
        std::string csv = rowsTable(rows).csv();
        QVERIFY2(csv.rfind("config,source,status,ppl.ppl,ppl.ppl_stderr,throughput.decode_tokens_per_s,ppl.kl_p999,seconds,error\n", 0) == 0,
                 csv.c_str());
        QVERIFY(csv.find(",0.5,") != std::string::npos);
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
        auto msg = [&](const std::string& file, const std::string& what) { return mentions(l.messages, file, what); };
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

    // Issue 11: every layout of a seed-style study folder, experiments kept apart, percent or
    // fraction decided per file, the file's precision kept, broken files named, the rest loaded.
    void importSeedStudyFolder()
    {
        QTemporaryDir tmp;
        const fs::path d = fs::path(tmp.path().toStdString()) / "seed_results";
        fs::create_directories(d);
        qbtest::writeFile(d / "task_31_ppl_BF16.json", R"({"config": "BF16", "ppl": 12.3456, "num_samples": 40, "seq_len": 512})");
        qbtest::writeFile(d / "task_31_ppl_INT8_Per_Row.json", R"({"config": "INT8_Per_Row", "ppl": 12.61, "num_samples": 40, "seq_len": 512})");
        qbtest::writeFile(d / "task_31_mmlu_BF16_direct.json",
                          R"({"config": "BF16", "method": "direct", "accuracy": 0.519, "correct": 519, "total": 1000})");
        qbtest::writeFile(d / "task_31_mmlu_BF16_generate.json",
                          R"({"config": "BF16", "method": "generate", "acc": 51.1, "num_questions": 1000})");
        qbtest::writeFile(d / "task_31_mmlu_INT8_Per_Row_direct.json", R"({"config": "INT8_Per_Row", "accuracy": 0.501, "total": 1000})");
        qbtest::writeFile(d / "task_32_mmlu_fake_quant_results.json",
                          R"({"BF16": {"mmlu_direct": 52.5, "mmlu_generate": 50.0},
                              "INT8_Per_Row_Fake": {"mmlu_direct": "51.9", "mmlu_generate": "n/a"}})");
        qbtest::writeFile(d / "task_32_throughput_results.json",
                          R"({"BF16": {"mmlu_direct": 52.5, "mmlu_generate": 50.0, "prefill_samples_per_sec": 177.52,
                                       "decode_tokens_per_sec": 31.4, "num_samples": 200},
                              "INT8_Per_Row": {"mmlu_direct": 51.0, "mmlu_generate": 49.5, "prefill_samples_per_sec": 150.25,
                                               "decode_tokens_per_sec": 40.75, "num_samples": 200}})");
        qbtest::writeFile(d / "task_33_int8_results.json",
                          R"({"method": "smoothquant", "smoothquant": true, "alpha": 0.5, "ppl": 12.9,
                              "mmlu_direct": {"accuracy": 50.2}, "mmlu_generate": {"accuracy": 48.7}})");
        qbtest::writeFile(d / "task_33_fp8_results.json",
                          R"({"method": "smoothquant", "smoothquant": true, "alpha": 0.85, "ppl": 12.7,
                              "mmlu_direct": {"accuracy": 0.511}, "mmlu_generate": {"accuracy": 0.49}})");
        qbtest::writeFile(d / "task_33_matmul_accuracy_results.json",
                          R"({"int8": {"max_abs_error": 0.031, "mean_abs_error": 0.0042, "relative_error": 0.0081},
                              "fp8": {"max_abs_error": 0.052, "mean_abs_error": 0.0071, "relative_error": 0.0139}})");
        // broken ones: truncated, wrong type, unknown key
        qbtest::writeFile(d / "task_32_throughput_old.json", R"({"BF16": {"prefill_samples_per_sec": 1)");
        qbtest::writeFile(d / "task_31_ppl_FP8_Per_Row.json", R"({"ppl": [12.0], "flavour": 3})");
        auto l = loadResults({d});
        auto find = [&](const std::string& c, const std::string& t, const std::string& exp) -> const ResultRecord* {
            for (const auto& r : l.records)
                if (r.config == c && r.task == t && r.settings.value("experiment", std::string()) == exp)
                    return &r;
            return nullptr;
        };
        auto msg = [&](const std::string& file, const std::string& what) { return mentions(l.messages, file, what); };
        auto note = [&](const std::string& file, const std::string& what) { return mentions(l.notes, file, what); };
        auto near = [](double a, double b) { return std::abs(a - b) < 1e-12; };
        // Task 3.1: per-config files, fraction in one file and percent in another
        const ResultRecord* p = find("BF16", task::Ppl, "Task 3.1");
        QVERIFY(p);
        QCOMPARE(p->metric("ppl"), 12.3456);
        QCOMPARE(p->settings["ctx"].get<int>(), 512);
        const ResultRecord* d31 = find("BF16", task::MmluDirect, "Task 3.1");
        QVERIFY(d31);
        QVERIFY(near(d31->metric("accuracy"), 0.519));
        QCOMPARE(d31->metric("n"), 1000.0);
        QVERIFY(note("task_31_mmlu_BF16_direct.json", "read as fractions"));
        QVERIFY(!msg("task_31_mmlu_BF16_direct.json", "")); // a good file: notes only, no problems
        const ResultRecord* g31 = find("BF16", task::MmluGenerate, "Task 3.1");
        QVERIFY(g31);
        QVERIFY(near(g31->metric("accuracy"), 0.511));
        QVERIFY(note("task_31_mmlu_BF16_generate.json", "read as percentages"));
        // Task 3.2: config-keyed files in percent; "51.9" as a string is fine, "n/a" is named
        const ResultRecord* f32 = find("INT8_Per_Row_Fake", task::MmluDirect, "Task 3.2");
        QVERIFY(f32);
        QVERIFY(near(f32->metric("accuracy"), 0.519));
        QVERIFY(!find("INT8_Per_Row_Fake", task::MmluGenerate, "Task 3.2"));
        QVERIFY(msg("task_32_mmlu_fake_quant_results.json", "\"n/a\" is not a number"));
        const ResultRecord* t32 = find("BF16", task::Throughput, "Task 3.2");
        QVERIFY(t32);
        QCOMPARE(t32->metric("prefill_samples_per_s"), 177.52);
        QCOMPARE(t32->metric("decode_tokens_per_s"), 31.4);
        QVERIFY(find("INT8_Per_Row", task::MmluGenerate, "Task 3.2"));
        // Task 3.3: flat objects named by the file and their flags; matmul per format
        QVERIFY(note("task_33_int8_results.json", "config 'SmoothQuant_INT8_W8A8' from the file name and its flags"));
        QVERIFY(!msg("task_33_int8_results.json", ""));
        QVERIFY(!msg("task_32_throughput_results.json", ""));
        const ResultRecord* sq = find("SmoothQuant_INT8_W8A8", task::Ppl, "Task 3.3");
        QVERIFY(sq);
        QCOMPARE(sq->metric("ppl"), 12.9);
        QVERIFY(near(find("SmoothQuant_INT8_W8A8", task::MmluDirect, "Task 3.3")->metric("accuracy"), 0.502));
        const std::string fp8 = QuantScheme::smoothQuant(QDType::FP8_E4M3, 0.85).name();
        const ResultRecord* sf = find(fp8, task::MmluGenerate, "Task 3.3");
        QVERIFY2(sf, fp8.c_str());
        QVERIFY(near(sf->metric("accuracy"), 0.49));
        QCOMPARE(sf->settings["smoothquant_alpha"].get<double>(), 0.85);
        const ResultRecord* mm = find("INT8_Per_Row_W8A8", task::Matmul, "Task 3.3");
        QVERIFY(mm);
        QCOMPARE(mm->metric("max_abs_error"), 0.031);
        QCOMPARE(mm->metric("rel_fro_error"), 0.0081);
        QCOMPARE(mm->metric("mean_abs_error"), 0.0042);
        // broken files named with the reason; the rest loaded
        QVERIFY(msg("task_32_throughput_old.json", "not valid JSON"));
        QVERIFY(msg("task_31_ppl_FP8_Per_Row.json", "'ppl': a list"));
        QVERIFY(msg("task_31_ppl_FP8_Per_Row.json", "'flavour'"));

        // One source per experiment, labelled with the folder and the experiment.
        const auto sources = resultSources(l.records);
        QCOMPARE(int(sources.size()), 3);
        QCOMPARE(sourceLabel(sources[0]).rfind("seed_results · Task 3.", 0), size_t(0));

        // The report: one section per experiment, never merged, precision kept, cross table.
        const Report rep = buildReport(l.records);
        const Table* a31 = rep.table("Task 3.1/accuracy");
        const Table* a32 = rep.table("Task 3.2/accuracy");
        QVERIFY(a31 && a32 && rep.table("Task 3.2/throughput") && rep.table("Task 3.3/matmul"));
        QVERIFY(!rep.table("accuracy"));
        auto cellOf = [](const Table* t, const std::string& config, const std::string& col) -> std::string {
            const auto c = std::find(t->columns.begin(), t->columns.end(), col) - t->columns.begin();
            for (const auto& row : t->rows)
                for (const auto& cell : row)
                    if (cell.text == config && size_t(c) < row.size())
                        return row[size_t(c)].text;
            return "(none)";
        };
        QCOMPARE(cellOf(a31, "BF16", "MMLU direct % ↑").rfind("51.9", 0), size_t(0)); // not 3.2's 52.5
        QCOMPARE(cellOf(a32, "BF16", "MMLU direct % ↑").rfind("52.5", 0), size_t(0));
        QCOMPARE(cellOf(a31, "BF16", "PPL ↓").rfind("12.3456", 0), size_t(0));     // 4 decimals kept
        QCOMPARE(cellOf(rep.table("Task 3.2/throughput"), "BF16", "Prefill samples/s ↑"), std::string("177.52"));
        QCOMPARE(cellOf(rep.table("Task 3.2/throughput"), "INT8_Per_Row", "Decode tokens/s ↑"), std::string("40.75"));
        const Table* x = rep.table("mmlu_by_experiment");
        QVERIFY(x);
        QCOMPARE(cellOf(x, "BF16", "Task 3.1 direct").rfind("51.9", 0), size_t(0));
        QCOMPARE(cellOf(x, "BF16", "Task 3.2 direct").rfind("52.5", 0), size_t(0));
        QCOMPARE(cellOf(x, "INT8_Per_Row_Fake", "Task 3.1 direct"), std::string("–"));
        QVERIFY(rep.markdown().find("177.52") != std::string::npos);
        QCOMPARE(cellOf(rep.table("Task 3.3/matmul"), "INT8_Per_Row_W8A8", "Mean abs error ↓"), std::string("0.00420"));
        QCOMPARE(cellOf(rep.table("Task 3.3/matmul"), "FP8_Per_Row_W8A8", "Rel. error ↓"), std::string("0.01390"));
    }

    // Issue 11: lm-evaluation-harness results and samples import; our export reads back through
    // the same importer, and the paired McNemar test works across the two tools.
    void lmEvalImportAndExport()
    {
        using nlohmann::json;
        QTemporaryDir tmp;
        const fs::path d = fs::path(tmp.path().toStdString()) / "lm_eval_out";
        fs::create_directories(d);
        const std::string stamp = "2024-05-01T12-00-00.123";
        json res = {{"results",
                     {{"mmlu", {{"alias", "mmlu"}, {"acc,none", 0.6}, {"acc_stderr,none", 0.1}}},
                      {"mmlu_stem", {{"alias", "stem"}, {"acc,none", 0.5}}},
                      {"mmlu_anatomy", {{"alias", " - anatomy"}, {"acc,none", 0.5}, {"acc_stderr,none", 0.2}}},
                      {"mmlu_astronomy", {{"alias", " - astronomy"}, {"acc,none", 2.0 / 3.0}}},
                      {"wikitext", {{"word_perplexity,none", 21.37}, {"byte_perplexity,none", 1.71}, {"bits_per_byte,none", 0.77}}},
                      {"hellaswag", {{"acc,none", 0.4}}}}},
                    {"n-shot", {{"mmlu", 5}, {"mmlu_anatomy", 5}, {"mmlu_astronomy", 5}}},
                    {"n-samples", {{"mmlu_anatomy", {{"original", 4}, {"effective", 4}}}, {"mmlu_astronomy", {{"original", 6}, {"effective", 6}}}}},
                    {"versions", {{"mmlu", 2}}},
                    {"config", {{"model", "hf"}, {"model_args", "pretrained=Qwen/Qwen2.5-0.5B,dtype=bfloat16"}}}};
        qbtest::writeFile(d / ("results_" + stamp + ".json"), res.dump());
        auto samples = [&](const std::string& subj, const std::string& bits, const std::string& name) {
            std::string text;
            for (size_t i = 0; i < bits.size(); ++i) {
                // log-likelihoods: the chosen choice is i % 4
                json ll = json::array();
                for (int c = 0; c < 4; ++c)
                    ll.push_back(json::array({c == int(i % 4) ? -0.5 : -2.0, false}));
                text += json({{"doc_id", i}, {"acc", bits[i] == '1' ? 1.0 : 0.0}, {"filtered_resps", ll}}).dump() + "\n";
            }
            qbtest::writeFile(d / ("samples_mmlu_" + subj + "_" + name + ".jsonl"), text);
        };
        samples("anatomy", "1010", stamp);
        samples("astronomy", "110110", stamp);
        auto l = loadResults({d});
        const ResultRecord* m = nullptr;
        const ResultRecord* w = nullptr;
        for (const auto& r : l.records) {
            if (r.task == task::MmluDirect)
                m = &r;
            if (r.task == task::Ppl)
                w = &r;
        }
        QVERIFY(m && w);
        QCOMPARE(m->config, std::string("BF16"));
        QCOMPARE(m->metric("accuracy"), 0.6);
        QCOMPARE(m->metric("accuracy_stderr"), 0.1);
        QCOMPARE(m->metric("n"), 10.0);
        QCOMPARE(m->correct, std::string("1010110110"));
        QCOMPARE(m->predictions, std::string("ABCDABCDAB"));
        QCOMPARE(m->question_set, qb::sha256Hex("anatomy/test/0\nanatomy/test/1\nanatomy/test/2\nanatomy/test/3\n"
                                                "astronomy/test/0\nastronomy/test/1\nastronomy/test/2\nastronomy/test/3\n"
                                                "astronomy/test/4\nastronomy/test/5\n"));
        QCOMPARE(m->details["mmlu"]["per_subject"]["astronomy"]["correct"].get<int>(), 4);
        QVERIFY(!m->details["mmlu"]["per_subject"].contains("stem")); // a category, not a subject
        QCOMPARE(m->settings["task"]["shots"].get<int>(), 5);
        QVERIFY(!w->has("ppl")); // word perplexity never lands on the token-PPL axis
        QCOMPARE(w->metric("word_perplexity"), 21.37);
        auto msg = [&](const std::string& what) { return mentions(l.messages, "", what); };
        auto note = [&](const std::string& what) { return mentions(l.notes, "", what); };
        QVERIFY(note("'hellaswag' has no QuantBench counterpart"));
        QVERIFY(note("per-question correctness of 10 MMLU questions from 2 samples files"));
        QVERIFY2(l.messages.empty(), l.messages.empty() ? "" : l.messages[0].c_str()); // samples not read as results

        // Paired test across tools: a QuantBench record on the same questions.
        ResultRecord ours = *m;
        ours.config = "INT8_Per_Row";
        ours.source = "ours.jsonl";
        ours.settings = {{"task", {{"shots", 5}}}};
        ours.correct = "0010110100";
        ours.metrics = {{"accuracy", 0.4}, {"n", 10}};
        std::vector<ResultRecord> both = l.records;
        both.push_back(ours);
        const Report rep = buildReport(both);
        const Table* acc = rep.table("accuracy");
        QVERIFY(acc);
        bool paired = false;
        for (const auto& row : acc->rows)
            if (row[1].text == "INT8_Per_Row")
                paired = row.back().text.find("McNemar") != std::string::npos || row.back().text.find("flips") != std::string::npos ||
                         row.back().text.find("exact") != std::string::npos;
        QVERIFY2(paired, rep.markdown().c_str());

        // Export and read back through the importer.
        const fs::path e = fs::path(tmp.path().toStdString()) / "export";
        const auto files = exportLmEval({ours}, e);
        QCOMPARE(int(files.size()), 3); // results + 2 samples files (ids provably rows 0..n-1)
        auto back = loadResults({e});
        QCOMPARE(int(back.records.size()), 1);
        const ResultRecord& b = back.records[0];
        QCOMPARE(b.config, std::string("INT8_Per_Row")); // from quantbench_config in model_args
        QCOMPARE(b.task, std::string(task::MmluDirect));
        QCOMPARE(b.metric("accuracy"), 0.4);
        QCOMPARE(b.correct, ours.correct);
        QCOMPARE(b.predictions, ours.predictions);
        QCOMPARE(b.question_set, ours.question_set);
        // A record whose questions are not rows 0..n-1 gets no samples files.
        ours.question_set = qb::sha256Hex("other\n");
        QCOMPARE(int(exportLmEval({ours}, fs::path(tmp.path().toStdString()) / "export2").size()), 1);
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
        // wrong value types inside "schemes" and "tasks" are errors naming the file (the fuzzer's
        // {"matrix": 28} once escaped as a library exception)
        for (const char* text : {R"({"model":"m","schemes":{"matrix":28}})", R"({"model":"m","schemes":{"matrix":{"dtypes":[1]}}})",
                                 R"({"model":"m","schemes":{"smoothquant":[{"dtype":7}]}})", R"({"model":"m","schemes":{"extra":[[]]}})",
                                 R"({"model":"m","tasks":{"mmlu":"yes"}})", R"({"model":"m","datasets":[1]})"}) {
            try {
                SweepSpec::fromJson(nlohmann::json::parse(text), "types.json");
                QFAIL(text);
            } catch (const Error& e) {
                QVERIFY2(std::string(e.what()).find("types.json") != std::string::npos, e.what());
            }
        }
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
