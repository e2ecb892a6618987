// Datasets (CSV edge cases, MMLU layouts, sha256), the MMLU prompt byte for byte, shot dropping,
// seeded spreading of a question limit, MMLU scoring on a stub model, the generate parser.
// The end-to-end demo sweep on the bundled model lives at the end (skips without the model).
#include "qbtest.h"

#include "core/data/csv.h"
#include "core/data/mmlu_data.h"
#include "core/data/sha256.h"
#include "core/data/text_data.h"
#include "core/eval/mmlu.h"
#include "core/eval/ppl.h"
#include "core/eval/ppl_ref.h"
#include "core/model/llama.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"

#include <QProcess>
#include <set>
#include <QTemporaryDir>

#include "core/report/report.h"
#include "core/results/store.h"
#include "core/run/model_backend.h"

namespace fs = std::filesystem;
using namespace qb;

namespace {

MmluQuestion q(const std::string& subject, const std::string& text, int answer)
{
    MmluQuestion x;
    x.subject = subject;
    x.question = text;
    x.choices[0] = "w";
    x.choices[1] = "x";
    x.choices[2] = "y";
    x.choices[3] = "z";
    x.answer = answer;
    x.id = subject + "/" + text;
    return x;
}

// Tokens = bytes; "prefers" one letter: the logit of its token is highest.
class StubLm : public LanguageModel {
public:
    int64_t ctx = 4096;
    char prefer = 'B';
    std::string genText = " B";
    int64_t calls = 0;
    std::vector<int64_t> encode(const std::string& t, bool addSpecial) const override
    {
        std::vector<int64_t> ids;
        if (addSpecial)
            ids.push_back(1); // BOS
        for (unsigned char c : t)
            ids.push_back(c);
        return ids;
    }
    std::string decode(const std::vector<int64_t>& ids) const override
    {
        std::string s;
        for (auto i : ids)
            s += char(i);
        return s;
    }
    int64_t contextLength() const override { return ctx; }
    at::Tensor nextTokenLogits(const std::vector<std::vector<int64_t>>& prompts) override
    {
        ++calls;
        for (const auto& p : prompts)
            if (int64_t(p.size()) > ctx)
                throw Error("prompt longer than the context");
        at::Tensor l = torch::zeros({int64_t(prompts.size()), 256});
        l.index_put_({torch::indexing::Slice(), int64_t(prefer)}, 5.0);
        l.index_put_({torch::indexing::Slice(), int64_t('Z')}, 9.0); // not a letter choice: ignored
        return l;
    }
    std::vector<std::vector<int64_t>> generate(const std::vector<std::vector<int64_t>>& prompts, int64_t) override
    {
        ++calls;
        return std::vector<std::vector<int64_t>>(prompts.size(), encode(genText, false));
    }
};

} // namespace

class TestEval : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void sha256Vectors()
    {
        QCOMPARE(sha256Hex(""), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(sha256Hex("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                 std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
        QCOMPARE(sha256Hex(std::string(1000000, 'a')),
                 std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
        QTemporaryDir tmp;
        fs::path p = fs::path(tmp.path().toStdString()) / "t.txt";
        qbtest::writeFile(p, "abc");
        auto t = loadText(p);
        QCOMPARE(t.sha256, sha256Hex("abc"));
        QCOMPARE(t.bytes, uint64_t(3));
        QVERIFY_EXCEPTION_THROWN(loadText(fs::path(tmp.path().toStdString()) / "missing.txt"), Error);
    }

    void csvEdgeCases()
    {
        auto rows = parseCsv("a,\"b, with comma\",\"multi\nline\",\"say \"\"hi\"\"\",\r\n\n\"\",x\nlast,row", "f.csv");
        QCOMPARE(rows.size(), size_t(3));
        QCOMPARE(rows[0].fields.size(), size_t(5));
        QCOMPARE(rows[0].fields[1], std::string("b, with comma"));
        QCOMPARE(rows[0].fields[2], std::string("multi\nline"));
        QCOMPARE(rows[0].fields[3], std::string("say \"hi\""));
        QCOMPARE(rows[0].fields[4], std::string(""));
        QCOMPARE(rows[0].line, int64_t(1));
        QCOMPARE(rows[1].line, int64_t(4)); // blank line 3 skipped, embedded newline counted
        QCOMPARE(rows[1].fields[0], std::string(""));
        QCOMPARE(rows[2].fields[1], std::string("row"));
        // errors name file and line
        try {
            parseCsv("ok,row\nbad,\"never closed\n", "u.csv");
            QFAIL("unterminated quote accepted");
        } catch (const Error& e) {
            QCOMPARE(std::string(e.what()).substr(0, 6), std::string("u.csv:"));
            QVERIFY(std::string(e.what()).find("u.csv:2") != std::string::npos);
        }
        QVERIFY_EXCEPTION_THROWN(parseCsv("a,b\"c\n", "q.csv"), Error);
        QVERIFY_EXCEPTION_THROWN(parseCsv("\"a\"b,c\n", "q.csv"), Error);
    }

    void mmluLayoutsAndBadRows()
    {
        QTemporaryDir tmp;
        fs::path d = tmp.path().toStdString();
        fs::create_directories(d / "hf/dev");
        fs::create_directories(d / "hf/test");
        qbtest::writeFile(d / "hf/dev/astro_nomy_dev.csv", "Q1?,a,b,c,d,A\n\"Q2, two\",a,b,c,d,B\n");
        qbtest::writeFile(d / "hf/test/astro_nomy_test.csv",
                          "T1,a,b,c,d,C\nshort,row\nT2,\"x\ny\",b,c,d,D\nT3,a,b,c,d,E\n");
        qbtest::writeFile(d / "hf/test/zoo_test.csv", "Z1,a,b,c,d,A\n");
        auto ds = loadMmlu(d / "hf");
        QCOMPARE(ds.test.size(), size_t(3));
        QCOMPARE(ds.dev["astro_nomy"].size(), size_t(2));
        QCOMPARE(ds.test[1].choices[0], std::string("x\ny"));
        QCOMPARE(ds.test[1].answer, 3);
        QCOMPARE(ds.test[2].subject, std::string("zoo"));
        QCOMPARE(ds.warnings.size(), size_t(2));
        QVERIFY(ds.warnings[0].find("astro_nomy_test.csv:2") != std::string::npos);
        QVERIFY(ds.warnings[0].find("expected 6 fields") != std::string::npos);
        QVERIFY(ds.warnings[1].find("astro_nomy_test.csv:5") != std::string::npos);
        QVERIFY(ds.warnings[1].find("'E'") != std::string::npos);
        QCOMPARE(ds.sha256.size(), size_t(64));
        MmluLoadOptions strict;
        strict.strict = true;
        QVERIFY_EXCEPTION_THROWN(loadMmlu(d / "hf", strict), Error);
        // flat folder of *_dev.csv / *_test.csv
        fs::create_directories(d / "flat");
        fs::copy_file(d / "hf/dev/astro_nomy_dev.csv", d / "flat/astro_nomy_dev.csv");
        qbtest::writeFile(d / "flat/astro_nomy_test.csv", "T1,a,b,c,d,C\n");
        auto flat = loadMmlu(d / "flat");
        QCOMPARE(flat.test.size(), size_t(1));
        QCOMPARE(flat.dev["astro_nomy"].size(), size_t(2));
        // JSON lines
        qbtest::writeFile(d / "q.jsonl",
                          "{\"question\":\"J1\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":2,\"subject\":\"s\"}\n"
                          "{\"question\":\"J0\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":\"A\",\"subject\":\"s\",\"split\":\"dev\"}\n"
                          "not json\n"
                          "{\"question\":\"J2\",\"choices\":[\"a\"],\"answer\":1}\n");
        auto js = loadMmlu(d / "q.jsonl");
        QCOMPARE(js.test.size(), size_t(1));
        QCOMPARE(js.test[0].answer, 2);
        QCOMPARE(js.dev["s"].size(), size_t(1));
        QCOMPARE(js.warnings.size(), size_t(2));
        QVERIFY(js.warnings[0].find("q.jsonl:3") != std::string::npos);
        QVERIFY_EXCEPTION_THROWN(loadMmlu(d / "nothing-here"), Error);
    }

    void promptExactly()
    {
        MmluQuestion t = q("high_school_physics", "What is 1+1?", 1);
        t.choices[0] = "1";
        t.choices[1] = "2";
        t.choices[2] = "3";
        t.choices[3] = "4";
        MmluQuestion d = q("high_school_physics", "Pick z.", 3);
        std::string expected = "The following are multiple choice questions (with answers) about high school physics.\n\n"
                               "Pick z.\nA. w\nB. x\nC. y\nD. z\nAnswer: D\n\n"
                               "What is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:";
        QCOMPARE(mmluPrompt(t, {d, d}, 1), expected);
        std::string zero = "The following are multiple choice questions (with answers) about high school physics.\n\n"
                           "What is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:";
        QCOMPARE(mmluPrompt(t, {d}, 0), zero);
        QCOMPARE(mmluPrompt(t, {}, 5), zero);
    }

    void promptMatchesRealMmlu()
    {
        QB_REQUIRE_SHARED("mmlu/dev/abstract_algebra_dev.csv");
        MmluLoadOptions o;
        o.subjects = {"abstract_algebra"};
        auto ds = loadMmlu(qbtest::sharedData() / "mmlu", o);
        QCOMPARE(ds.dev["abstract_algebra"].size(), size_t(5));
        QCOMPARE(ds.test.size(), size_t(100));
        QVERIFY(ds.warnings.empty());
        std::string p = mmluPrompt(ds.test[0], ds.dev["abstract_algebra"], 5);
        QVERIFY(p.rfind("The following are multiple choice questions (with answers) about abstract algebra.\n\n"
                        "Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\nA. 0\nB. 1\nC. 2\nD. 3\nAnswer: B\n\n"
                        "Statement 1 | If aH is an element of a factor group, then |aH| divides |a|. ",
                        0) == 0);
        QVERIFY(p.size() > 5 && p.substr(p.size() - 8) == "\nAnswer:");
    }

    void spreadDeterministicBySeed()
    {
        std::vector<MmluQuestion> test;
        for (int s = 0; s < 5; ++s)
            for (int i = 0; i < (s == 0 ? 2 : 30); ++i)
                test.push_back(q("s" + std::to_string(s), "q" + std::to_string(i), 0));
        auto a = spreadLimit(test, 23, 7);
        auto b = spreadLimit(test, 23, 7);
        auto c = spreadLimit(test, 23, 8);
        QCOMPARE(a, b);
        QVERIFY(a != c);
        QCOMPARE(a.size(), size_t(23));
        QVERIFY(std::is_sorted(a.begin(), a.end()));
        std::map<std::string, int> per;
        for (auto i : a)
            ++per[test[i].subject];
        QCOMPARE(per["s0"], 2); // small subject gives its unused share to the others
        for (int s = 1; s < 5; ++s) {
            int n = per["s" + std::to_string(s)];
            QVERIFY(n == 5 || n == 6);
        }
        QCOMPARE(spreadLimit(test, 0, 1).size(), test.size());
        QCOMPARE(spreadLimit(test, 10000, 1).size(), test.size());
    }

    void generateParser_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("letter");
        QTest::newRow("plain") << " B" << 1;
        QTest::newRow("dot") << " C." << 2;
        QTest::newRow("paren") << "(D) because" << 3;
        QTest::newRow("word first") << " Because A" << 0;
        QTest::newRow("answer is") << "The answer is B" << 1; // "The" has no standalone letter
        QTest::newRow("lowercase") << " b" << -1;
        QTest::newRow("none") << " Eh?" << -1;
        QTest::newRow("empty") << "" << -1;
        QTest::newRow("newline") << "\nA\n" << 0;
        QTest::newRow("E not") << " E" << -1;
    }
    void generateParser()
    {
        QFETCH(QString, text);
        QFETCH(int, letter);
        QCOMPARE(parseAnswerLetter(text.toStdString()), letter);
    }

    void stubScoringExactAccuracy()
    {
        MmluDataset ds;
        for (int i = 0; i < 10; ++i)
            ds.test.push_back(q("s", "q" + std::to_string(i), i % 4)); // answers A B C D A B C D A B
        ds.dev["s"] = {q("s", "d0", 0), q("s", "d1", 1)};
        StubLm lm;
        lm.prefer = 'B';
        MmluTaskSettings st;
        st.shots = 2;
        st.batch = 3;
        std::vector<size_t> all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        auto r = evalMmlu(lm, ds, all, st, false);
        QCOMPARE(r.n, int64_t(10));
        QCOMPARE(r.correct, int64_t(3)); // questions 1, 5, 9
        QCOMPARE(r.correctness, std::string("0100010001"));
        QCOMPARE(r.predictions, std::string("BBBBBBBBBB"));
        QCOMPARE(r.accuracy, 0.3);
        QVERIFY(std::abs(r.stderr_ - std::sqrt(0.3 * 0.7 / 10)) < 1e-12);
        QCOMPARE(r.letter_ids, (std::vector<int64_t>{'A', 'B', 'C', 'D'}));
        QCOMPARE(lm.calls, int64_t(4)); // ceil(10 / 3) batches
        QCOMPARE(r.shots_mean, 2.0);
        // generate: text " B" -> B; unparseable counted
        lm.genText = " B";
        auto g = evalMmlu(lm, ds, all, st, true);
        QCOMPARE(g.correct, int64_t(3));
        lm.genText = " none";
        auto u = evalMmlu(lm, ds, all, st, true);
        QCOMPARE(u.unparseable, int64_t(10));
        QCOMPARE(u.correct, int64_t(0));
        QCOMPARE(u.predictions, std::string(10, '?'));
    }

    void shotsDroppedWhenContextIsTiny()
    {
        MmluDataset ds;
        ds.test.push_back(q("s", "question", 1));
        ds.dev["s"] = {q("s", "dev one", 0), q("s", "dev two", 1), q("s", "dev three", 2)};
        std::string zeroShot = mmluPrompt(ds.test[0], ds.dev["s"], 0);
        std::string oneShot = mmluPrompt(ds.test[0], ds.dev["s"], 1);
        StubLm lm;
        lm.ctx = int64_t(oneShot.size()) + 1; // + BOS: exactly one shot fits
        MmluTaskSettings st;
        st.shots = 3;
        auto r = evalMmlu(lm, ds, {0}, st, false);
        QCOMPARE(r.shots_min, 1);
        QCOMPARE(r.truncated, int64_t(0));
        lm.ctx = int64_t(zeroShot.size()); // not even 0-shot + BOS fits: truncated from the left
        auto r0 = evalMmlu(lm, ds, {0}, st, false);
        QCOMPARE(r0.shots_min, 0);
        QCOMPARE(r0.truncated, int64_t(1));
        QCOMPARE(r0.toJson()["truncated_prompts"].get<int64_t>(), int64_t(1));
        // generate leaves room for the new tokens
        lm.ctx = int64_t(oneShot.size()) + 1;
        st.gen_tokens = 4;
        auto rg = evalMmlu(lm, ds, {0}, st, true);
        QCOMPARE(rg.shots_min, 0);
    }

    void cancelIsHonoured()
    {
        MmluDataset ds;
        for (int i = 0; i < 10; ++i)
            ds.test.push_back(q("s", "q" + std::to_string(i), 0));
        StubLm lm;
        std::atomic<bool> cancel{true};
        EvalHooks h;
        h.cancel = &cancel;
        MmluTaskSettings st;
        QVERIFY_EXCEPTION_THROWN(evalMmlu(lm, ds, {0, 1}, st, false, h), Cancelled);
        QCOMPARE(lm.calls, int64_t(0));
    }
    void klMathOnKnownDistributions()
    {
        // identical distributions: KL 0, full agreement; with all-vocab top-k the KL is exact
        at::Tensor lp = torch::log_softmax(torch::tensor({{1.0, 2.0, 3.0}, {0.5, 0.1, -1.0}}), -1);
        auto tk = lp.topk(3, -1);
        KlResult same = klFromTopK(std::get<0>(tk), std::get<1>(tk), lp);
        QVERIFY(std::abs(same.mean_kl) < 1e-9);
        QCOMPARE(same.top1_agreement, 1.0);
        QVERIFY(same.exact);
        at::Tensor q = torch::log_softmax(torch::tensor({{3.0, 2.0, 1.0}, {0.5, 0.1, -1.0}}), -1);
        KlResult d = klFromTopK(std::get<0>(tk), std::get<1>(tk), q);
        at::Tensor p0 = lp[0].exp();
        double kl0 = (p0 * (lp[0] - q[0])).sum().item<double>();
        QVERIFY(std::abs(d.mean_kl - kl0 / 2) < 1e-6);
        QCOMPARE(d.top1_agreement, 0.5);
        // top-1 only + tail bucket: a lower bound of the exact KL
        auto t1 = lp.topk(1, -1);
        KlResult lb = klFromTopK(std::get<0>(t1), std::get<1>(t1), q);
        QVERIFY(lb.mean_kl <= d.mean_kl + 1e-9);
        QVERIFY(!lb.exact);
    }

    // PPL takes the bf16 logits a few rows at a time when no KL is asked, and the float32 path
    // with a reference: both must give the same per-token NLL (and KL 0 against the model itself).
    void pplWidenedInRowsEqualsFloatLogits()
    {
        if (!fs::exists(qbtest::demoModelDir() / "config.json"))
            QSKIP("bundled demo model not present");
        auto model = LlamaModel::load(qbtest::demoModelDir(), at::kBFloat16);
        auto tok = Tokenizer::fromFile(qbtest::demoModelDir());
        auto ids = tok.encode(qbtest::readFile(qbtest::sourceDir() / "resources/demo/tinystories_sample.txt").substr(0, 5000), true);
        PplOptions po;
        po.ctx = 200;        // 199 predicted rows per window: a full 128-row chunk, a partial one, partial 16-row blocks
        po.maxWindows = 2;
        const PplResult plain = perplexity(*model, ids, po);
        const PplReference ref = makePplReference(*model, ids, po.ctx, 2, model->config().vocab_size);
        po.reference = &ref;
        const PplResult withKl = perplexity(*model, ids, po);
        QCOMPARE(plain.nllPerToken.size(), size_t(2 * 199));
        QCOMPARE(withKl.nllPerToken.size(), plain.nllPerToken.size());
        for (size_t i = 0; i < plain.nllPerToken.size(); ++i)
            QVERIFY2(std::abs(plain.nllPerToken[i] - withKl.nllPerToken[i]) <= 1e-6f * std::max(1.0f, withKl.nllPerToken[i]),
                     qPrintable(QStringLiteral("token %1: %2 vs %3").arg(i).arg(plain.nllPerToken[i]).arg(withKl.nllPerToken[i])));
        QCOMPARE(withKl.klPerToken.size(), plain.nllPerToken.size());
        for (double kl : withKl.klPerToken) QVERIFY(std::abs(kl) < 1e-6);
    }

    void demoSweepEndToEnd()
    {
        if (!fs::exists(qbtest::demoModelDir() / "config.json"))
            QSKIP("bundled demo model not present");
        QTemporaryDir tmp;
        fs::path root = tmp.path().toStdString();
        fs::path demo = qbtest::sourceDir() / "resources/demo";
        nlohmann::json j = {
            {"name", "e2e"},
            {"model", qbtest::demoModelDir().string()},
            {"device", "cpu"},
            {"schemes", {"INT8_Per_Row", "FP8_Per_Tensor_Fake", "SmoothQuant_INT8_W8A8"}},
            {"tasks", {{"ppl", {{"ctx", 128}, {"max_windows", 2}, {"kl_windows", 1}, {"kl_topk", 512}}},
                       {"mmlu", {{"shots", 1}, {"max_questions", 8}, {"batch", 4}, {"gen_tokens", 2}}},
                       {"throughput", {{"prefill_batch", 2}, {"prefill_len", 16}, {"decode_batch", 1}, {"decode_prompt", 4},
                                       {"decode_tokens", 4}, {"warmup", 0}, {"repeats", 1}}},
                       {"matmul_accuracy", {{"windows", 1}, {"len", 32}, {"max_rows", 32}}}}},
            {"datasets", {{"ppl_text", (demo / "tinystories_sample.txt").string()}, {"mmlu", (demo / "mmlu").string()},
                          {"calibration_text", (demo / "tinystories_sample.txt").string()}}},
            {"calibration", {{"sequences", 2}, {"length", 64}}}};
        fs::path sweepFile = root / "sweep.json";
        qbtest::writeFile(sweepFile, j.dump(2));
        SweepSpec spec = SweepSpec::load(sweepFile);
        ModelBackend backend;
        RunOptions o;
        o.out_dir = root / "a";
        SweepSummary sum = runSweep(spec, backend, o);
        QVERIFY(!sum.cancelled);
        auto recs = ResultsFile(o.out_dir).load();
        QVERIFY(recs.messages.empty());
        QCOMPARE(recs.records.size(), size_t(4 * 5));
        std::set<std::string> keys;
        for (const auto& r : recs.records) {
            QVERIFY2(r.ok(), (r.key() + ": " + r.error).c_str());
            keys.insert(r.key());
            for (const auto& [k, v] : r.metrics)
                if (!(r.task == task::Matmul && r.config == "FP32"))
                    QVERIFY2(std::isfinite(v), (r.key() + " " + k).c_str());
            QVERIFY(!r.provenance.git_commit.empty() || !r.provenance.app_version.empty());
            QCOMPARE(r.model_config_hash.size(), size_t(64));
        }
        QCOMPARE(keys.size(), size_t(20));
        for (const auto& r : recs.records) {
            if (r.task == task::Ppl) {
                QVERIFY(r.metric("ppl") > 1.0);
                QCOMPARE(r.datasets.at(0).sha256.size(), size_t(64));
                if (r.config != "FP32") {
                    QVERIFY(r.has("kl_mean"));
                    QVERIFY(r.metric("top1_agreement") > 0.5);
                }
            }
            if (r.task == task::MmluDirect) {
                QCOMPARE(r.metric("n"), 8.0);
                QCOMPARE(r.correct.size(), size_t(8));
            }
        }
        Report rep = buildReport(recs.records);
        QVERIFY(rep.table("accuracy"));
        QVERIFY(rep.table("throughput"));
        QVERIFY(rep.table("matmul"));

        // Kill the CLI mid-sweep, resume it, and get the same deterministic records.
        QProcess p;
        QStringList args{"sweep", QString::fromStdString(sweepFile.string()), "--out",
                         QString::fromStdString((root / "b").string()), "--quiet"};
        p.start(QString::fromStdString(qbtest::cliPath()), args);
        QVERIFY(p.waitForStarted());
        fs::path rb = root / "b/results.jsonl";
        for (int i = 0; i < 600; ++i) {
            if (fs::exists(rb) && ResultsFile(rb).load().records.size() >= 3)
                break;
            QTest::qWait(100);
        }
        p.kill();
        p.waitForFinished();
        size_t partial = ResultsFile(rb).load().records.size();
        QVERIFY(partial >= 3);
        QProcess p2;
        p2.start(QString::fromStdString(qbtest::cliPath()), args);
        QVERIFY(p2.waitForFinished(600000));
        QCOMPARE(p2.exitCode(), 0);
        auto b = ResultsFile(rb).load();
        std::map<std::string, const ResultRecord*> bk;
        for (const auto& r : b.records)
            bk[r.key()] = &r;
        QCOMPARE(bk.size(), size_t(20));
        for (const auto& r : recs.records) {
            const ResultRecord* o2 = bk.at(r.key());
            if (r.task == task::Ppl)
                QCOMPARE(o2->metric("ppl"), r.metric("ppl"));
            if (r.task == task::MmluDirect || r.task == task::MmluGenerate)
                QCOMPARE(o2->correct, r.correct);
        }
        QVERIFY(fs::exists(root / "b/report.md"));
    }

    // The demo sweep file (all 18 quantized configs), PPL only: every record keeps its per-token
    // NLL sidecar, the report pairs each config with the baseline on the same tokens, shows the KL
    // block for all 18 and marks the PPL deltas that beat noise.
    void demoSweepPairedPplAndKlBlock()
    {
        if (!fs::exists(qbtest::demoModelDir() / "config.json"))
            QSKIP("bundled demo model not present");
        QTemporaryDir tmp;
        const fs::path root = tmp.path().toStdString();
        const fs::path demoFile = qbtest::sourceDir() / "resources/demo/demo_sweep.json";
        nlohmann::json j = nlohmann::json::parse(qbtest::readFile(demoFile));
        j["device"] = "cpu";
        j["tasks"] = {{"ppl", j["tasks"]["ppl"]}};
        const fs::path sweepFile = tmp.path().toStdString() + "/sweep.json";
        qbtest::writeFile(sweepFile, j.dump(2));
        // Relative dataset/model paths resolve against the sweep file's folder: point them at the demo.
        SweepSpec spec = SweepSpec::fromJson(j, demoFile.string(), demoFile.parent_path());
        QCOMPARE(spec.schemes.size(), size_t(18));
        ModelBackend backend;
        RunOptions o;
        o.out_dir = root / "run";
        runSweep(spec, backend, o);
        auto recs = ResultsFile(o.out_dir).load();
        QCOMPARE(recs.records.size(), size_t(19));
        for (const auto& r : recs.records) {
            QVERIFY2(r.details.contains("nll_sidecar"), r.key().c_str());
            QVERIFY(fs::exists(o.out_dir / r.details["nll_sidecar"]["file"].get<std::string>()));
            QCOMPARE(r.settings.value("token_hash", std::string()).size(), size_t(64));
        }
        Report rep = buildReport(recs.records);
        const Table* kl = rep.table("kl");
        QVERIFY(kl);
        QCOMPARE(kl->rows.size(), size_t(18));
        QVERIFY(kl->notes[0].find("exact over the full vocabulary") != std::string::npos);
        const Table* acc = rep.table("accuracy");
        QVERIFY(acc);
        int paired = 0, marked = 0;
        std::string example;
        for (const auto& row : acc->rows) {
            const std::string& vs = row.back().text;
            paired += vs.find("paired ΔNLL") != std::string::npos;
            marked += row[3].text.find("✱") != std::string::npos;
            if (row[1].text == "INT8_Per_Tensor")
                example = row[3].text + " | " + vs;
        }
        QCOMPARE(paired, 18);
        QVERIFY(marked >= 1);
        // The old unpaired test on the same records (sidecars dropped).
        auto old = recs.records;
        for (auto& r : old)
            r.details.erase("nll_sidecar");
        Report un = buildReport(old);
        std::string unpaired;
        int unMarked = 0;
        for (const auto& row : un.table("accuracy")->rows) {
            unMarked += row[3].text.find("✱") != std::string::npos;
            if (row[1].text == "INT8_Per_Tensor")
                unpaired = row[3].text + " | " + row.back().text;
        }
        qInfo("demo INT8_Per_Tensor paired:   %s", example.c_str());
        qInfo("demo INT8_Per_Tensor unpaired: %s", unpaired.c_str());
        qInfo("demo: %d of 18 PPL deltas significant paired, %d unpaired", marked, unMarked);
        QVERIFY(marked >= unMarked);
        for (const auto& f : rep.findings)
            qInfo("finding: %s", f.c_str());
    }
};
QTEST_GUILESS_MAIN(TestEval)
#include "tst_eval.moc"
