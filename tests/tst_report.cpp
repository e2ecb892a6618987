// Report tables from fixture records: grouping, best-in-bold, deltas, McNemar against hand
// computed values, INT8 vs FP8 recommendation, flags for quantized configs beating the baseline.
#include "qbtest.h"

#include "core/report/report.h"
#include "core/report/stats.h"

#include <cmath>

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
    static Cell none{"<missing>", std::nullopt, false};
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
        QVERIFY(csv.find("Baseline,BF16,10.000 ± 0.050") != std::string::npos);
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
        const Table* fl = r.table("failed");
        QVERIFY(fl);
        QCOMPARE(fl->rows[0][2].text, std::string("out of memory"));
        QVERIFY(r.toJson()["tables"].size() >= 2);
    }
};

QTEST_GUILESS_MAIN(TestReport)
#include "tst_report.moc"
