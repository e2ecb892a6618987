// The benchmark subcommands of quantbench-cli, run as a user runs them (--json, small sizes):
// every row finite and positive, each kernel's output within its scheme's error of libtorch fp32
// (a kernel that returns garbage fast fails here, not only in tst_kernels), the paired cold probe
// consistent with the %bw it yields, and bench eval's switch/restore and quantized weight bytes.
#include "qbtest.h"

#include <nlohmann/json.hpp>

#include <QProcess>

#include <cmath>
#include <map>
#include <set>

namespace {

// Runs the CLI; fails the test on a non-zero exit and returns stdout parsed as JSON.
nlohmann::json runJson(const QStringList& args, int timeoutMs = 300000)
{
    QProcess p;
    p.start(QString::fromStdString(qbtest::cliPath()), args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return nlohmann::json{{"error", "timed out: " + args.join(' ').toStdString()}};
    }
    const std::string out = p.readAllStandardOutput().toStdString();
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return nlohmann::json{{"error", "exit " + std::to_string(p.exitCode()) + ": " + p.readAllStandardError().toStdString()}};
    try {
        return nlohmann::json::parse(out);
    } catch (const std::exception& e) {
        return nlohmann::json{{"error", std::string("not JSON: ") + e.what() + "\n" + out.substr(0, 400)}};
    }
}

bool finitePositive(const nlohmann::json& v) { return v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() > 0; }

} // namespace

class TestCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void benchGemmRefusesBadShapes()
    {
        for (const auto& [opt, val] : {std::pair{"--shapes", "4864x"}, {"--shapes", "0x896"}, {"--shapes", "4864x896x2"}, {"--rows", "1,0"},
                                       {"--rows", "abc"}}) {
            const auto j = runJson({"bench", "gemm", opt, val, "--json"});
            QVERIFY2(j.contains("error"), (std::string(opt) + " " + val + " was accepted").c_str());
            QVERIFY2(j.at("error").get<std::string>().find(opt) != std::string::npos, j.at("error").get<std::string>().c_str());
        }
    }

    void benchGemmRowsAreMeasuredAndCorrect()
    {
        const auto j = runJson({"bench", "gemm", "--quick", "--json"});
        QVERIFY2(!j.contains("error"), j.value("error", std::string()).c_str());
        QCOMPARE(j.at("benchmark").get<std::string>(), std::string("gemm"));
        QVERIFY(finitePositive(j.at("bandwidth_gbs")));
        QVERIFY(finitePositive(j.at("bandwidth_gbs_end")));
        std::map<std::pair<int64_t, std::string>, nlohmann::json> byMethod;
        for (const auto& r : j.at("rows")) {
            const std::string m = r.at("method").get<std::string>();
            QVERIFY2(finitePositive(r.at("ms")) && finitePositive(r.at("weight_gbs")), m.c_str());
            byMethod[{r.at("M").get<int64_t>(), m}] = r;
        }
        // --quick: M in {1, 8} on (N, K) = (256, 512).
        for (int64_t M : {1, 8}) {
            for (const char* m : {"torch fp32", "torch bf16", "wo int8 row", "wo int8 g128", "wo fp8 row", "wo int8 row (x bf16)"})
                QVERIFY2(byMethod.count({M, m}), m);
            QCOMPARE(byMethod.at({M, "torch fp32"}).at("rel_err").get<double>(), 0.0);
            for (const auto& [key, r] : byMethod) {
                if (key.first != M || r.at("rel_err").is_null()) continue;
                const double e = r.at("rel_err").get<double>();
                // Quantization error of 8-bit codes on Gaussian weights: INT8 ~1e-2, E4M3 ~3e-2,
                // bf16 ~3e-3. A wrong scale, layout or tail gives O(1).
                const double bound = key.second.rfind("torch", 0) == 0 ? 1e-2 : key.second.find("fp8") != std::string::npos ? 6e-2 : 3e-2;
                QVERIFY2(std::isfinite(e) && e < bound, (key.second + ": rel_err " + std::to_string(e)).c_str());
                // fp32 weights are not quantized: only the summation order differs.
                if (key.second != "torch fp32" && key.second != "qb dense fp32")
                    QVERIFY2(e > 1e-5, (key.second + ": no quantization error at all").c_str());
            }
        }
        // The cold GEMV row and its paired probe: %bw is probe time / kernel time.
        QVERIFY(byMethod.count({1, "wo int8 row (cold W)"}));
        QVERIFY(byMethod.count({1, "read probe (cold, paired)"}));
        const auto& cold = byMethod.at({1, "wo int8 row (cold W)"});
        const auto& probe = byMethod.at({1, "read probe (cold, paired)"});
        QVERIFY(probe.at("rel_err").is_null());
        QCOMPARE(probe.at("pct_bandwidth").get<double>(), 100.0);
        QVERIFY(std::abs(cold.at("pct_bandwidth").get<double>() - probe.at("ms").get<double>() / cold.at("ms").get<double>() * 100) < 1e-6);
    }

    void benchForwardReportsPrefillAndDecode()
    {
        const auto j = runJson({"bench", "forward", "--model", QString::fromStdString(qbtest::demoModelDir().string()),
                                "--prompt-len", "16", "--new-tokens", "4", "--repeats", "1", "--dtypes", "f32,bf16", "--json"});
        QVERIFY2(!j.contains("error"), j.value("error", std::string()).c_str());
        QCOMPARE(j.at("results").size(), size_t(2));
        std::set<std::string> dtypes;
        for (const auto& r : j.at("results")) {
            dtypes.insert(r.at("dtype").get<std::string>());
            for (const char* k : {"prefill_tokens_per_s", "decode_tokens_per_s", "prefill_seconds", "decode_seconds", "weight_bytes"})
                QVERIFY2(finitePositive(r.at(k)), k);
        }
        QCOMPARE(dtypes, (std::set<std::string>{"f32", "bf16"}));
        // bf16 weights are half the fp32 bytes of the same model (every weight is a matrix or a norm).
        const auto& r = j.at("results");
        const double f = r[0].at("dtype") == "f32" ? r[0].at("weight_bytes").get<double>() : r[1].at("weight_bytes").get<double>();
        const double b = r[0].at("dtype") == "bf16" ? r[0].at("weight_bytes").get<double>() : r[1].at("weight_bytes").get<double>();
        QCOMPARE(b * 2, f);
    }

    void benchEvalSwitchesSchemes()
    {
        const auto j = runJson({"bench", "eval", "--model", QString::fromStdString(qbtest::demoModelDir().string()),
                                "--schemes", "INT8_Per_Row,FP8_Per_Row", "--windows", "2", "--questions", "4", "--repeats", "1", "--json"});
        QVERIFY2(!j.contains("error"), j.value("error", std::string()).c_str());
        const auto& rows = j.at("rows");
        QCOMPARE(rows.size(), size_t(3));
        QCOMPARE(rows[0].at("scheme").get<std::string>(), std::string("FP32 (baseline)"));
        const double baseBytes = rows[0].at("weight_bytes").get<double>();
        const double basePpl = rows[0].at("ppl").get<double>();
        QVERIFY(finitePositive(rows[0].at("ppl")));
        for (size_t i = 1; i < rows.size(); ++i) {
            const auto& r = rows[i];
            for (const char* k : {"switch_seconds", "restore_seconds", "ppl_tokens_per_s", "mmlu_direct_questions_per_s", "ppl"})
                QVERIFY2(finitePositive(r.at(k)), (r.at("scheme").get<std::string>() + ": " + k).c_str());
            // Decoder linears in 8-bit codes: fewer bytes than fp32, and a PPL near the baseline.
            QVERIFY(r.at("weight_bytes").get<double>() < baseBytes * 0.6);
            QVERIFY2(std::abs(r.at("ppl").get<double>() / basePpl - 1) < 0.05, r.dump().c_str());
        }
    }

    void benchRejectsBadArguments()
    {
        QProcess p;
        p.start(QString::fromStdString(qbtest::cliPath()), {"bench", "eval", "--schemes", "INT8_Per_Lump", "--json"});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        const QString err = p.readAllStandardError();
        QVERIFY2(err.contains("INT8_Per_Lump"), qPrintable(err));
        QProcess q;
        q.start(QString::fromStdString(qbtest::cliPath()), {"bench", "nosuch"});
        QVERIFY(q.waitForFinished(60000));
        QVERIFY(q.exitCode() != 0);
    }
};
QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
