// Report tables from fixture records: grouping, best-in-bold, deltas, McNemar against hand
// computed values, INT8 vs FP8 recommendation, flags for quantized configs beating the baseline.
#include "qbtest.h"

#include "core/report/report.h"
#include "core/report/stats.h"
#include "core/results/nll_sidecar.h"

#include <QTemporaryDir>

#include <cmath>
#include <fstream>

using namespace qb;

namespace {

ResultRecord ppl(const std::string& c, double v, double se)
{
    ResultRecord r;
    r.config = c;
    r.task = task::Ppl;
    r.metrics = {{"ppl", v}, {"ppl_stderr", se}};
    return r;
}

ResultRecord mmlu(const std::string& c, const std::string& correct, const char* t = task::MmluDirect)
{
    ResultRecord r;
    r.config = c;
    r.task = t;
    r.correct = correct;
    r.question_set = "qs";
    double k = 0;
    for (char ch : correct)
        k += ch == '1';
    double n = double(correct.size());
    r.metrics = {{"accuracy", k / n}, {"n", n}, {"accuracy_stderr", std::sqrt(k / n * (1 - k / n) / n)}};
    return r;
}

const Cell& cell(const Table& t, const std::string& config, const std::string& column)
{
    size_t c = 0;
    while (c < t.columns.size() && t.columns[c] != column)
        ++c;
    for (const auto& r : t.rows)
        for (const auto& x : r)
            if (x.text == config)
                return r.at(c);
    static Cell none{"<missing>", std::nullopt, false, std::nullopt};
    return none;
}

int rowIndex(const Table& t, const std::string& config)
{
    for (size_t i = 0; i < t.rows.size(); ++i)
        if (t.rows[i].size() > 1 && t.rows[i][1].text == config)
            return int(i);
    return -1;
}

// base: 40 questions, 20 right. Discordant counts vs base chosen by hand.
std::string pattern(int bothRight, int baseOnly, int quantOnly, int bothWrong, bool base)
{
    std::string s;
    s += std::string(size_t(bothRight), '1');
    s += std::string(size_t(baseOnly), base ? '1' : '0');
    s += std::string(size_t(quantOnly), base ? '0' : '1');
    s += std::string(size_t(bothWrong), '0');
    return s;
}

// Deterministic N(0, 1)-ish noise (sum of 12 uniforms - 6) from a splitmix64 stream.
struct Noise {
    uint64_t s;
    double uniform()
    {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return double((z ^ (z >> 31)) >> 11) / double(1ull << 53);
    }
    double normal()
    {
        double a = 0;
        for (int i = 0; i < 12; ++i)
            a += uniform();
        return a - 6.0;
    }
};

// A PPL record computed from per-token NLLs, as the engine does (ppl = exp(mean), delta-method stderr).
ResultRecord pplFromNll(const std::string& c, const std::vector<float>& nll, const std::string& tokenHash = "tok")
{
    double s = 0, ss = 0;
    for (float v : nll)
        s += v;
    const double n = double(nll.size()), m = s / n;
    for (float v : nll)
        ss += (v - m) * (v - m);
    const double sd = std::sqrt(ss / (n - 1));
    ResultRecord r = ppl(c, std::exp(m), std::exp(m) * sd / std::sqrt(n));
    r.metrics["n_tokens"] = n;
    r.nll = nll;
    r.settings = {{"token_hash", tokenHash}, {"task", {{"ctx", 128}}}};
    return r;
}

} // namespace

class TestReport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void mcnemarHandComputed()
    {
        // exact: b=1, c=6 -> 2 * (C(7,0) + C(7,1)) / 2^7 = 0.125
        std::string m;
        QVERIFY(std::abs(mcnemarP(1, 6, &m) - 0.125) < 1e-12);
        QCOMPARE(m, std::string("exact binomial"));
        // exact: b=0, c=5 -> 2/32 = 0.0625
        QVERIFY(std::abs(mcnemarP(0, 5) - 0.0625) < 1e-12);
        // symmetric, capped at 1
        QCOMPARE(mcnemarP(3, 3), 1.0);
        QCOMPARE(mcnemarP(0, 0), 1.0);
        // chi-square: b=10, c=30 -> (20-1)^2/40 = 9.025 -> p = erfc(sqrt(4.5125)) = 0.0026631
        QVERIFY(std::abs(mcnemarP(10, 30, &m) - 0.002663119259) < 1e-9);
        QCOMPARE(m, std::string("chi-square, continuity corrected"));
        McNemar x = mcnemar("1100", "1010");
        QVERIFY(x.valid);
        QCOMPARE(x.b, int64_t(1));
        QCOMPARE(x.c, int64_t(1));
        QVERIFY(!mcnemar("11", "1").valid);
    }

    void accuracyTableGroupsBoldAndSignificance()
    {
        std::vector<ResultRecord> rs;
        rs.push_back(ppl("BF16", 10.0, 0.05));
        rs.push_back(mmlu("BF16", pattern(20, 6, 1, 13, true)));           // 26/40
        rs.push_back(ppl("INT8_Per_Row", 10.02, 0.05));
        rs.push_back(mmlu("INT8_Per_Row", pattern(20, 6, 1, 13, false)));   // 21/40, b=6 c=1 -> p=0.125
        rs.push_back(ppl("FP8_Per_Row_Fake", 10.5, 0.05));
        rs.push_back(mmlu("FP8_Per_Row_Fake", pattern(20, 6, 0, 14, false))); // 20/40, b=6 c=0 -> p=0.03125
        rs.push_back(ppl("SmoothQuant_INT8_W8A8", 10.1, 0.05));
        Report r = buildReport(rs);
        const Table* t = r.table("accuracy");
        QVERIFY(t);
        // grouping order: Baseline, Real, Fake, SmoothQuant
        QCOMPARE(rowIndex(*t, "BF16"), 0);
        QCOMPARE(rowIndex(*t, "INT8_Per_Row"), 1);
        QCOMPARE(rowIndex(*t, "FP8_Per_Row_Fake"), 2);
        QCOMPARE(rowIndex(*t, "SmoothQuant_INT8_W8A8"), 3);
        QCOMPARE(t->rows[2][0].text, std::string("Fake"));
        // best per column in bold: lowest PPL, highest MMLU
        QVERIFY(cell(*t, "BF16", "PPL ↓").bold);
        QVERIFY(!cell(*t, "INT8_Per_Row", "PPL ↓").bold);
        QVERIFY(cell(*t, "BF16", "MMLU direct % ↑").bold);
        QCOMPARE(cell(*t, "INT8_Per_Row", "MMLU direct % ↑").text, std::string("52.50 ± 7.90"));
        QCOMPARE(cell(*t, "INT8_Per_Row", "Δ PPL").text, std::string("+0.020"));
        std::string sig = cell(*t, "INT8_Per_Row", "vs baseline").text;
        QVERIFY2(sig.find("McNemar b=6 c=1 p=0.125") != std::string::npos, sig.c_str());
        QVERIFY(sig.find("direct McNemar b=6 c=1 p=0.125 ✱") == std::string::npos); // not significant
        std::string sig2 = cell(*t, "FP8_Per_Row_Fake", "vs baseline").text;
        QVERIFY2(sig2.find("b=6 c=0 p=0.031 ✱") != std::string::npos, sig2.c_str());
        // PPL: z = 0.5 / sqrt(2 * 0.05^2) = 7.07 -> significant
        QVERIFY2(sig2.find("PPL z=7.07") != std::string::npos, sig2.c_str());
        std::string md = r.markdown();
        QVERIFY(md.find("| Baseline | BF16 | **10.000 ± 0.050** |") != std::string::npos);
        QVERIFY(md.find("## Key findings") != std::string::npos);
        QVERIFY(r.warnings.empty());
        std::string csv = r.csv();
        QVERIFY2(csv.find("Baseline,BF16,10.000,0.05,") != std::string::npos, csv.c_str()); // value and ± in their own columns
        QVERIFY(csv.find("**") == std::string::npos);
        // findings mention significance honestly
        bool found = false;
        for (const auto& f : r.findings)
            found |= f.find("Best Real: INT8_Per_Row") != std::string::npos && f.find("within noise") != std::string::npos;
        QVERIFY(found);
    }

    void quantizedBeatingBaselineIsFlagged()
    {
        std::vector<ResultRecord> rs;
        rs.push_back(mmlu("FP32", pattern(10, 0, 12, 18, true)));
        rs.push_back(mmlu("INT8_Per_Tensor", pattern(10, 0, 12, 18, false))); // c=12, b=0: p = 2/4096
        rs.push_back(ppl("FP32", 10.0, 0.01));
        rs.push_back(ppl("INT8_Per_Tensor", 10.001, 0.01));
        Report r = buildReport(rs);
        QCOMPARE(r.warnings.size(), size_t(1));
        QVERIFY(r.warnings[0].find("INT8_Per_Tensor") != std::string::npos);
        QVERIFY(r.warnings[0].find("likely evaluation problem") != std::string::npos ||
                r.warnings[0].find("Likely evaluation problem") != std::string::npos);
        QVERIFY(r.markdown().find("## Warnings") != std::string::npos);
    }

    void int8VsFp8AndCrossComparison()
    {
        std::vector<ResultRecord> rs;
        rs.push_back(ppl("BF16", 10.0, 0.05));
        rs.push_back(ppl("INT8_Per_Row", 10.01, 0.05));
        rs.push_back(ppl("FP8_Per_Row", 11.0, 0.05));
        rs.push_back(ppl("INT8_Per_Group_64", 10.0, 0.05));
        rs.push_back(ppl("FP8_Per_Group_64", 10.02, 0.05));
        rs.push_back(ppl("INT8_Per_Row_Fake", 10.011, 0.05));
        Report r = buildReport(rs);
        const Table* v = r.table("int8_vs_fp8");
        QVERIFY(v);
        QCOMPARE(v->rows.size(), size_t(2));
        QCOMPARE(v->rows[0][0].text, std::string("Per_Row"));
        QVERIFY2(v->rows[0].back().text.rfind("INT8 (PPL", 0) == 0, v->rows[0].back().text.c_str());
        QVERIFY(v->rows[1].back().text.rfind("Either", 0) == 0);
        const Table* x = r.table("cross");
        QVERIFY(x);
        QCOMPARE(x->rows.size(), size_t(1));
        QCOMPARE(x->rows[0][0].text, std::string("INT8_Per_Row"));
        QCOMPARE(x->rows[0][3].text, std::string("-0.0010"));
    }

    void throughputBoldAndFailures()
    {
        std::vector<ResultRecord> rs;
        ResultRecord a;
        a.config = "BF16";
        a.task = task::Throughput;
        a.metrics = {{"prefill_samples_per_s", 10}, {"decode_tokens_per_s", 50}, {"peak_memory_mb", 900}};
        ResultRecord b = a;
        b.config = "INT8_Per_Row";
        b.metrics = {{"prefill_samples_per_s", 12}, {"decode_tokens_per_s", 40}, {"peak_memory_mb", 600}};
        b.details = {{"throughput", {{"decode_tokens_per_s", {{"median", 40}, {"min", 38}, {"max", 43}}}}}};
        ResultRecord f;
        f.config = "FP8_Per_Row";
        f.task = task::Ppl;
        f.status = "failed";
        f.error = "out of memory";
        rs = {a, b, f};
        Report r = buildReport(rs);
        const Table* t = r.table("throughput");
        QVERIFY(t);
        QVERIFY(cell(*t, "INT8_Per_Row", "Prefill samples/s ↑").bold);
        QVERIFY(cell(*t, "BF16", "Decode tokens/s ↑").bold);
        QVERIFY(cell(*t, "INT8_Per_Row", "Peak memory MB ↓").bold);
        QVERIFY(!cell(*t, "BF16", "Peak memory MB ↓").bold);
        // Spread of the repeats: "median (min–max)" in Markdown, half the range in the CSV ± column.
        QCOMPARE(cell(*t, "INT8_Per_Row", "Decode tokens/s ↑").text, std::string("40.0 (38.0–43.0)"));
        QVERIFY2(t->csv().find("Real,INT8_Per_Row,–,12.00,40.0,2.5,600.0") != std::string::npos, t->csv().c_str());
        const Table* fl = r.table("failed");
        QVERIFY(fl);
        QCOMPARE(fl->rows[0][2].text, std::string("out of memory"));
        QVERIFY(r.toJson()["tables"].size() >= 2);
    }

    void pairedDiffHandComputed()
    {
        // d = a - b = {0.5, -0.5, 1, 1}: mean 0.5, sd = sqrt(1.5 / 3) = 0.707107, se = 0.353553,
        // z = 1.414214, p = erfc(1) = 0.157299.
        Paired p = pairedDiff(std::vector<float>{1, 2, 3, 4}, std::vector<float>{0.5f, 2.5f, 2, 3});
        QVERIFY(p.valid);
        QCOMPARE(p.n, int64_t(4));
        QVERIFY(std::abs(p.mean - 0.5) < 1e-12);
        QVERIFY(std::abs(p.sd - std::sqrt(0.5)) < 1e-12);
        QVERIFY(std::abs(p.se - 0.3535533906) < 1e-9);
        QVERIFY(std::abs(p.z - 1.4142135624) < 1e-9);
        QVERIFY(std::abs(p.p - 0.1572992071) < 1e-9);
        QVERIFY(!pairedDiff(std::vector<float>{1, 2}, std::vector<float>{1}).valid);
        auto [m, se] = meanStderr({1, 2, 3, 4}); // sd = 1.290994, se = 0.645497
        QCOMPARE(m, 2.5);
        QVERIFY(std::abs(se - 0.6454972244) < 1e-9);
    }

    void percentilesOnKnownDistributions()
    {
        // 1..1000 (uniform): nearest rank -> the value ceil(q * n).
        std::vector<double> u(1000);
        for (int i = 0; i < 1000; ++i)
            u[size_t(i)] = i + 1;
        QCOMPARE(percentileSorted(u, 0.5), 500.0);
        QCOMPARE(percentileSorted(u, 0.9), 900.0);
        QCOMPARE(percentileSorted(u, 0.99), 990.0);
        QCOMPARE(percentileSorted(u, 0.999), 999.0);
        QCOMPARE(percentileSorted(u, 1.0), 1000.0);
        QCOMPARE(percentileSorted(u, 0.0), 1.0);
        // Two-point distribution: 99 % zeros, 1 % ones -> p99 is 0, p99.9 is 1.
        std::vector<double> t(990, 0.0);
        t.insert(t.end(), 10, 1.0);
        QCOMPARE(percentileSorted(t, 0.99), 0.0);
        QCOMPARE(percentileSorted(t, 0.999), 1.0);
        QCOMPARE(percentileSorted(t, 0.5), 0.0);
    }

    void bootstrapIsSeededAndReproducible()
    {
        std::vector<double> d;
        for (int i = 0; i < 200; ++i)
            d.push_back(i % 10 == 0 ? 1.0 : (i % 10 == 1 ? -1.0 : (i % 7 == 0 ? 1.0 : 0.0)));
        auto a = bootstrapMeanCi(d, 2000, 42);
        auto b = bootstrapMeanCi(d, 2000, 42);
        auto c = bootstrapMeanCi(d, 2000, 43);
        QCOMPARE(a.first, b.first);
        QCOMPARE(a.second, b.second);
        const double mean = meanStderr(d).first;
        QVERIFY(a.first <= mean && mean <= a.second);
        QVERIFY(c.first <= mean && mean <= c.second);
        // The 95 % interval is about mean +- 1.96 se.
        const double se = meanStderr(d).second;
        QVERIFY(std::abs((a.second - a.first) - 2 * 1.96 * se) < 0.5 * 2 * 1.96 * se);
        qInfo("bootstrap 95%% CI seed 42: [%.5f, %.5f], seed 43: [%.5f, %.5f], mean %.5f", a.first, a.second, c.first,
              c.second, mean);
    }

    void plantedShiftPairedVsUnpaired()
    {
        // 2,000 tokens, NLL ~ 2 + N(0, 1); the quantized run adds a consistent 0.01 nats (+ N(0, 0.02)).
        Noise z{7};
        std::vector<float> b(2000), q(2000);
        for (size_t i = 0; i < b.size(); ++i) {
            b[i] = float(std::max(0.0, 2.0 + z.normal()));
            q[i] = b[i] + float(0.01 + 0.02 * z.normal());
        }
        std::vector<ResultRecord> rs{pplFromNll("BF16", b), pplFromNll("INT8_Per_Row", q)};
        Report paired = buildReport(rs);
        std::string sp = cell(*paired.table("accuracy"), "INT8_Per_Row", "vs baseline").text;
        std::string dp = cell(*paired.table("accuracy"), "INT8_Per_Row", "Δ PPL").text;
        for (auto& r : rs)
            r.nll.clear();
        Report unpaired = buildReport(rs);
        std::string su = cell(*unpaired.table("accuracy"), "INT8_Per_Row", "vs baseline").text;
        qInfo("paired:   %s | Δ PPL %s", sp.c_str(), dp.c_str());
        qInfo("unpaired: %s", su.c_str());
        QVERIFY2(sp.find("paired ΔNLL") != std::string::npos && sp.find("✱") != std::string::npos, sp.c_str());
        QVERIFY2(dp.find("✱") != std::string::npos && dp.find('[') != std::string::npos, dp.c_str());
        QVERIFY2(su.find("unpaired") != std::string::npos && su.find("✱") == std::string::npos, su.c_str());
        QVERIFY2(su.find("no per-token NLL stored") != std::string::npos, su.c_str());
        bool largest = false;
        for (const auto& f : paired.findings)
            largest |= f.find("1 of 1 quantized configs differ from the baseline on PPL") != std::string::npos;
        QVERIFY(largest);
        bool noise = false;
        for (const auto& f : unpaired.findings)
            noise |= f.find("0 of 1 quantized configs differ") != std::string::npos;
        QVERIFY(noise);
    }

    void allInsideNoiseSaysMinimumDetectableEffect()
    {
        Noise z{11};
        std::vector<float> b(500), q(500);
        for (size_t i = 0; i < b.size(); ++i) {
            b[i] = float(2.0 + z.normal());
            q[i] = b[i] + float(0.05 * z.normal()); // no shift
        }
        Report r = buildReport({pplFromNll("BF16", b), pplFromNll("INT8_Per_Row", q)});
        bool mde = false;
        for (const auto& f : r.findings)
            mde |= f.find("inside noise") != std::string::npos && f.find("smallest detectable ΔPPL") != std::string::npos &&
                   f.find("500 tokens") != std::string::npos;
        QVERIFY(mde);
    }

    void mismatchedProtocolsAreRefused()
    {
        std::vector<float> v(100, 2.0f);
        ResultRecord b = pplFromNll("BF16", v, "aaaaaaaaaaaaaaaa");
        ResultRecord q = pplFromNll("INT8_Per_Row", v, "bbbbbbbbbbbbbbbb");
        Report r = buildReport({b, q});
        std::string s = cell(*r.table("accuracy"), "INT8_Per_Row", "vs baseline").text;
        QVERIFY2(s.find("not compared: different tokens") != std::string::npos, s.c_str());
        QVERIFY(!r.warnings.empty());
        QVERIFY2(r.warnings[0].find("Not compared with the baseline: INT8_Per_Row (different tokens") != std::string::npos,
                 r.warnings[0].c_str());
        // other ctx
        q = pplFromNll("INT8_Per_Row", v);
        q.settings["task"]["ctx"] = 256;
        r = buildReport({pplFromNll("BF16", v), q});
        s = cell(*r.table("accuracy"), "INT8_Per_Row", "vs baseline").text;
        QVERIFY2(s.find("different ctx (256 vs 128)") != std::string::npos, s.c_str());
        // other model, other MMLU question set
        ResultRecord mb = mmlu("BF16", pattern(20, 6, 1, 13, true)), mq = mmlu("INT8_Per_Row", pattern(20, 6, 1, 13, false));
        mq.question_set = "other";
        r = buildReport({mb, mq});
        s = cell(*r.table("accuracy"), "INT8_Per_Row", "vs baseline").text;
        QVERIFY2(s.find("different question set") != std::string::npos, s.c_str());
        mq.question_set = "qs";
        mb.model_config_hash = "1111111111111111";
        mq.model_config_hash = "2222222222222222";
        r = buildReport({mb, mq});
        s = cell(*r.table("accuracy"), "INT8_Per_Row", "vs baseline").text;
        QVERIFY2(s.find("different model") != std::string::npos, s.c_str());
    }

    void mmluFlipsAndBootstrapCi()
    {
        Report r = buildReport({mmlu("BF16", pattern(20, 6, 1, 13, true)), mmlu("INT8_Per_Row", pattern(20, 6, 1, 13, false))});
        std::string s = cell(*r.table("accuracy"), "INT8_Per_Row", "vs baseline").text;
        QVERIFY2(s.find("flips: 1 wrong→right, 6 right→wrong") != std::string::npos, s.c_str());
        QVERIFY2(s.find("paired bootstrap") != std::string::npos, s.c_str());
        Report again = buildReport({mmlu("BF16", pattern(20, 6, 1, 13, true)), mmlu("INT8_Per_Row", pattern(20, 6, 1, 13, false))});
        QCOMPARE(cell(*again.table("accuracy"), "INT8_Per_Row", "vs baseline").text, s); // seeded
    }

    void mmluPerSubjectTable()
    {
        ResultRecord b = mmlu("BF16", pattern(20, 6, 1, 13, true));
        ResultRecord q = mmlu("INT8_Per_Row", pattern(20, 6, 1, 13, false));
        b.details = {{"mmlu", {{"per_subject", {{"anatomy", {{"n", 20}, {"correct", 15}, {"accuracy", 0.75}}},
                                                 {"tiny", {{"n", 5}, {"correct", 5}, {"accuracy", 1.0}}}}}}}};
        q.details = {{"mmlu", {{"per_subject", {{"anatomy", {{"n", 20}, {"correct", 12}, {"accuracy", 0.6}}},
                                                 {"tiny", {{"n", 5}, {"correct", 4}, {"accuracy", 0.8}}}}}}}};
        Report r = buildReport({b, q});
        const Table* t = r.table("mmlu_subjects");
        QVERIFY(t);
        QCOMPARE(t->rows.size(), size_t(1)); // "tiny" has n < 10
        QCOMPARE(t->rows[0][0].text, std::string("anatomy"));
        QCOMPARE(t->rows[0][2].text, std::string("75.00 ± 9.68")); // sqrt(.75 * .25 / 20)
        QCOMPARE(t->rows[0][4].text, std::string("-15.00"));
        QCOMPARE(t->rows[0][5].text, std::string("INT8_Per_Row"));
    }

    void klBlockAndExportRoundTrip()
    {
        ResultRecord b = ppl("BF16", 10.0, 0.05);
        ResultRecord q = ppl("INT8_Per_Row", 10.1, 0.05);
        q.metrics.insert({{"kl_mean", 0.0125}, {"kl_mean_stderr", 0.0005}, {"kl_median", 0.004}, {"kl_p90", 0.03},
                          {"kl_p99", 0.12}, {"kl_p999", 0.4}, {"kl_max", 0.9}, {"top1_agreement", 0.95},
                          {"top1_agreement_stderr", 0.004}, {"dp_mean", -0.002}, {"dp_mean_stderr", 0.0003}, {"dp_rms", 0.02},
                          {"dp_p1", -0.08}, {"dp_p99", 0.05}});
        q.details = {{"kl", {{"tokens", 2040}, {"exact", false}, {"baseline_logprobs", "top-64 log-probs + one tail bucket"}}}};
        Report r = buildReport({b, q});
        const Table* k = r.table("kl");
        QVERIFY(k);
        QCOMPARE(k->rows.size(), size_t(1));
        QCOMPARE(cell(*k, "INT8_Per_Row", "KLD mean ↓").text, std::string("0.012500 ± 0.000500"));
        QCOMPARE(cell(*k, "INT8_Per_Row", "KLD p99.9").text, std::string("0.400000"));
        QCOMPARE(cell(*k, "INT8_Per_Row", "Same top-1 % ↑").text, std::string("95.00 ± 0.40"));
        QCOMPARE(cell(*k, "INT8_Per_Row", "Δp mean").text, std::string("-0.20000 ± 0.03000"));
        QCOMPARE(cell(*k, "INT8_Per_Row", "Tokens").text, std::string("2040"));
        QVERIFY(k->notes[0].find("top-64 log-probs + one tail bucket") != std::string::npos);
        // Markdown: value ± err
        QVERIFY(r.markdown().find("0.012500 ± 0.000500") != std::string::npos);
        // CSV: separate error columns
        const std::string csv = k->csv();
        QVERIFY2(csv.find("KLD mean ↓,KLD mean ↓ ±,KLD median") != std::string::npos, csv.c_str());
        QVERIFY2(csv.find("Real,INT8_Per_Row,0.012500,0.0005,0.004000") != std::string::npos, csv.c_str());
        // JSON: value and err survive a dump and parse
        nlohmann::json j = nlohmann::json::parse(r.toJson().dump());
        bool seen = false;
        for (const auto& t : j["tables"])
            if (t["id"] == "kl") {
                QCOMPARE(t["rows"][0][2]["value"].get<double>(), 0.0125);
                QCOMPARE(t["rows"][0][2]["err"].get<double>(), 0.0005);
                QCOMPARE(t["rows"][0][12]["value"].get<double>(), 95.0);
                seen = true;
            }
        QVERIFY(seen);
    }

    void nllSidecarRoundTripAndHashCheck()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path d = dir.path().toStdString();
        ResultRecord r = ppl("INT8_Per_Row", 10, 0.1);
        r.nll = {0.5f, 1.25f, 3.0f};
        writeNllSidecar(d, r);
        QVERIFY(r.details.contains("nll_sidecar"));
        const std::string file = r.details["nll_sidecar"]["file"];
        QVERIFY(std::filesystem::exists(d / file));
        QCOMPARE(std::filesystem::file_size(d / file), uintmax_t(12));
        ResultRecord back = ResultRecord::fromJson(r.toJson(), "test");
        back.source = (d / "results.jsonl").string();
        std::string why;
        QCOMPARE(loadNllSidecar(back, &why), (std::vector<float>{0.5f, 1.25f, 3.0f}));
        {
            std::ofstream f(d / file, std::ios::binary | std::ios::trunc);
            f.write("\0\0\0\0\0\0\0\0\0\0\0\0", 12);
        }
        QVERIFY(loadNllSidecar(back, &why).empty());
        QVERIFY2(why.find("sha256") != std::string::npos, why.c_str());
        ResultRecord old = ppl("BF16", 10, 0.1);
        QVERIFY(loadNllSidecar(old, &why).empty());
        QVERIFY2(why.find("older record") != std::string::npos, why.c_str());
    }
};

QTEST_GUILESS_MAIN(TestReport)
#include "tst_report.moc"
