// Scale: the thread policy (applied to libtorch and the kernels, recorded in results), the memory
// budget (an oversize model refused up front with the numbers; scheme switches leave resident
// memory flat; a fake scheme holds codes, not a second copy), and `bench e2e` rows (finite, with
// their error against float32, so a fast wrong kernel fails here). No timing is asserted: speed is
// what `bench e2e` prints.
#include "qbtest.h"

#include "core/eval/ppl.h"
#include "core/model/llama.h"
#include "core/model/make_model.h"
#include "core/quant/model_quantizer.h"
#include "core/quant/scheme.h"
#include "core/util/error.h"
#include "core/util/memory.h"
#include "core/util/threads.h"
#include "kernels/common.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <QProcess>
#include <QTemporaryDir>

#include <cmath>
#include <cstdlib>

namespace {

struct Run {
    int code = -1;
    std::string out, err;
};

Run runCli(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment(),
           int timeoutMs = 300000)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QString::fromStdString(qbtest::cliPath()), args);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput().toStdString();
    r.err = p.readAllStandardError().toStdString();
    return r;
}

// A random model big enough that its weights dwarf allocator noise (~25 MB in bf16), built in memory.
std::shared_ptr<qb::LlamaModel> mediumModel(at::ScalarType dt)
{
    qb::ModelConfig c = qb::presetConfig("tiny-llama3");
    c.hidden_size = 512;
    c.intermediate_size = 1536;
    c.num_attention_heads = 8;
    c.num_key_value_heads = 4;
    c.head_dim = 64;
    c.num_hidden_layers = 4;
    c.vocab_size = 4096;
    torch::manual_seed(3);
    std::map<std::string, at::Tensor> t;
    for (const auto& [name, shape] : qb::expectedTensors(c))
        t[name] = name.find("norm") != std::string::npos ? at::ones(shape) : at::randn(shape) * 0.05;
    return std::make_shared<qb::LlamaModel>(c, [&](const std::string& n) { return t.count(n) ? t.at(n) : at::Tensor(); }, dt);
}

double toMb(uint64_t b) { return double(b) / double(1 << 20); }

} // namespace

class TestPerf : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void threadPolicyAppliesEverywhere()
    {
        const qb::ThreadPolicy one = qb::applyThreadPolicy(1);
        QCOMPARE(one.threads, 1);
        QCOMPARE(one.source, std::string("requested"));
        QCOMPARE(at::get_num_threads(), 1);
        QCOMPARE(qb::kernels::num_threads(), 1);
        const qb::ThreadPolicy three = qb::applyThreadPolicy(3);
        QCOMPARE(at::get_num_threads(), 3);
        QCOMPARE(qb::kernels::num_threads(), 3);
        QCOMPARE(qb::currentThreadPolicy().threads, 3);
        QVERIFY(three.cpus_allowed >= 1);
        if (three.blas == "openblas")
            QCOMPARE(three.blas_threads, 1); // nothing nests: the BLAS runs in the calling thread
        const qb::ThreadPolicy dflt = qb::applyThreadPolicy(0);
        QCOMPARE(dflt.threads, std::getenv("QB_THREADS") ? std::atoi(std::getenv("QB_THREADS")) : qb::allowedCpus());
        QCOMPARE(dflt.toJson().at("threads").get<int>(), dflt.threads);
    }

    void threadCountIsRecordedInResults()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("run"));
        const auto text = qbtest::sourceDir() / "resources/demo/tinystories_sample.txt";
        const Run r = runCli({"run", "--threads", "1", "--scheme", "INT8_Per_Row", "--tasks", "ppl", "--ctx", "64", "--max-windows",
                              "1", "--ppl-text", QString::fromStdString(text.string()), "--device", "cpu", "--out", out, "--quiet"});
        QVERIFY2(r.code == 0, r.err.c_str());
        std::ifstream in((out + QStringLiteral("/results.jsonl")).toStdString());
        std::string line;
        QVERIFY(std::getline(in, line));
        const auto rec = nlohmann::json::parse(line);
        QCOMPARE(rec.at("provenance").at("threads").get<int>(), 1);
        QVERIFY(!rec.at("provenance").at("kernels").get<std::string>().empty());
        // A bad value is an error naming the option.
        const Run bad = runCli({"info", "--threads", "lots"});
        QCOMPARE(bad.code, 1);
        QVERIFY2(bad.err.find("--threads") != std::string::npos, bad.err.c_str());
    }

    void ompWaitIsPassiveAfterAShortSpin()
    {
        // The spin count is timed on this CPU: 100x longer asked, clearly more iterations.
        const long shortSpin = qb::ompSpinCountFor(3.0), longSpin = qb::ompSpinCountFor(300.0);
        QVERIFY2(shortSpin >= 100 && longSpin <= 1000000, qPrintable(QString::number(shortSpin)));
        QVERIFY2(longSpin > 10 * shortSpin || shortSpin == 100, qPrintable(QStringLiteral("%1 %2").arg(shortSpin).arg(longSpin)));

        // The CLI re-executes itself with PASSIVE and a spin count when the user set neither ...
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("OMP_WAIT_POLICY"));
        env.remove(QStringLiteral("GOMP_SPINCOUNT"));
        const Run set = runCli({"info", "--json"}, env);
        QVERIFY2(set.code == 0, set.err.c_str());
        const auto th = nlohmann::json::parse(set.out).at("threads");
        QCOMPARE(th.at("omp_wait_policy").get<std::string>(), std::string("PASSIVE"));
        const long spin = std::atol(th.at("omp_spin_count").get<std::string>().c_str());
        QVERIFY2(spin >= 100 && spin <= 1000000, set.out.c_str());
        const Run text = runCli({"info"}, env);
        QVERIFY2(text.out.find("OpenMP wait PASSIVE, spin ") != std::string::npos, text.out.c_str());

        // ... and keeps what the user set.
        env.insert(QStringLiteral("OMP_WAIT_POLICY"), QStringLiteral("ACTIVE"));
        const Run user = runCli({"info", "--json"}, env);
        QVERIFY2(user.code == 0, user.err.c_str());
        const auto uth = nlohmann::json::parse(user.out).at("threads");
        QCOMPARE(uth.at("omp_wait_policy").get<std::string>(), std::string("ACTIVE"));
        QCOMPARE(uth.at("omp_spin_count").get<std::string>(), std::string("default"));
    }

    void oversizeModelIsRefusedUpFront()
    {
        QTemporaryDir dir;
        qb::MakeModelOptions o;
        o.like = "tiny-llama3";
        o.out = dir.filePath(QStringLiteral("m")).toStdString();
        o.dtype = "f32";
        (void)qb::makeModel(o);
        qputenv("QB_MEMORY_LIMIT_MB", "1"); // less than the process already holds
        bool threw = false;
        try {
            (void)qb::LlamaModel::load(o.out, at::kFloat);
        } catch (const qb::Error& e) {
            threw = true;
            const std::string m = e.what();
            QVERIFY2(m.find("needs") != std::string::npos && m.find("available") != std::string::npos, m.c_str());
            QVERIFY2(m.find("QB_MEMORY_LIMIT_MB") != std::string::npos, m.c_str());
            QVERIFY2(m.find(o.out) != std::string::npos, m.c_str());
        }
        qunsetenv("QB_MEMORY_LIMIT_MB");
        QVERIFY(threw);
        QVERIFY(qb::LlamaModel::load(o.out, at::kFloat) != nullptr); // fits without the limit

        // The sweep refuses before loading, naming the baseline, the quantized copy and the budget.
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QB_MEMORY_LIMIT_MB"), QStringLiteral("1"));
        const auto text = qbtest::sourceDir() / "resources/demo/tinystories_sample.txt";
        const Run r = runCli({"run", "--model", QString::fromStdString(o.out), "--scheme", "INT8_Per_Row", "--tasks", "ppl",
                              "--ppl-text", QString::fromStdString(text.string()), "--device", "cpu", "--out",
                              dir.filePath(QStringLiteral("run")), "--quiet"},
                             env);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.find("needs") != std::string::npos && r.err.find("largest quantized copy") != std::string::npos, r.err.c_str());
    }

    void schemeSwitchesKeepMemoryFlat()
    {
        if (qbtest::kAsan)
            QSKIP("ASan's quarantine keeps freed memory resident (up to 256 MB) by design, so resident growth "
                  "says nothing under it: the dev preset runs this check");
        qb::configureAllocator(); // as the CLI and the window run: freed memory stays in the heap until a switch
        qb::applyThreadPolicy(0);
        auto model = mediumModel(at::kBFloat16);
        const double weights = double(model->weightBytes());
        qb::ModelQuantizer q(*model);
        auto ids = at::randint(0, 4096, {1, 96}, at::kLong);
        std::vector<at::Tensor> calib = {at::randint(0, 4096, {96}, at::kLong)};
        q.calibrate(calib);
        const char* schemes[] = {"INT8_Per_Row", "INT8_Per_Row_Fake", "FP8_Per_Group_128", "SmoothQuant_INT8_W8A8",
                                 "INT8_Per_Group_64_Fake"};
        uint64_t after5 = 0, after20 = 0;
        for (int i = 0; i < 20; ++i) {
            const auto rep = q.apply(qb::QuantScheme::parse(schemes[i % 5]));
            // Real and fake schemes alike hold codes + scales: well under the bf16 linears.
            QVERIFY2(double(rep.linear_bytes_after) < 0.6 * double(rep.linear_bytes_before), schemes[i % 5]);
            QVERIFY(torch::isfinite(model->forward(ids)).all().item<bool>());
            if (i == 4) after5 = qb::residentBytes();
            if (i == 19) after20 = qb::residentBytes();
        }
        q.restore();
        QVERIFY(after5 > 0 && after20 > 0);
        // 15 more switches may not grow resident memory by more than a tenth of the weights (+4 MiB
        // of allocator slack); a leaked copy per switch would add 15 x ~12 MiB.
        const double growth = double(after20) - double(after5);
        QVERIFY2(growth < 0.1 * weights + 4.0 * (1 << 20),
                 qPrintable(QStringLiteral("resident grew by %1 MiB over 15 switches (weights %2 MiB)")
                                .arg(growth / (1 << 20)).arg(weights / (1 << 20))));
    }

    void benchE2eRowsAreFiniteAndCarryTheirError()
    {
        const Run r = runCli({"bench", "e2e", "--ctx", "64", "--windows", "1", "--prefill-batch", "2", "--prefill-len", "16",
                              "--decode-prompt", "8", "--decode-tokens", "8", "--repeats", "1", "--bw-mb", "64", "--json"});
        QVERIFY2(r.code == 0, r.err.c_str());
        const auto j = nlohmann::json::parse(r.out);
        QVERIFY(j.at("bandwidth_gbs").get<double>() > 0);
        QVERIFY(j.at("threads").at("threads").get<int>() >= 1);
        const auto& rows = j.at("rows");
        QCOMPARE(int(rows.size()), 5);
        QCOMPARE(rows[0].at("scheme").get<std::string>(), std::string("BF16"));
        for (const auto& row : rows) {
            const std::string s = row.at("scheme").get<std::string>();
            QVERIFY2(!row.contains("error"), (s + ": " + row.value("error", std::string())).c_str());
            for (const char* k : {"ppl_tokens_per_s", "prefill_samples_per_s", "decode_tokens_per_s", "pct_roofline", "weight_bytes",
                                  "peak_resident_bytes", "peak_net_over_baseline_weights", "ppl", "ppl_tokens_per_s_vs_baseline", "decode_tokens_per_s_vs_baseline",
                                  "bandwidth_gbs", "held_net_over_baseline_weights"}) {
                const double v = row.at(k).get<double>();
                // Under ASan the fp32 reference model's freed memory sits in the quarantine and is
                // reused by the next model, so the net peak can be <= 0 there.
                const bool netUnderAsan = qbtest::kAsan && std::string(k).find("_net_over_") != std::string::npos;
                QVERIFY2(std::isfinite(v) && (v > 0 || netUnderAsan), (s + ": " + k).c_str());
            }
            const double actKv = row.at("activation_kv_peak_bytes").get<double>();
            QVERIFY2(std::isfinite(actKv) && actKv >= 0, (s + ": activation_kv_peak_bytes").c_str());
            // The logits against the float32 model: bf16 rounding alone is ~1e-3..1e-2; a broken kernel
            // is O(1). 8-bit schemes on this model stay well under 0.1.
            const double e = row.at("rel_err_vs_fp32").get<double>();
            QVERIFY2(e > 0 && e < 0.1, qPrintable(QStringLiteral("%1: rel err %2").arg(QString::fromStdString(s)).arg(e)));
        }
        QCOMPARE(rows[0].at("ppl_tokens_per_s_vs_baseline").get<double>(), 1.0);
        // Quantized schemes hold fewer weight bytes than the bf16 baseline.
        for (size_t i = 1; i < rows.size(); ++i)
            QVERIFY(rows[i].at("weight_bytes").get<double>() < rows[0].at("weight_bytes").get<double>());
        // Every scheme row carries its paired decode ratio (default 3 pairs), ordered min <= median <= max;
        // the baseline row has none (it is the reference of the pairs).
        QVERIFY(!rows[0].contains("decode_paired_vs_baseline"));
        for (size_t i = 1; i < rows.size(); ++i) {
            const double lo = rows[i].at("decode_paired_vs_baseline_min").get<double>(),
                         med = rows[i].at("decode_paired_vs_baseline").get<double>(),
                         hi = rows[i].at("decode_paired_vs_baseline_max").get<double>();
            QVERIFY2(std::isfinite(lo) && lo > 0 && lo <= med && med <= hi && std::isfinite(hi), rows[i].dump().c_str());
        }
    }
};

QTEST_APPLESS_MAIN(TestPerf)
#include "tst_perf.moc"
