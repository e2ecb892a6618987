// GUI tests (offscreen): models, scheme matrix -> sweep JSON, a whole sweep driven through the
// window, cancel + resume, superseded runs, loading a folder of mixed files, exports, screenshot.
// Sweeps run through core's sweep runner; most tests give it the stub backend of sim_backend.h
// (real ResultRecords, no model) so they are fast and deterministic; realDemoSweepThroughWindow
// runs the real model backend on the bundled demo model.
#include "qbtest.h"
#include "sim_backend.h"

#define QVERIFY_RETURN(cond, ret) do { if (!QTest::qVerify(static_cast<bool>(cond), #cond, "", __FILE__, __LINE__)) return ret; } while (0)

#include "ui/app_main.h"
#include "ui/charts/chart_adapter.h"
#include "ui/charts_page.h"
#include "ui/cluster_dialog.h"
#include "ui/run_folder_follower.h"
#include "ui/elide.h"
#include "ui/charts/chart_specs.h"
#include "ui/exporter.h"
#include "ui/model_info.h"
#include "ui/results_model.h"
#include "ui/results_page.h"
#include "ui/run_controller.h"
#include "ui/run_panel.h"
#include "ui/main_window.h"
#include "ui/scheme_matrix.h"
#include "ui/setup_panel.h"
#include "ui/summary_page.h"
#include "ui/compare_page.h"
#include "ui/analysis_page.h"
#include "ui/heat_map.h"
#include "core/report/report.h"
#include <QScrollBar>
#include <QScrollArea>
#include <QSpinBox>
#include "ui/report_tables.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QDir>
#include <QLabel>
#include <QComboBox>
#include <QElapsedTimer>
#include <QImage>
#include <QLineEdit>
#include <QMimeData>
#include <QUrl>
#include <QProcess>
#include <QPushButton>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QSvgRenderer>
#include <QTableView>
#include <QTemporaryDir>

#include <set>
#include <QToolButton>

#include "core/data/csv.h"
#include "core/results/store.h"

using namespace qb::ui;
namespace fs = std::filesystem;

namespace {

const std::string kPpl = qb::metricKey(qb::task::Ppl, "ppl");

// A core PPL record of `name`, as the runner or the loader would hand it to the window.
qb::ResultRecord result(const std::string& name, double ppl, const std::string& source = {})
{
    qb::ResultRecord r;
    r.config = name;
    r.scheme = qb::QuantScheme::parse(name).toJson();
    r.task = qb::task::Ppl;
    r.metrics = {{"ppl", ppl}, {"ppl_stderr", 0.1}, {"n_tokens", 100}};
    r.source = source;
    return r;
}


int distinctColours(const QImage& img)
{
    QSet<QRgb> seen;
    for (int y = 0; y < img.height(); y += 2)
        for (int x = 0; x < img.width(); x += 2)
            seen.insert(img.pixel(x, y));
    return int(seen.size());
}

// n configs with parseable names: the scheme matrix of this run, then loaded ones (tagged names).
std::vector<qb::ResultRecord> manyConfigs(int n)
{
    std::vector<std::string> names = {"FP32", "SmoothQuant_INT8_W8A8", "SmoothQuant_FP8_W8A8"};
    for (const char* dt : {"INT8", "FP8"})
        for (const char* g : {"Per_Tensor", "Per_Row", "Per_Group_512", "Per_Group_256", "Per_Group_128", "Per_Group_64"})
            for (const char* m : {"", "_Fake"})
                names.push_back(std::string(dt) + "_" + g + m);
    std::vector<qb::ResultRecord> out;
    for (int i = 0; i < n; ++i) {
        const size_t k = size_t(i) % names.size();
        const std::string src = i < int(names.size()) ? std::string() : "/x/old/run" + std::to_string(i / names.size()) + ".json";
        out.push_back(result(names[k], 8.0 + 0.01 * i, src));
    }
    return out;
}

bool overlaps(const std::vector<std::pair<QString, QRectF>>& labels, QString* which)
{
    for (size_t i = 0; i < labels.size(); ++i)
        for (size_t j = i + 1; j < labels.size(); ++j)
            if (labels[i].second.adjusted(0.5, 0.5, -0.5, -0.5).intersects(labels[j].second)) {
                *which = labels[i].first + QStringLiteral(" / ") + labels[j].first;
                return true;
            }
    return false;
}


// docs/analysis.md records of a tiny 3-layer model: the FP32 baseline (ppl + outliers),
// INT8_Per_Tensor (ppl + sensitivity; the most sensitive unit is L1.down, then L2.q; the curve
// meets the KL budget 0.01 at k = 2) and SmoothQuant INT8 at α 0, 0.5, 1 (ppl: lowest PPL at 0.5,
// lowest KL at 1; α 0.5 also has an outliers record with smoothed values). Outliers: the largest
// activation is channel 17 of layer 2's attn input (500), so L2.q/k/v have the largest ratio.
const std::vector<std::string> kProjs = {"q", "k", "v", "o", "gate", "up", "down"};
const std::string kRecommended = "INT8_Per_Tensor+keep:L1.down,L2.q";

std::string fullLinear(int layer, const std::string& p)
{
    const bool attn = p == "q" || p == "k" || p == "v" || p == "o";
    return "model.layers." + std::to_string(layer) + (attn ? ".self_attn." : ".mlp.") + p + "_proj";
}

qb::ResultRecord sensitivityFixture()
{
    qb::ResultRecord r;
    r.config = "INT8_Per_Tensor";
    r.scheme = qb::QuantScheme::parse(r.config).toJson();
    r.task = "sensitivity";
    nlohmann::json units = nlohmann::json::array();
    for (int l = 0; l < 3; ++l)
        for (size_t c = 0; c < kProjs.size(); ++c) {
            double kl = 1e-5 * double(1 + l * 7 + int(c));
            if (l == 1 && kProjs[c] == "down")
                kl = 0.05;
            if (l == 2 && kProjs[c] == "q")
                kl = 0.03;
            const std::string name = fullLinear(l, kProjs[c]);
            units.push_back({{"name", name}, {"short", "L" + std::to_string(l) + "." + kProjs[c]}, {"layer", l},
                             {"proj", kProjs[c]}, {"linears", {name}}, {"kl", kl}, {"kl_p99", kl * 5}, {"top1", 0.99},
                             {"dnll", kl / 2}, {"sqnr_db", 30.0 - l}, {"w_absmax", 0.4}, {"w_kurtosis", 3.1},
                             {"x_absmax", 12.5}, {"x_kurtosis", 40.2}, {"x_outlier_frac", 0.01},
                             {"bytes_base", 131072}, {"bytes_quant", 33024}});
        }
    nlohmann::json ranking = nlohmann::json::array({fullLinear(1, "down"), fullLinear(2, "q")});
    for (int l = 2; l >= 0; --l)
        for (int c = 6; c >= 0; --c)
            if (!(l == 1 && c == 6) && !(l == 2 && c == 0))
                ranking.push_back(fullLinear(l, kProjs[size_t(c)]));
    nlohmann::json curve = nlohmann::json::array();
    const std::vector<std::pair<int, double>> pts = {{0, 0.02}, {1, 0.012}, {2, 0.008}, {4, 0.005}, {8, 0.002}, {21, 0.0}};
    for (const auto& [k, kl] : pts)
        curve.push_back({{"k", k}, {"kl", kl}, {"ppl", 9.0 - 0.04 * k}, {"dppl", 1.0 - 0.04 * k},
                         {"linear_bytes", 1000000 + 100000 * k},
                         {"scheme", k == 0 ? std::string("INT8_Per_Tensor") : k == 2 ? kRecommended : std::string("INT8_Per_Tensor+keep:L1.down")},
                         {"refined", false}});
    r.details["sensitivity"] = {{"mode", "linear"}, {"windows", 4}, {"len", 128}, {"tokens", 508}, {"base_nll", 2.0},
                                {"base_ppl", 8.0}, {"units", units}, {"ranking", ranking}, {"curve", curve},
                                {"budget", {{"kl", 0.01}, {"dppl", -1}}},
                                {"recommended", {{"k", 2}, {"scheme", kRecommended}, {"keep", {"L1.down", "L2.q"}},
                                                 {"kl", 0.008}, {"ppl", 8.92}, {"dppl", 0.92}, {"linear_bytes", 1200000},
                                                 {"met", true}}}};
    r.metrics = {{"base_ppl", 8.0}, {"full_kl", 0.02}, {"full_ppl", 9.0}, {"units", 21}, {"recommended_k", 2},
                 {"recommended_kl", 0.008}, {"full_linear_mb", 1.0}, {"baseline_linear_mb", 4.0}, {"budget_met", 1}};
    return r;
}

qb::ResultRecord outliersFixture(const std::string& config, bool smoothed)
{
    qb::ResultRecord r;
    r.config = config;
    r.scheme = qb::QuantScheme::parse(config).toJson();
    r.task = "outliers";
    nlohmann::json layers = nlohmann::json::array(), heat = nlohmann::json::array();
    for (int l = 0; l < 3; ++l) {
        nlohmann::json entry = {{"layer", l}};
        for (const char* in : {"attn", "o", "mlp", "down"}) {
            std::vector<double> act(64), w(64);
            for (size_t c = 0; c < 64; ++c) {
                act[c] = 1.0 + double((c * 7 + size_t(l)) % 10) / 10.0;
                w[c] = 0.1 + double(c % 5) / 100.0;
            }
            if (l == 2 && std::string(in) == "attn")
                act[17] = 500.0;
            nlohmann::json o = {{"act", act}, {"w", w}};
            if (smoothed && (std::string(in) == "attn" || std::string(in) == "mlp")) {
                std::vector<double> as(act), ws(w);
                for (size_t c = 0; c < 64; ++c)
                    as[c] = std::sqrt(act[c]), ws[c] = w[c] * std::sqrt(act[c]);
                o["act_smoothed"] = as;
                o["w_smoothed"] = ws;
            }
            entry[in] = o;
        }
        layers.push_back(entry);
        for (const auto& p : kProjs) {
            const std::string in = p == "q" || p == "k" || p == "v" ? "attn" : p == "gate" || p == "up" ? "mlp" : p;
            const double ratio = (l == 2 && in == "attn") ? 300.0 : 2.0 + l + (p == "down" ? 5.0 : 0.0);
            nlohmann::json h = {{"layer", l}, {"proj", p}, {"input", in}, {"act_ratio", ratio}, {"act_max", ratio * 1.5},
                                {"w_ratio", 3.0}};
            if (smoothed) {
                h["act_ratio_smoothed"] = in == "attn" || in == "mlp" ? std::sqrt(ratio) : ratio;
                h["w_ratio_smoothed"] = 4.0;
            }
            heat.push_back(h);
        }
    }
    r.details["outliers"] = {{"alpha", smoothed ? nlohmann::json(0.5) : nlohmann::json()}, {"sequences", 16},
                             {"tokens", 2048}, {"layers", layers}, {"heat", heat}};
    r.metrics = {{"act_ratio_max", 300}, {"act_ratio_median", 4}, {"worst_layer", 2}};
    if (smoothed)
        r.metrics["act_ratio_max_smoothed"] = std::sqrt(300.0);
    return r;
}

std::vector<qb::ResultRecord> analysisFixture()
{
    std::vector<qb::ResultRecord> out = {result("FP32", 8.0), result("INT8_Per_Tensor", 9.0), sensitivityFixture(),
                                         outliersFixture("FP32", false)};
    const std::vector<std::pair<double, std::pair<double, double>>> sq = {{0.0, {8.6, 0.02}}, {0.5, {8.2, 0.01}}, {1.0, {8.9, 0.005}}};
    for (const auto& [alpha, v] : sq) {
        const qb::QuantScheme s = qb::QuantScheme::smoothQuant(qb::QDType::INT8, alpha);
        qb::ResultRecord r = result(s.name(), v.first);
        r.scheme = s.toJson();
        r.metrics["kl_mean"] = v.second;
        r.metrics["kl_mean_stderr"] = v.second / 10;
        out.push_back(r);
        if (alpha == 0.5)
            out.push_back(outliersFixture(s.name(), true));
    }
    return out;
}
} // namespace

class TestUi : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    QString modelDir_;

    // A small sweep on a stand-in model folder: 2 dtypes x 3 granularities x 2 modes + SmoothQuant.
    SweepSetup smallSweep() const
    {
        SweepSetup s = demoSweep();
        s.model_dir = modelDir_.toStdString();
        s.evals.ppl_dataset = (qbtest::sourceDir() / "resources/demo/tinystories_sample.txt").string();
        s.evals.calib_dataset = s.evals.ppl_dataset;
        return s;
    }

    std::unique_ptr<MainWindow> window(int msPerConfig)
    {
        auto w = std::make_unique<MainWindow>();
        w->setQuietDialogs(true);
        w->setConfirmClose(false);
        w->controller()->setBackendFactory([msPerConfig] { return std::make_unique<qbtest::SimBackend>(msPerConfig); });
        w->setupPanel()->setSetup(smallSweep());
        w->resize(1400, 900);
        w->show();
        QVERIFY_RETURN(QTest::qWaitForWindowExposed(w.get()), nullptr);
        QTest::qWait(50); // first layout and paint happen before the sweep, as for a user
        return w;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(tmp_.isValid());
        qputenv("XDG_CONFIG_HOME", tmp_.filePath(QStringLiteral("config")).toUtf8()); // keep QSettings out of $HOME
        qputenv("XDG_DATA_HOME", tmp_.filePath(QStringLiteral("data")).toUtf8());     // and run folders
        QCoreApplication::setOrganizationName(QStringLiteral("QuantBenchTest"));
        modelDir_ = tmp_.filePath(QStringLiteral("model"));
        fs::create_directories(modelDir_.toStdString());
        qbtest::writeFile(fs::path(modelDir_.toStdString()) / "config.json",
                          R"({"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":172,
                              "num_hidden_layers":5,"num_attention_heads":8,"num_key_value_heads":4,
                              "vocab_size":512,"max_position_embeddings":512,"torch_dtype":"float32"})");
    }

    void resultsModelPassesTester()
    {
        ResultsModel model;
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(ResultsModel::SortRole);
        QAbstractItemModelTester t1(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester t2(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.addRecords({result("FP32", 8.0), result("INT8_Per_Row", 8.1)});
        QCOMPARE(model.rowCount(), 2);
        const int pplCol = model.columnOf(kPpl);
        QCOMPARE(pplCol, int(ResultsModel::FirstMetricColumn));
        QCOMPARE(model.headerData(pplCol, Qt::Horizontal).toString(), QStringLiteral("PPL"));
        model.addRecords({result("INT8_Per_Row", 8.2), result("FP8_Per_Tensor", 8.9, "/x/a.json")}); // replace + insert
        QCOMPARE(model.rowCount(), 3);
        proxy.sort(pplCol, Qt::DescendingOrder);
        QCOMPARE(proxy.data(proxy.index(0, ResultsModel::ConfigColumn)).toString(), QStringLiteral("FP8_Per_Tensor"));
        QCOMPARE(model.data(model.index(1, pplCol), ResultsModel::SortRole).toDouble(), 8.2);
        QCOMPARE(model.data(model.index(1, pplCol)).toString(), QStringLiteral("8.200 ± 0.100"));
        proxy.setFilterKeyColumn(-1);
        proxy.setFilterCaseSensitivity(Qt::CaseInsensitive);
        proxy.setFilterFixedString(QStringLiteral("int8"));
        QCOMPARE(proxy.rowCount(), 1);
        proxy.setFilterFixedString(QString());
        model.removeSource("/x/a.json");
        QCOMPARE(model.rowCount(), 2);
        qb::ResultRecord failed = result("FP8_Per_Row", 0);
        failed.status = "failed";
        failed.error = "out of memory";
        failed.metrics.clear();
        model.addRecords({failed});
        QCOMPARE(model.data(model.index(2, ResultsModel::StatusColumn)).toString(), QStringLiteral("failed"));
        QCOMPARE(model.data(model.index(2, model.errorColumn())).toString(), QStringLiteral("ppl: out of memory"));
        // A record of a new task brings its metric columns (a reset the testers check).
        qb::ResultRecord thr = result("FP32", 0);
        thr.task = qb::task::Throughput;
        thr.metrics = {{"decode_tokens_per_s", 50}, {"kv_cache_mb", 2}};
        model.addRecords({thr});
        QVERIFY(model.columnOf(qb::metricKey(qb::task::Throughput, "decode_tokens_per_s")) > pplCol);
        QVERIFY(model.columnOf(qb::metricKey(qb::task::Throughput, "kv_cache_mb")) > 0);
        QCOMPARE(model.columnOf(qb::metricKey(qb::task::Ppl, "ppl_stderr")), -1); // shown with its metric
        model.clear();
        QCOMPARE(model.rowCount(), 0);
    }

    void schemeMatrixProducesSweepJson()
    {
        SetupPanel panel;
        panel.setSetup(smallSweep());
        SchemeMatrix* m = panel.matrix();
        m->setSchemes({});
        m->cell(0, 1)->setChecked(true); // INT8 per-row
        m->cell(1, 3)->setChecked(true); // FP8 group 128
        m->fakeBox()->setChecked(true);
        m->realBox()->setChecked(true);
        nlohmann::json j = panel.setup().toJson();
        std::vector<std::string> names = j["schemes"];
        // SmoothQuant INT8 and FP8 come from the demo sweep file.
        std::vector<std::string> expected = {"INT8_Per_Row", "FP8_Per_Group_128", "INT8_Per_Row_Fake",
                                             "FP8_Per_Group_128_Fake", "SmoothQuant_INT8_W8A8",
                                             "SmoothQuant_FP8_W8A8"};
        QCOMPARE(names, expected);
        QVERIFY(m->cell(1, 3)->toolTip().contains(QStringLiteral("128 input columns")));
        // Select-all per column (group 512) and per row (FP8), toggling back off.
        m->selectColumn(5);
        QVERIFY(m->cell(0, 5)->isChecked() && m->cell(1, 5)->isChecked());
        m->selectRow(1);
        for (int c = 0; c < SchemeMatrix::kCols; ++c)
            QVERIFY(m->cell(1, c)->isChecked());
        m->selectRow(1);
        for (int c = 0; c < SchemeMatrix::kCols; ++c)
            QVERIFY(!m->cell(1, c)->isChecked());
        // Modes off with cells ticked is explained inline and blocks Run.
        m->fakeBox()->setChecked(false);
        m->realBox()->setChecked(false);
        QVERIFY(!panel.problems().isEmpty());
        // The setup round-trips through its JSON.
        m->realBox()->setChecked(true);
        SweepSetup s = panel.setup();
        SetupPanel other;
        other.setSetup(SweepSetup::fromJson(s.toJson(), "test"));
        QCOMPARE(other.setup().toJson().dump(), s.toJson().dump());
        // Invalid input: a missing dataset is named.
        auto bad = s;
        bad.evals.ppl_dataset = "/nope/wiki.test.raw";
        QVERIFY(QString::fromStdString(bad.problems().front()).contains(QStringLiteral("/nope/wiki.test.raw")));
    }

    // The analysis tasks from the setup panel: an α list expands to one SmoothQuant config per α
    // and dtype, sensitivity names one ticked scheme (or all), everything round-trips its JSON.
    void analysisTasksFromSetupPanel()
    {
        SetupPanel panel;
        panel.setSetup(smallSweep());
        auto* alphas = panel.findChild<QLineEdit*>(QStringLiteral("alphas"));
        auto* sens = panel.findChild<QCheckBox*>(QStringLiteral("sensitivity"));
        auto* outl = panel.findChild<QCheckBox*>(QStringLiteral("outliers"));
        auto* pick = panel.findChild<QComboBox*>(QStringLiteral("sensitivityScheme"));
        QVERIFY(alphas && sens && outl && pick);
        panel.matrix()->setSchemes({qb::QuantScheme::parse("INT8_Per_Tensor_W8A8")});
        alphas->setText(QStringLiteral("0, 0.5, 1, 0.5"));
        std::vector<std::string> names;
        for (const auto& q : panel.setup().schemes)
            names.push_back(q.name());
        const std::vector<std::string> want = {"INT8_Per_Tensor_W8A8",
                                               "SmoothQuant_INT8_W8A8_Alpha0", "SmoothQuant_FP8_W8A8_Alpha0",
                                               "SmoothQuant_INT8_W8A8", "SmoothQuant_FP8_W8A8",
                                               "SmoothQuant_INT8_W8A8_Alpha1", "SmoothQuant_FP8_W8A8_Alpha1"};
        QCOMPARE(names, want);
        // The sensitivity combo lists what will run; pick the per-tensor scheme.
        QCOMPARE(pick->count(), 1 + int(want.size()));
        sens->setChecked(true);
        outl->setChecked(true);
        pick->setCurrentIndex(pick->findData(QStringLiteral("INT8_Per_Tensor_W8A8")));
        const qb::SweepSpec spec = panel.setup().toSpec();
        QVERIFY(spec.tasks.sensitivity.enabled && spec.tasks.outliers.enabled);
        QCOMPARE(spec.tasks.sensitivity.schemes, std::vector<std::string>{"INT8_Per_Tensor_W8A8"});
        QVERIFY(spec.tasks.applies(qb::QuantScheme::parse("INT8_Per_Tensor_W8A8"), qb::task::Sensitivity));
        QVERIFY(!spec.tasks.applies(qb::QuantScheme::parse("SmoothQuant_INT8_W8A8"), qb::task::Sensitivity));
        QVERIFY(panel.problems().isEmpty());
        // Round trip: the α list, the pick and the task switches come back.
        SetupPanel other;
        other.setSetup(SweepSetup::fromJson(panel.setup().toJson(), "test"));
        QCOMPARE(other.setup().toJson().dump(), panel.setup().toJson().dump());
        QCOMPARE(other.findChild<QLineEdit*>(QStringLiteral("alphas"))->text(), QStringLiteral("0, 0.5, 1"));
        QCOMPARE(other.findChild<QComboBox*>(QStringLiteral("sensitivityScheme"))->currentData().toString(),
                 QStringLiteral("INT8_Per_Tensor_W8A8"));
        // Unticking the analysed scheme is a problem that names it; a bad α list too.
        panel.matrix()->setSchemes({});
        QVERIFY(panel.problems().join(u' ').contains(QStringLiteral("INT8_Per_Tensor_W8A8")) ||
                panel.problems().join(u' ').contains(QStringLiteral("Sensitivity")));
        alphas->setText(QStringLiteral("abc"));
        QVERIFY(panel.problems().join(u' ').contains(QStringLiteral("SmoothQuant α")));
    }

    // The window saves and opens the CLI's sweep file: the demo setup is demo_sweep.json, and
    // settings the panel does not show survive open -> edit -> save.
    void sweepFileIsTheCliFormat()
    {
        const fs::path demoFile = qbtest::sourceDir() / "resources/demo/demo_sweep.json";
        const qb::SweepSpec cli = qb::SweepSpec::load(demoFile);
        SetupPanel panel;
        panel.setSetup(SweepSetup::load(demoFile.string()));
        qb::SweepSpec gui = panel.setup().toSpec();
        std::vector<std::string> a, b;
        for (const auto& q : cli.configs())
            a.push_back(q.name());
        for (const auto& q : gui.configs())
            b.push_back(q.name());
        QCOMPARE(b, a);
        QCOMPARE(gui.tasks.toJson().dump(), cli.tasks.toJson().dump());
        QCOMPARE(gui.calib_length, cli.calib_length);
        QCOMPARE(gui.seed, cli.seed);
        // Edit a shown field, save, and read the file with the core: hidden settings kept.
        panel.matrix()->fakeBox()->setChecked(false);
        QTemporaryDir d;
        const std::string out = (fs::path(d.path().toStdString()) / "edited.json").string();
        panel.setup().save(out);
        qb::SweepSpec back = qb::SweepSpec::load(out);
        QCOMPARE(back.tasks.mmlu.gen_tokens, cli.tasks.mmlu.gen_tokens);
        QCOMPARE(back.tasks.ppl.kl_windows, cli.tasks.ppl.kl_windows);
        QCOMPARE(back.tasks.throughput.repeats, cli.tasks.throughput.repeats);
        QCOMPARE(back.schemes.size(), cli.schemes.size() - 8); // the 8 fake configs are gone
        QCOMPARE(back.model, cli.model);
    }

    void badModelFolderIsNamed()
    {
        QTemporaryDir d;
        fs::path dir = d.path().toStdString();
        qbtest::writeFile(dir / "config.json", R"({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"})");
        auto sum = summarizeModel(dir.string());
        QVERIFY(!sum.ok);
        QVERIFY2(sum.text.find("config.json") != std::string::npos, sum.text.c_str());
        auto missing = summarizeModel("/no/such/model");
        QVERIFY(!missing.ok && missing.text.find("/no/such/model") != std::string::npos);
        SetupPanel panel;
        auto s = smallSweep();
        s.model_dir = "/no/such/model";
        panel.setSetup(s);
        QVERIFY(panel.problems().join(QString()).contains(QStringLiteral("/no/such/model")));
    }

    void chartSpecsFromResults()
    {
        auto rs = qb::groupRecords({result("FP32", 8.0), result("INT8_Per_Tensor", 9.0), result("INT8_Per_Row", 8.3),
                                    result("INT8_Per_Group_64_Fake", 8.1), result("SmoothQuant_INT8_W8A8", 8.4)});
        auto spec = accuracyVsGranularity(rs, chart_metric::Ppl);
        QCOMPARE(spec.pointCount(), 4);
        int refs = 0;
        for (const auto& s : spec.series)
            refs += s.reference;
        QCOMPARE(refs, 1);
        QVERIFY(spec.series.front().points.front().tooltip.find("± 0.1") != std::string::npos);
        QCOMPARE(pplPerConfig(rs).pointCount(), 5);
        // Names carry their file only when the rows come from more than one place.
        QCOMPARE(pplPerConfig(rs).categories.front(), std::string("FP32"));
        auto two = qb::groupRecords({result("FP32", 8.0), result("FP32", 8.1, "/x/old/a.json")});
        auto cats = pplPerConfig(two).categories;
        QCOMPARE(cats.size(), size_t(2));
        QCOMPARE(cats[1], std::string("FP32 [a.json]"));
    }

    // KLD chart (log axis, error bars from kl_mean_stderr) and the protocol guard: a config
    // measured on other tokens than the baseline is named in the note, not drawn.
    void kldChartAndProtocolGuard()
    {
        auto kl = [](const std::string& n, double v, const std::string& tok) {
            qb::ResultRecord r = result(n, 8.5);
            r.metrics["kl_mean"] = v;
            r.metrics["kl_mean_stderr"] = v / 10;
            r.settings = {{"token_hash", tok}};
            return r;
        };
        auto rs = qb::groupRecords({kl("FP32", 0, "t1"), kl("INT8_Per_Tensor", 0.02, "t1"), kl("INT8_Per_Row", 0.002, "t1"),
                                    kl("FP8_Per_Row", 0.004, "t2")});
        auto c = comparableRows(rs);
        QCOMPARE(c.rows.size(), size_t(3));
        QVERIFY2(c.note.find("FP8_Per_Row") != std::string::npos && c.note.find("different tokens") != std::string::npos,
                 c.note.c_str());
        auto spec = kldVsGranularity(c.rows);
        QVERIFY(spec.logY);
        QCOMPARE(spec.pointCount(), 2);
        QVERIFY(std::abs(spec.series.front().points.front().err - 0.002) < 1e-12 ||
                std::abs(spec.series.front().points.front().err - 0.0002) < 1e-12);
        ChartsPage page;
        page.setRows(rs);
        QVERIFY(page.protocolNote().contains(QStringLiteral("FP8_Per_Row")));
        QCOMPARE(page.charts().back().first, QStringLiteral("kld"));
        QCOMPARE(page.charts().back().second->drawnPointCount(), 2);
        QCOMPARE(page.charts()[1].second->drawnPointCount(), 3); // PPL bars: the comparable rows only
    }

    void fullSweepThroughWindow()
    {
        auto w = window(30);
        const int total = int(smallSweep().configs().size());
        QSignalSpy done(w.get(), &MainWindow::runFinished);
        QVERIFY(w->runPanel()->runButton()->isEnabled());
        QTest::mouseClick(w->runPanel()->runButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 30000);
        QCOMPARE(done.at(0).at(0).toBool(), false);
        QCOMPARE(w->resultsModel()->rowCount(), total);
        // every chart has its points: 12 matrix configs + SmoothQuant on the granularity charts
        auto charts = w->chartsPage()->charts();
        QCOMPARE(charts[0].second->drawnPointCount(), total - 1); // accuracy (PPL) vs granularity
        QCOMPARE(charts[1].second->drawnPointCount(), total);     // PPL per config
        QCOMPARE(charts[2].second->drawnPointCount(), 2 * total); // prefill + decode per config
        QCOMPARE(charts[3].second->drawnPointCount(), total - 1); // SQNR vs granularity
        QVERIFY(w->summaryPage()->markdown().contains(QStringLiteral("INT8_Per_Group_64_Fake")));
        qInfo("event-loop max latency during the sweep: %.1f ms", w->maxLatencyMs());
        QVERIFY2(w->maxLatencyMs() < 250 * qbtest::kSlowdown, "the GUI thread was blocked during the sweep");
        // The screenshot is not blank.
        w->tabs()->setCurrentIndex(0);
        QImage img = w->grab().toImage();
        QVERIFY(distinctColours(img) > 50);
    }

    // The real thing: the bundled demo model and demo_sweep.json through the core runner
    // (19 configs x PPL, MMLU direct/generate, throughput, matmul accuracy), started with the
    // Run button. About a minute on 2 quiet cores; the limits are generous on purpose (25 min
    // here, QTEST_FUNCTION_TIMEOUT = 30 min from CTest) so a slow or busy machine is no failure.
    void realDemoSweepThroughWindow()
    {
        auto w = std::make_unique<MainWindow>();
        w->setQuietDialogs(true);
        w->setConfirmClose(false);
        // One compute thread: the sweep has one core, a CPU burner process (below) the other, and
        // the window shares the sweep's core (two OpenMP threads on one core would spin-wait).
        w->setupPanel()->setSetup(demoSweep());
        auto* threads = w->setupPanel()->findChild<QSpinBox*>(QStringLiteral("threads"));
        QVERIFY(threads);
        threads->setValue(1); // a machine setting (QSettings), not part of the sweep file
        w->resize(1400, 900);
        w->show();
        QVERIFY(QTest::qWaitForWindowExposed(w.get()));
        const int total = int(demoSweep().configs().size());
        QCOMPARE(total, 19);
        QSignalSpy done(w.get(), &MainWindow::runFinished);
        QVERIFY2(w->runPanel()->runButton()->isEnabled(), qPrintable(w->setupPanel()->problems().join(u'\n')));
        // Issue 13's condition: another process keeps a core busy during the whole sweep.
        QProcess burner;
        // It ends by itself when this test process is gone (a crash would orphan it otherwise).
        burner.start(QStringLiteral("/bin/sh"),
                     {QStringLiteral("-c"), QStringLiteral("while kill -0 %1 2>/dev/null; do :; done").arg(QCoreApplication::applicationPid())});
        QVERIFY(burner.waitForStarted());
        QTest::mouseClick(w->runPanel()->runButton(), Qt::LeftButton);
        QElapsedTimer clock;
        clock.start();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 25 * 60 * 1000);
        burner.kill();
        burner.waitForFinished();
        threads->setValue(0);
        qInfo("real demo sweep: %.1f s beside a CPU burner process", clock.elapsed() / 1000.0);
        QCOMPARE(done.at(0).at(0).toBool(), false);
        QVERIFY2(!w->runPanel()->logText().contains(QStringLiteral("sweep failed")), qPrintable(w->runPanel()->logText()));
        QCOMPARE(w->resultsModel()->rowCount(), total);
        for (const auto& r : w->resultsModel()->rows())
            QVERIFY2(r.status() == "ok", qPrintable(QString::fromStdString(r.config + ": " + r.status() + " " + r.error())));
        auto charts = w->chartsPage()->charts();
        QCOMPARE(charts[1].second->drawnPointCount(), total);     // PPL per config
        QCOMPARE(charts[2].second->drawnPointCount(), 2 * total); // prefill + decode per config
        // Throughput bars carry the spread of the repeats (min..max) as error bars.
        int ranges = 0;
        for (const auto& s : charts[2].second->spec().series)
            for (const auto& p : s.points)
                ranges += std::isfinite(p.lo) && std::isfinite(p.hi);
        QVERIFY(ranges > 0);
        QCOMPARE(charts[2].second->errorBarCount(), ranges);
        QVERIFY(charts[0].second->drawnPointCount() >= total - 1); // PPL vs granularity
        QVERIFY(charts[3].second->drawnPointCount() >= total - 1); // SQNR vs granularity
        QVERIFY(w->summaryPage()->markdown().contains(QStringLiteral("SmoothQuant_FP8_W8A8")));
        // The sweep computes on 2 cores that other work may share: wall-clock latency then says
        // how busy the machine was as much as how the window behaves. What the window itself
        // costs is the CPU time of its refreshes; the latency bound only catches real blocking
        // (a sweep on the GUI thread would hold it for seconds to minutes).
        qInfo("real demo sweep beside a busy core: event-loop max latency %.1f ms (goal 50), costliest refresh %.1f ms CPU",
              w->maxLatencyMs(),
              w->maxRefreshCpuMs());
        QVERIFY2(w->maxRefreshCpuMs() < 250 * qbtest::kSlowdown, "a view refresh costs the GUI thread too much");
        QVERIFY2(w->maxLatencyMs() < 3000 * qbtest::kSlowdown, "the GUI thread was blocked during the sweep");
    }

    void cancelMidSweepThenResume()
    {
        auto w = window(120);
        const int total = int(smallSweep().configs().size());
        QSignalSpy done(w.get(), &MainWindow::runFinished);
        w->runAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(w->controller()->finishedConfigs() >= 3, 20000);
        QElapsedTimer t;
        t.start();
        w->cancelAction()->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 5000);
        QVERIFY2(t.elapsed() < 1500, "cancel took longer than about a second");
        QCOMPARE(done.at(0).at(0).toBool(), true);
        w->flushViews();
        const int kept = w->resultsModel()->rowCount();
        QVERIFY(kept >= 3 && kept < total);
        w->runAction()->trigger(); // same setup: resumes
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, 30000);
        QCOMPARE(w->resultsModel()->rowCount(), total);
        QSet<QString> names;
        for (const auto& r : w->resultsModel()->rows())
            names.insert(QString::fromStdString(r.config));
        QCOMPARE(int(names.size()), total);
        QSet<QString> keys; // nothing ran twice: one record per (config, task)
        for (const auto& r : w->controller()->records()) {
            QVERIFY2(!keys.contains(QString::fromStdString(r.key())), r.key().c_str());
            keys.insert(QString::fromStdString(r.key()));
        }
        QVERIFY(w->runPanel()->logText().contains(QStringLiteral("resuming")));
    }

    void supersededRunNeverOverwrites()
    {
        RunController c;
        c.setBackendFactory([] { return std::make_unique<qbtest::SimBackend>(80); });
        QSignalSpy finished(&c, &RunController::runFinished);
        SweepSetup a = smallSweep();
        SweepSetup b = smallSweep();
        b.schemes = {qb::QuantScheme::parse("FP8_Per_Group_256")};
        c.start(a);
        QTest::qWait(30);
        c.start(b); // supersedes a
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
        QTest::qWait(200);
        QCOMPARE(finished.count(), 1); // a's end was dropped
        QCOMPARE(c.finishedConfigs(), 2);
        for (const auto& r : c.records())
            QVERIFY(r.config == "FP32" || r.config == "FP8_Per_Group_256");
    }

    void openFolderOfMixedFiles()
    {
        QTemporaryDir d;
        fs::path dir = d.path().toStdString();
        qbtest::writeFile(dir / "task_31_ppl_INT8_Per_Row.json", R"({"perplexity": 9.1, "stderr": 0.1, "n_tokens": 2048})");
        qbtest::writeFile(dir / "task_31_ppl_FP32.json", R"({"ppl": 8.9})");
        qbtest::writeFile(dir / "task_31_mmlu_FP8_Per_Group_128_direct.json", R"({"results": {"accuracy": 31.5}})");
        qbtest::writeFile(dir / "task_32_throughput_results.json",
                          R"({"FP32": {"prefill_samples_per_sec": 10.5, "decode_tokens_per_sec": 100}})");
        qbtest::writeFile(dir / "broken.json", "{not json");
        qbtest::writeFile(dir / "task_31_ppl_INT9_Per_Row.json", R"({"ppl": 1})");
        qbtest::writeFile(dir / "other.json", R"({"foo": 1})");
        // the window's legacy export layout
        qbtest::writeFile(dir / "run.json", R"({"quantbench_results": 1, "results": [{"config": "FP8_Per_Row_Fake",
            "status": "ok", "seconds": 1.5, "metrics": {"ppl": {"value": 8.7, "stderr": 0.1, "n": 100}}}]})");
        auto w = window(10);
        QStringList msgs = w->openPaths({d.path()});
        QCOMPARE(msgs.size(), 3);
        for (const char* f : {"broken.json", "task_31_ppl_INT9_Per_Row.json", "other.json"})
            QVERIFY2(msgs.join(QLatin1Char('\n')).contains(QString::fromLatin1(f)), f);
        // FP32 twice (Task 3.1's PPL and Task 3.2's throughput are different experiments, one
        // source each, never merged: issue 11), INT8_Per_Row, FP8_Per_Group_128, FP8_Per_Row_Fake,
        // and INT9_Per_Row (imported under its own name, with a message saying it is unknown)
        QStringList configs;
        for (const auto& r : w->resultsModel()->rows())
            configs << QString::fromStdString(r.config + " @ " + r.source);
        QVERIFY2(w->resultsModel()->rowCount() == 6, qPrintable(configs.join(QStringLiteral("; "))));
        std::set<std::string> fp32Sources;
        bool mergedFp32 = false;
        for (const auto& r : w->resultsModel()->rows()) {
            QVERIFY(!r.source.empty());
            if (r.config == "FP32") {
                fp32Sources.insert(qb::sourceLabel(r.source));
                mergedFp32 = mergedFp32 || (!std::isnan(r.value(chart_metric::Ppl)) && !std::isnan(r.value(chart_metric::Prefill)));
            }
            if (r.config == "FP8_Per_Group_128")
                QCOMPARE(r.value(chart_metric::MmluDirect), 0.315);
            if (r.config == "FP8_Per_Row_Fake")
                QCOMPARE(r.value(chart_metric::Ppl), 8.7);
        }
        QVERIFY(!mergedFp32);
        QCOMPARE(int(fp32Sources.size()), 2);
        for (const auto& label : fp32Sources)
            QVERIFY2(label.find(" · Task 3.") != std::string::npos, label.c_str());
        QVERIFY(w->chartsPage()->charts()[1].second->drawnPointCount() >= 3);
        // Remove loaded: select all rows, press the button.
        w->resultsPage()->view()->selectAll();
        w->resultsPage()->findChild<QPushButton*>(QStringLiteral("removeLoaded"))->click();
        QCOMPARE(w->resultsModel()->rowCount(), 0);
        // A missing path is named too.
        QVERIFY(w->openPaths({QStringLiteral("/no/such/results.json")}).join(QString()).contains(QStringLiteral("/no/such/results.json")));
    }

    // Every layout a user has on disk, dropped on the window at once: a run's results.jsonl, a
    // record export, the legacy window export and a report-style file.
    void dropEveryLayout()
    {
        QTemporaryDir d;
        const fs::path dir = d.path().toStdString();
        qb::ResultsFile(dir / "run" / "results.jsonl").append(result("FP32", 8.0));
        qb::writeResultsJson(dir / "export.json", {result("INT8_Per_Row", 8.2)});
        qbtest::writeFile(dir / "legacy.json", R"({"quantbench_results": 1, "results": [{"config": "FP8_Per_Row_Fake",
            "metrics": {"ppl": {"value": 8.7, "stderr": null, "n": 0}}}]})");
        qbtest::writeFile(dir / "task_31_ppl_INT8_Per_Tensor.json", R"({"perplexity": 9.1})");
        auto w = window(10);
        QMimeData mime;
        QList<QUrl> urls;
        for (const char* f : {"run/results.jsonl", "export.json", "legacy.json", "task_31_ppl_INT8_Per_Tensor.json"})
            urls << QUrl::fromLocalFile(QString::fromStdString((dir / f).string()));
        mime.setUrls(urls);
        QDragEnterEvent enter(QPoint(20, 20), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(w.get(), &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(20, 20), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(w.get(), &drop);
        QVERIFY2(w->lastMessages().isEmpty(), qPrintable(w->lastMessages().join(u'\n')));
        QCOMPARE(w->resultsModel()->rowCount(), 4);
        std::map<std::string, double> ppl;
        for (const auto& r : w->resultsModel()->rows())
            ppl[r.config] = r.value(kPpl);
        QCOMPARE(ppl["FP32"], 8.0);
        QCOMPARE(ppl["INT8_Per_Row"], 8.2);
        QCOMPARE(ppl["FP8_Per_Row_Fake"], 8.7);
        QCOMPARE(ppl["INT8_Per_Tensor"], 9.1);
        QCOMPARE(w->chartsPage()->charts()[1].second->drawnPointCount(), 4);
    }

    void exportsParseBack()
    {
        auto w = window(10);
        QSignalSpy done(w.get(), &MainWindow::runFinished);
        w->startRun();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 30000);
        const int rows = w->resultsModel()->rowCount();
        QTemporaryDir d;
        const QString md = d.filePath(QStringLiteral("r.md")), csv = d.filePath(QStringLiteral("r.csv")),
                      json = d.filePath(QStringLiteral("r.json")), sweep = d.filePath(QStringLiteral("s.json"));
        QCOMPARE(w->exportTo(md), QString());
        QCOMPARE(w->exportTo(csv), QString());
        QCOMPARE(w->exportTo(json), QString());
        std::string mdText = qbtest::readFile(md.toStdString());
        QVERIFY(mdText.find("| Group | Config |") != std::string::npos);
        QVERIFY(mdText.find("**") != std::string::npos); // best value in bold
        // CSV: one line per row, parsed by core's CSV reader, values as in the table
        auto csvRows = qb::parseCsv(qbtest::readFile(csv.toStdString()), "r.csv");
        QCOMPARE(int(csvRows.size()), rows + 1);
        const auto& header = csvRows[0].fields;
        const auto pplAt = std::find(header.begin(), header.end(), kPpl) - header.begin();
        QVERIFY(pplAt < long(header.size()));
        QCOMPARE(std::stod(csvRows[2].fields[size_t(pplAt)]), w->resultsModel()->rows()[1].value(kPpl));
        // JSON: core's records document, read back by core's loader into the same rows
        auto back = qb::loadResults({json.toStdString()});
        QVERIFY(back.messages.empty());
        QCOMPARE(back.records.size(), w->resultsModel()->records().size());
        auto backRows = qb::groupRecords(back.records, qb::RowKey::Config);
        QCOMPARE(int(backRows.size()), rows);
        QCOMPARE(backRows[1].value(kPpl), w->resultsModel()->rows()[1].value(kPpl));
        // and opening it in the window adds its rows next to this run's
        QVERIFY(w->openPaths({json}).isEmpty());
        QCOMPARE(w->resultsModel()->rowCount(), 2 * rows);
        QStringList charts = w->exportChartsTo(d.filePath(QStringLiteral("charts")));
        QCOMPARE(charts.size(), 10); // five charts since the KLD chart joined, PNG + SVG each
        for (const auto& f : charts) {
            if (f.endsWith(QLatin1String(".png")))
                QVERIFY2(!QImage(f).isNull(), qPrintable(f));
            else
                QVERIFY2(QSvgRenderer(f).isValid(), qPrintable(f));
        }
        QVERIFY(w->exportTo(d.filePath(QStringLiteral("r.xyz"))).contains(QStringLiteral("r.xyz")));
        // Sweep setup: save, load, identical; a malformed one is refused naming the file.
        QVERIFY(w->saveSweep(sweep));
        auto before = w->setupPanel()->setup().toJson().dump();
        QVERIFY(w->loadSweep(sweep));
        QCOMPARE(w->setupPanel()->setup().toJson().dump(), before);
        qbtest::writeFile(d.filePath(QStringLiteral("bad.json")).toStdString(), R"({"schemes": ["INT8_Per_Lump"]})");
        QVERIFY(!w->loadSweep(d.filePath(QStringLiteral("bad.json"))));
        QVERIFY(w->runPanel()->logText().contains(QStringLiteral("bad.json")));
    }

    // A metric a backend adds to its records (here a KL percentile no ui/ code names) becomes a
    // column of the table and a column of every export, through core's generic metric columns.
    void newMetricReachesTableAndExport()
    {
        auto w = window(10);
        w->controller()->setBackendFactory([] {
            return std::make_unique<qbtest::SimBackend>(10, std::vector<std::string>{},
                                                        std::map<std::string, std::map<std::string, double>>{
                                                            {qb::task::Ppl, {{"kl_p999", 0.125}}}});
        });
        QSignalSpy done(w.get(), &MainWindow::runFinished);
        w->startRun();
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 30000);
        const std::string key = qb::metricKey(qb::task::Ppl, "kl_p999");
        ResultsModel* m = w->resultsModel();
        const int col = m->columnOf(key);
        QVERIFY(col >= 0);
        QCOMPARE(m->headerData(col, Qt::Horizontal).toString(), QStringLiteral("ppl: kl_p999"));
        QCOMPARE(m->data(m->index(0, col)).toString(), QStringLiteral("0.125"));
        QTemporaryDir d;
        const QString csv = d.filePath(QStringLiteral("r.csv")), json = d.filePath(QStringLiteral("r.json"));
        QCOMPARE(w->exportTo(csv), QString());
        QCOMPARE(w->exportTo(json), QString());
        auto csvRows = qb::parseCsv(qbtest::readFile(csv.toStdString()), "r.csv");
        const auto& header = csvRows[0].fields;
        auto at = std::find(header.begin(), header.end(), key);
        QVERIFY(at != header.end());
        QCOMPARE(csvRows[1].fields[size_t(at - header.begin())], std::string("0.125"));
        auto back = qb::loadResults({json.toStdString()});
        QCOMPARE(qb::groupRecords(back.records).front().value(key), 0.125);
    }

    // A results file with a megabyte-long config name opens at once: names are elided before
    // they reach the table, the charts, the summary and the log.
    void hugeConfigNameIsElided()
    {
        QTemporaryDir d;
        const fs::path f = fs::path(d.path().toStdString()) / "results.jsonl";
        qb::ResultRecord r = result("INT8_Per_Row", 9.0);
        r.config = std::string(1 << 20, 'X');
        r.scheme = nullptr;
        r.error.clear();
        qb::ResultsFile(f).append(r);
        auto w = window(10);
        QElapsedTimer t;
        t.start();
        w->openPaths({QString::fromStdString(f.string())});
        w->tabs()->setCurrentWidget(w->summaryPage());
        w->flushViews();
        QTest::qWait(50);
        (void)w->grab();
        QVERIFY2(t.elapsed() < 5000, qPrintable(QStringLiteral("%1 ms").arg(t.elapsed())));
        ResultsModel* m = w->resultsModel();
        QCOMPARE(m->rowCount(), 1);
        QCOMPARE(m->rows()[0].config.size(), size_t(1 << 20)); // the data itself is kept
        const QString shown = m->data(m->index(0, ResultsModel::ConfigColumn)).toString();
        QCOMPARE(shown.size(), kMaxNameChars + 1);
        QVERIFY(shown.endsWith(QStringLiteral("…")));
        QVERIFY(w->summaryPage()->markdown().size() < 20000);
        QVERIFY(w->runPanel()->logText().size() < 20000);
        QCOMPARE(elide("ab€cd", 3), std::string("ab€…")); // cut at code points, not bytes
    }

    // The app's command line: a missing or invalid --sweep file and a sweep that fails both
    // exit 1 with the reason on stderr, and the screenshot is written with the error shown.
    void appCommandLineFailuresExitNonZero()
    {
#ifndef QB_GUI_PATH
        QSKIP("the quantbench app is not built");
#else
        QTemporaryDir d;
        auto runGui = [&](const QStringList& args, QString* err) {
            QProcess p;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
            env.insert(QStringLiteral("XDG_CONFIG_HOME"), d.filePath(QStringLiteral("config")));
            env.insert(QStringLiteral("XDG_DATA_HOME"), d.filePath(QStringLiteral("data")));
            p.setProcessEnvironment(env);
            p.start(QStringLiteral(QB_GUI_PATH), args);
            if (!p.waitForFinished(180000)) {
                p.kill();
                p.waitForFinished();
                return -1;
            }
            *err = QString::fromUtf8(p.readAllStandardError());
            return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
        };
        QString err;
        const QString shot1 = d.filePath(QStringLiteral("missing.png"));
        QCOMPARE(runGui({QStringLiteral("--sweep"), QStringLiteral("/no/such/sweep.json"), QStringLiteral("--screenshot"), shot1,
                         QStringLiteral("--quit-when-done")},
                        &err),
                 1);
        QVERIFY2(err.contains(QStringLiteral("/no/such/sweep.json")), qPrintable(err));
        QVERIFY2(!QImage(shot1).isNull(), qPrintable(err));
        // invalid sweep file with --run: refused, said, screenshot written
        const QString bad = d.filePath(QStringLiteral("bad.json"));
        qbtest::writeFile(bad.toStdString(), R"({"schemes": ["INT8_Per_Lump"]})");
        const QString shot2 = d.filePath(QStringLiteral("bad.png"));
        QCOMPARE(runGui({QStringLiteral("--sweep"), bad, QStringLiteral("--run"), QStringLiteral("--screenshot"), shot2,
                         QStringLiteral("--quit-when-done")},
                        &err),
                 1);
        QVERIFY2(err.contains(QStringLiteral("INT8_Per_Lump")), qPrintable(err));
        QVERIFY(!QImage(shot2).isNull());
        // a sweep that runs and fails: the stand-in model folder has a config.json but no weights
        SweepSetup s = smallSweep();
        s.schemes.resize(1);
        const QString sweep = d.filePath(QStringLiteral("fails.json"));
        s.save(sweep.toStdString());
        const QString shot3 = d.filePath(QStringLiteral("fails.png"));
        QCOMPARE(runGui({QStringLiteral("--sweep"), sweep, QStringLiteral("--run"), QStringLiteral("--screenshot"), shot3,
                         QStringLiteral("--quit-when-done")},
                        &err),
                 1);
        QVERIFY2(err.contains(QStringLiteral("failed")), qPrintable(err));
        QVERIFY(!QImage(shot3).isNull());
#endif
    }

    // A Slurm run folder followed while its shard files grow: the table follows, the shard files
    // are one source (one row per config), a config recorded by two shards is one row.
    void followRunFolderAsShardsGrow()
    {
        QTemporaryDir d;
        const fs::path run = d.path().toStdString();
        MainWindow w;
        w.setQuietDialogs(true);
        w.setConfirmClose(false);
        w.followRunFolder(d.path());
        QVERIFY(w.follower());
        w.follower()->setPollInterval(100); // the poll alone must do (network file systems)
        qb::ResultsFile(run / "shard_0").append(result("INT8_Per_Row", 5.0));
        QTRY_COMPARE_WITH_TIMEOUT(w.resultsModel()->rowCount(), 1, 5000);
        qb::ResultsFile(run / "shard_1").append(result("FP8_Per_Tensor", 6.0));
        QTRY_COMPARE_WITH_TIMEOUT(w.resultsModel()->rowCount(), 2, 5000);
        auto dup = result("INT8_Per_Row", 4.0);
        dup.provenance.finished = "2099-01-01T00:00:00Z";
        qb::ResultsFile(run / "shard_1").append(dup);
        QTest::qWait(600);
        QCOMPARE(w.resultsModel()->rowCount(), 2);
        w.stopFollowing();
        QVERIFY(!w.follower()->following());
    }

    void clusterDialogBuildsTheSubmitCommand()
    {
        QTemporaryDir d;
        ClusterDialog dlg(QStringLiteral("/bin/false"), [](const QString&, QString& e) {
            e = QStringLiteral("no");
            return QString();
        });
        auto* dir = dlg.findChild<QLineEdit*>(QStringLiteral("clusterRunDir"));
        QVERIFY(dir);
        dir->setText(d.path());
        const QStringList a = dlg.submitArgs(QStringLiteral("/s.json"), true);
        QCOMPARE(a.mid(0, 5), (QStringList{QStringLiteral("slurm"), QStringLiteral("submit"), QStringLiteral("/s.json"),
                                           QStringLiteral("--out"), d.path()}));
        QVERIFY(a.contains(QStringLiteral("--dry-run")));
        QVERIFY(a.contains(QStringLiteral("--shards")) || a.contains(QStringLiteral("--per-config")));
    }

    // Issue 13: at laptop and desktop size the window keeps the size asked for, the setup panel
    // needs no horizontal scroll bar and none of its widgets is cut by its parent.
    void layoutFitsLaptopAndDesktop_data()
    {
        QTest::addColumn<QSize>("size");
        QTest::newRow("1366x768") << QSize(1366, 768);
        QTest::newRow("1920x1080") << QSize(1920, 1080);
    }
    void layoutFitsLaptopAndDesktop()
    {
        QFETCH(QSize, size);
        MainWindow w;
        w.setQuietDialogs(true);
        w.setupPanel()->useDemo();
        w.resize(size);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QTest::qWait(50);
        QCOMPARE(w.size(), size);
        auto* scroll = qobject_cast<QScrollArea*>(w.setupPanel()->parentWidget()->parentWidget());
        QVERIFY(scroll);
        QVERIFY2(!scroll->horizontalScrollBar()->isVisible(), "the setup panel needs a horizontal scroll bar");
        int checked = 0;
        for (QWidget* c : w.setupPanel()->findChildren<QWidget*>()) {
            if (!c->isVisibleTo(w.setupPanel()) || !c->parentWidget() || c->isWindow())
                continue;
            const QRect inParent = c->parentWidget()->rect();
            QVERIFY2(inParent.contains(c->geometry()),
                     qPrintable(QStringLiteral("%1 (%2) is clipped: %3,%4 %5x%6 in %7x%8")
                                    .arg(c->objectName(), QString::fromLatin1(c->metaObject()->className()))
                                    .arg(c->x()).arg(c->y()).arg(c->width()).arg(c->height())
                                    .arg(inParent.width()).arg(inParent.height())));
            ++checked;
        }
        QVERIFY(checked > 40);
        qInfo("%dx%d: %d setup widgets inside their parents", size.width(), size.height(), checked);
    }

    // Issue 13: with 19 and 47 configs every config is labelled on the per-config bars, no two
    // category labels overlap, none is cut at the chart's edge, and the granularity axis of a
    // narrow line chart turns its labels instead of overlapping them.
    void chartLabelsStayReadable_data()
    {
        QTest::addColumn<int>("n");
        QTest::newRow("19 configs") << 19;
        QTest::newRow("47 configs") << 47;
    }
    void chartLabelsStayReadable()
    {
        QFETCH(int, n);
        ChartsPage page;
        page.resize(740, 700); // the chart area of a 1366x768 window
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        page.setRows(qb::groupRecords(manyConfigs(n)));
        QTest::qWait(50);
        for (const auto& [stem, chart] : page.charts()) {
            if (chart->showsHint())
                continue; // no throughput / SQNR / KLD data in these records
            const auto labels = chart->categoryLabels();
            const auto& cats = chart->shownCategories();
            QCOMPARE(cats.size(), chart->spec().categories.size());
            QSet<QString> seen;
            for (const auto& l : labels) {
                seen.insert(l.first);
                QVERIFY2(l.second.left() >= -0.5, qPrintable(stem + QStringLiteral(": label cut at the left: ") + l.first));
            }
            for (const auto& c : cats)
                QVERIFY2(seen.contains(QString::fromStdString(c)),
                         qPrintable(stem + QStringLiteral(": no visible label for ") + QString::fromStdString(c)));
            QString which;
            QVERIFY2(!overlaps(labels, &which), qPrintable(stem + QStringLiteral(": labels overlap: ") + which));
            qInfo("%s: %d category labels, none overlapping (chart %dx%d)", qPrintable(stem), int(labels.size()),
                  chart->width(), chart->height());
        }
        // The bars keep a readable height: the chart grows and the page scrolls.
        ChartWidget* ppl = page.charts()[1].second;
        QVERIFY(ppl->height() >= n * 17);
        // A narrow granularity chart: labels turn instead of colliding.
        ChartWidget narrow;
        narrow.resize(300, 260);
        narrow.show();
        QVERIFY(QTest::qWaitForWindowExposed(&narrow));
        narrow.setSpec(accuracyVsGranularity(qb::groupRecords(manyConfigs(n)), chart_metric::Ppl));
        QTest::qWait(50);
        QString which;
        QCOMPARE(int(narrow.categoryLabels().size()), 6);
        QVERIFY2(!overlaps(narrow.categoryLabels(), &which), qPrintable(which));
        // Bars in a narrow chart: long names are shortened in the middle, never cut at the edge.
        narrow.setSpec(pplPerConfig(qb::groupRecords(manyConfigs(n))));
        QTest::qWait(50);
        QCOMPARE(int(narrow.categoryLabels().size()), n);
        for (const auto& l : narrow.categoryLabels())
            QVERIFY2(l.second.left() >= -0.5, qPrintable(QStringLiteral("cut at the left: ") + l.first));
        QVERIFY2(!overlaps(narrow.categoryLabels(), &which), qPrintable(which));
    }

    // Issue 13: an empty chart says what would fill it instead of axes labelled 0.000; every
    // point with a stderr has its error bar; the legend names dtype x mode in fixed colours.
    void emptyHintsErrorBarsAndColours()
    {
        ChartsPage page;
        page.resize(740, 700);
        page.show();
        for (const auto& [stem, chart] : page.charts())
            QVERIFY2(chart->showsHint(), qPrintable(stem));
        page.setRows(qb::groupRecords(manyConfigs(19)));
        ChartWidget* acc = page.charts()[0].second;
        ChartWidget* ppl = page.charts()[1].second;
        QVERIFY(!acc->showsHint() && !ppl->showsHint());
        auto withErr = [](const ChartSpec& s) {
            int n = 0;
            for (const auto& ser : s.series)
                if (!ser.reference)
                    for (const auto& p : ser.points)
                        n += p.err > 0;
            return n;
        };
        QVERIFY(withErr(acc->spec()) > 0);
        QCOMPARE(acc->errorBarCount(), withErr(acc->spec()));
        QCOMPARE(ppl->errorBarCount(), withErr(ppl->spec()));
        // Same group, same colour, in both charts.
        std::map<std::string, std::string> colour;
        for (ChartWidget* c : {acc, ppl})
            for (const auto& ser : c->spec().series) {
                if (ser.reference)
                    continue;
                QVERIFY(!ser.color.empty());
                auto [it, fresh] = colour.emplace(ser.name, ser.color);
                QVERIFY2(it->second == ser.color, ser.name.c_str());
            }
        QVERIFY(colour.count("INT8 real") && colour.count("FP8 fake") && colour["INT8 real"] != colour["FP8 real"]);
        QVERIFY(ppl->legendText().contains(QStringLiteral("INT8 fake")));
    }

    // Issue 13: the summary as table views: one row per config in the accuracy table, the best
    // value of each ranked column bold, numbers right-aligned, and the same table under the charts.
    void summaryAsTables()
    {
        QTemporaryDir d;
        const fs::path f = fs::path(d.path().toStdString()) / "results.jsonl";
        for (const auto& r : manyConfigs(19))
            qb::ResultsFile(f).append(r);
        auto w = window(30);
        QVERIFY(w->openPaths({QString::fromStdString(f.string())}).isEmpty());
        w->tabs()->setCurrentWidget(w->summaryPage());
        w->flushViews();
        const auto views = w->summaryPage()->tableViews();
        QVERIFY(!views.empty());
        ReportTableView* acc = nullptr;
        for (auto* v : views)
            if (v->table().id == "accuracy")
                acc = v;
        QVERIFY(acc);
        QCOMPARE(acc->model()->rowCount(), 19);
        const qb::Table& t = acc->table();
        int ranked = 0;
        for (size_t c = 0; c < t.columns.size(); ++c) {
            if (t.better[c] == qb::Better::None)
                continue;
            double best = t.better[c] == qb::Better::Lower ? 1e300 : -1e300;
            for (const auto& row : t.rows)
                if (row[c].value)
                    best = t.better[c] == qb::Better::Lower ? std::min(best, *row[c].value) : std::max(best, *row[c].value);
            if (std::abs(best) == 1e300)
                continue;
            ++ranked;
            for (int r = 0; r < acc->model()->rowCount(); ++r) {
                const QModelIndex i = acc->model()->index(r, int(c));
                const auto& cell = t.rows[size_t(r)][c];
                const bool bold = i.data(Qt::FontRole).value<QFont>().bold();
                QCOMPARE(bold, cell.value.has_value() && *cell.value == best);
                if (cell.value)
                    QVERIFY(i.data(Qt::TextAlignmentRole).toInt() & Qt::AlignRight);
            }
        }
        QVERIFY(ranked >= 1);
        // Sorting by a number column sorts by value, not by text.
        const int pplCol = 2;
        acc->sortByColumn(pplCol, Qt::DescendingOrder);
        double prev = 1e300;
        for (int r = 0; r < acc->model()->rowCount(); ++r) {
            const QVariant v = acc->model()->index(r, pplCol).data(ReportTableModel::SortRole);
            if (v.typeId() != QMetaType::Double)
                continue;
            QVERIFY(v.toDouble() <= prev);
            prev = v.toDouble();
        }
        w->tabs()->setCurrentWidget(w->chartsPage());
        w->flushViews();
        QCOMPARE(w->chartsPage()->overview()->view()->model()->rowCount(), 19);
    }

    // Issue 13: the compare view. Two sources with the same configs: one row per shared config,
    // Δ = B − A per metric as the records say, MMLU paired (McNemar) because the questions match,
    // configs of one source only named in the notes; the granularity chart draws B dashed.
    void compareTwoSources()
    {
        QTemporaryDir d;
        const fs::path fa = fs::path(d.path().toStdString()) / "old.jsonl", fb = fs::path(d.path().toStdString()) / "new.jsonl";
        auto mmlu = [](const std::string& n, const std::string& correct) {
            qb::ResultRecord r = result(n, 0);
            r.task = qb::task::MmluDirect;
            int k = 0;
            for (char c : correct)
                k += c == '1';
            r.metrics = {{"accuracy", double(k) / double(correct.size())}, {"n", double(correct.size())}};
            r.correct = correct;
            return r;
        };
        for (const auto& r : {result("FP32", 8.0), result("INT8_Per_Row", 8.4), result("INT8_Per_Tensor", 9.5),
                              mmlu("INT8_Per_Row", "1111100000")})
            qb::ResultsFile(fa).append(r);
        for (const auto& r : {result("FP32", 8.0), result("INT8_Per_Row", 8.1), result("FP8_Per_Row", 8.2),
                              mmlu("INT8_Per_Row", "1111111000")})
            qb::ResultsFile(fb).append(r);
        auto w = window(10);
        QVERIFY(w->openPaths({QString::fromStdString(fa.string()), QString::fromStdString(fb.string())}).isEmpty());
        w->tabs()->setCurrentWidget(w->comparePage());
        w->flushViews();
        ComparePage* c = w->comparePage();
        QCOMPARE(c->sourceA()->count(), 2);
        c->sourceA()->setCurrentIndex(c->sourceA()->findData(QString::fromStdString(fa.string())));
        c->sourceB()->setCurrentIndex(c->sourceB()->findData(QString::fromStdString(fb.string())));
        const qb::Table& t = c->table()->table();
        QCOMPARE(t.id, std::string("compare"));
        QCOMPARE(int(t.rows.size()), 2); // FP32 and INT8_Per_Row are in both
        const auto col = [&](const std::string& name) {
            return int(std::find(t.columns.begin(), t.columns.end(), name) - t.columns.begin());
        };
        for (const auto& row : t.rows) {
            if (row[0].text != "INT8_Per_Row")
                continue;
            QVERIFY(row[size_t(col("Δ PPL"))].value);
            QVERIFY(std::abs(*row[size_t(col("Δ PPL"))].value - (8.1 - 8.4)) < 1e-9);
            const size_t dpp = size_t(col("MMLU test")) - 1;
            QVERIFY(row[dpp].value);
            QVERIFY(std::abs(*row[dpp].value - 20.0) < 1e-9); // 70 % - 50 %
            QVERIFY2(row[size_t(col("MMLU test"))].text.find("McNemar") != std::string::npos,
                     row[size_t(col("MMLU test"))].text.c_str());
        }
        std::string notes;
        for (const auto& n : t.notes)
            notes += n + "\n";
        QVERIFY2(notes.find("INT8_Per_Tensor") != std::string::npos && notes.find("FP8_Per_Row") != std::string::npos,
                 notes.c_str());
        // The same numbers through core directly (what `report` would compute for these records).
        const qb::Table direct = qb::compareSources(w->resultsModel()->records(), fa.string(), fb.string());
        QCOMPARE(direct.markdown(), t.markdown());
        bool dashed = false, solid = false;
        for (const auto& s : c->chart()->spec().series)
            if (!s.reference)
                (s.dashed ? dashed : solid) = true;
        QVERIFY(dashed && solid);
    }

    // The Analysis tab (docs/analysis.md) fed a results.jsonl of the fixture above: the sensitivity
    // heat map (layers x 7, planted maximum), the mixed-precision curve and "Add to sweep", the
    // outlier heat map and channel charts (smoothed toggle, click a cell), the α chart (best α
    // marked per metric), export, empty states, and screenshots at laptop and desktop size
    // (QB_ANALYSIS_SHOTS=DIR keeps them).
    void analysisTabShowsSensitivityOutliersAlpha()
    {
        QTemporaryDir d;
        const fs::path f = fs::path(d.path().toStdString()) / "results.jsonl";
        for (const auto& r : analysisFixture())
            qb::ResultsFile(f).append(r);
        auto w = window(10);
        w->tabs()->setCurrentIndex(0);
        QVERIFY(w->openPaths({QString::fromStdString(f.string())}).isEmpty());
        AnalysisPage* a = w->analysisPage();
        QVERIFY(a);
        const int tab = w->tabs()->indexOf(a);
        QVERIFY(tab >= 0);
        QCOMPARE(w->tabs()->tabText(tab), QStringLiteral("Analysis"));
        // Built lazily: nothing before the tab is shown.
        QVERIFY(a->sensitivityHintShown());
        w->tabs()->setCurrentWidget(a);
        QTest::qWait(50);

        // Sensitivity heat map: 3 layers x q..down, the planted maximum at L1.down, brightest colour.
        QVERIFY(!a->sensitivityHintShown());
        HeatMapWidget* heat = a->sensitivityHeatMap();
        QCOMPARE(int(heat->data().rows.size()), 3);
        QCOMPARE(heat->data().columns, std::vector<std::string>({"q", "k", "v", "o", "gate", "up", "down"}));
        QCOMPARE(heat->cellCount(), 21);
        QCOMPARE(heat->data().maxCell(), std::make_pair(1, 6));
        QCOMPARE(heat->data().at(1, 6), 0.05);
        QCOMPARE(heat->cellColor(1, 6), viridis(1.0));
        QCOMPARE(heat->cellColor(0, 0), viridis(0.0)); // log scale: the smallest KL is the darkest
        QVERIFY(heat->data().tooltips[1 * 7 + 6].find("rank 1 of 21") != std::string::npos);
        QVERIFY(heat->data().tooltips[1 * 7 + 6].find("x_outlier") == std::string::npos); // words, not keys
        QVERIFY(heat->cellRect(1, 6).isValid() && heat->rect().contains(heat->cellRect(2, 6)));

        // Mixed-precision curve: 6 measured k, KL 0 at k = 21 drawn at the floor 1e-4 x the largest KL
        // (said in its tooltip); the budget line; the recommended point at k = 2 (category 2).
        const ChartSpec& curve = a->curveChart()->spec();
        QVERIFY(curve.logY);
        const ChartSeries* line = nullptr;
        const ChartSeries* rec = nullptr;
        const ChartSeries* budget = nullptr;
        for (const auto& s : curve.series)
            (s.reference ? budget : s.markerSize > 0 ? rec : line) = &s;
        QVERIFY(line && rec && budget);
        QCOMPARE(int(line->points.size()), 6);
        QCOMPARE(curve.categories, std::vector<std::string>({"0", "1", "2", "4", "8", "21"}));
        QCOMPARE(a->curveChart()->drawnPointCount(), 6 + 1); // 6 KL points + the recommended mark
        double klMax = 0;
        for (const auto& p : line->points)
            klMax = std::max(klMax, p.y);
        QCOMPARE(line->points.back().y, klMax * 1e-4);
        QVERIFY(QString::fromStdString(line->points.back().tooltip).contains(QStringLiteral("axis floor")));
        QCOMPARE(int(rec->points.size()), 1);
        QCOMPARE(rec->points[0].x, 2.0);
        QCOMPARE(rec->points[0].y, 0.008);
        QCOMPARE(budget->points.front().y, 0.01);
        QCOMPARE(a->recommendedScheme(), QString::fromStdString(kRecommended));
        QVERIFY(a->recommendationLabel()->text().remove(QChar(0x200B)).contains(QString::fromStdString(kRecommended)));
        QVERIFY(a->recommendationLabel()->text().contains(QStringLiteral("1.2 MB vs 1 MB")));

        // "Add to sweep": the recommended scheme joins the setup's schemes (once).
        QVERIFY(a->addToSweepButton()->isEnabled());
        const size_t before = w->setupPanel()->setup().schemes.size();
        a->addToSweepButton()->click();
        a->addToSweepButton()->click();
        QCOMPARE(w->setupPanel()->extraSchemes(), QStringList{QString::fromStdString(kRecommended)});
        const auto schemes = w->setupPanel()->setup().schemes;
        QCOMPARE(schemes.size(), before + 1);
        QCOMPARE(schemes.back().name(), kRecommended);
        QCOMPARE(schemes.back().keep, std::vector<std::string>({"model.layers.1.mlp.down_proj", "model.layers.2.self_attn.q_proj"}));
        QVERIFY(!w->setupPanel()->problems().join(u' ').contains(QStringLiteral("Extra scheme")));
        QVERIFY(QString::fromStdString(w->setupPanel()->setup().toJson().dump()).contains(QString::fromStdString(kRecommended)));

        // Outliers: the baseline's and SmoothQuant α 0.5's records; the worst unit's layer shown.
        a->pages()->setCurrentIndex(1);
        QTest::qWait(20);
        QVERIFY(!a->outliersHintShown());
        QCOMPARE(a->outlierConfig()->count(), 2);
        const int sqItem = a->outlierConfig()->findText(QStringLiteral("SmoothQuant_INT8_W8A8 "), Qt::MatchStartsWith);
        QVERIFY(sqItem >= 0);
        a->outlierConfig()->setCurrentIndex(sqItem);
        HeatMapWidget* oh = a->outlierHeatMap();
        QCOMPARE(oh->cellCount(), 21);
        QCOMPARE(oh->data().maxCell(), std::make_pair(2, 0)); // L2.q (attn input)
        QCOMPARE(oh->data().at(2, 0), 300.0);
        QCOMPARE(a->outlierLayer()->value(), 2);
        QCOMPARE(a->outlierInput()->currentData().toString(), QStringLiteral("attn"));
        const ChartSpec act = a->activationChart()->spec();
        QVERIFY(act.logY && act.valueX);
        QCOMPARE(int(act.series.size()), 2); // act and act_smoothed
        auto peak = [](const ChartSeries& s) {
            return *std::max_element(s.points.begin(), s.points.end(), [](auto& x, auto& y) { return x.y < y.y; });
        };
        QCOMPARE(peak(act.series[0]).x, 17.0);
        QCOMPARE(peak(act.series[0]).y, 500.0);
        QVERIFY(peak(act.series[1]).y < 30);
        QCOMPARE(int(a->weightChart()->spec().series.size()), 2); // w and w_smoothed
        QVERIFY(a->smoothedToggle()->isEnabled());
        a->smoothedToggle()->setChecked(true);
        QVERIFY(QString::fromStdString(oh->data().title).contains(QStringLiteral("after smoothing")));
        QVERIFY(std::abs(oh->data().at(2, 0) - std::sqrt(300.0)) < 1e-9);
        // A click on a cell shows that layer's input: L0.down -> layer 0, input down (not smoothed).
        QTest::mouseClick(oh, Qt::LeftButton, Qt::NoModifier, oh->cellRect(0, 6).center());
        QCOMPARE(a->outlierLayer()->value(), 0);
        QCOMPARE(a->outlierInput()->currentData().toString(), QStringLiteral("down"));
        QCOMPARE(int(a->activationChart()->spec().series.size()), 1);
        // The baseline has no smoothed values: the toggle is off limits.
        a->outlierConfig()->setCurrentIndex(a->outlierConfig()->findText(QStringLiteral("FP32"), Qt::MatchStartsWith));
        QVERIFY(!a->smoothedToggle()->isEnabled());
        QCOMPARE(oh->data().at(2, 0), 300.0);

        // α chart: PPL vs α, one SmoothQuant INT8 real series, best α 0.5 marked; KL: best α 1.
        a->pages()->setCurrentIndex(2);
        QTest::qWait(20);
        QCOMPARE(a->alphaMetric()->currentData().toString(), QStringLiteral("ppl.ppl"));
        QCOMPARE(int(a->bestAlphas().size()), 1);
        QCOMPARE(a->bestAlphas()[0].alpha, 0.5);
        QCOMPARE(a->bestAlphas()[0].value, 8.2);
        const ChartSpec alpha = a->alphaChartWidget()->spec();
        QVERIFY(alpha.valueX);
        const ChartSeries* mark = nullptr;
        const ChartSeries* sqLine = nullptr;
        for (const auto& s : alpha.series)
            if (!s.reference)
                (s.markerSize > 0 ? mark : sqLine) = &s;
        QVERIFY(mark && sqLine);
        QCOMPARE(int(sqLine->points.size()), 3);
        QCOMPARE(mark->points[0].x, 0.5);
        QCOMPARE(a->alphaChartWidget()->errorBarCount(), 3); // ppl_stderr
        QVERIFY(a->alphaBestLabel()->text().contains(QStringLiteral("α 0.5")));
        a->alphaMetric()->setCurrentIndex(1); // KL
        QCOMPARE(a->bestAlphas()[0].alpha, 1.0);
        a->alphaMetric()->setCurrentIndex(2); // MMLU: not run
        QVERIFY(a->alphaChartWidget()->showsHint());
        a->alphaMetric()->setCurrentIndex(0);

        // Export: PNG + SVG + CSV of every chart and heat map, and analysis.md.
        const QString out = d.filePath(QStringLiteral("analysis"));
        const QStringList files = w->exportAnalysisTo(out);
        QVERIFY2(w->lastError().isEmpty(), qPrintable(w->lastError()));
        for (const char* stem : {"sensitivity_heat", "outlier_heat", "mixed_precision", "outlier_activations",
                                 "outlier_weights", "smoothquant_alpha"})
            for (const char* ext : {".png", ".svg", ".csv"})
                QVERIFY2(files.contains(out + QStringLiteral("/analysis_") + QLatin1String(stem) + QLatin1String(ext)),
                         qPrintable(QStringLiteral("%1%2 missing from %3").arg(QLatin1String(stem), QLatin1String(ext), files.join(u' '))));
        QVERIFY(files.contains(out + QStringLiteral("/analysis.md")));
        for (const auto& file : files) {
            if (file.endsWith(QLatin1String(".png")))
                QVERIFY2(!QImage(file).isNull(), qPrintable(file));
            else if (file.endsWith(QLatin1String(".svg")))
                QVERIFY2(QSvgRenderer(file).isValid(), qPrintable(file));
        }
        const auto csv = qb::parseCsv(qbtest::readFile(QString(out + QStringLiteral("/analysis_sensitivity_heat.csv")).toStdString()), "heat.csv");
        QCOMPARE(int(csv.size()), 4);
        QCOMPARE(csv[0].fields, std::vector<std::string>({"layer", "q", "k", "v", "o", "gate", "up", "down"}));
        QCOMPARE(csv[2].fields[0], std::string("L1"));
        QCOMPARE(std::stod(csv[2].fields[7]), 0.05);
        const std::string md = qbtest::readFile(QString(out + QStringLiteral("/analysis.md")).toStdString());
        QVERIFY(md.find(kRecommended) != std::string::npos);
        QVERIFY(md.find("| L1.down | 0.05 |") != std::string::npos);
        QVERIFY(md.find("**8.2 ± 0.1**") != std::string::npos);

        // Screenshots: nothing cut or overlapping at laptop and desktop size (checked by eye; kept
        // with QB_ANALYSIS_SHOTS=DIR), and every page draws more than a blank.
        const QString shots = qEnvironmentVariableIsSet("QB_ANALYSIS_SHOTS") ? qEnvironmentVariable("QB_ANALYSIS_SHOTS")
                                                                              : d.filePath(QStringLiteral("shots"));
        QDir().mkpath(shots);
        QFile::copy(QString::fromStdString(f.string()), shots + QStringLiteral("/results.jsonl")); // for `quantbench --open`
        a->outlierConfig()->setCurrentIndex(sqItem);
        for (const QSize size : {QSize(1366, 768), QSize(1920, 1080)}) {
            w->resize(size);
            for (int page = 0; page < 3; ++page) {
                a->pages()->setCurrentIndex(page);
                QTest::qWait(80);
                const QImage img = w->grab().toImage();
                QCOMPARE(img.size(), size);
                QVERIFY(distinctColours(img) > 30);
                img.save(QStringLiteral("%1/analysis_%2x%3_page%4.png").arg(shots).arg(size.width()).arg(size.height()).arg(page));
                // Every heat-map cell is inside the widget and tall enough for its number.
                if (page < 2) {
                    HeatMapWidget* h = page == 0 ? heat : oh;
                    QVERIFY(h->rect().contains(h->cellRect(2, 6)));
                    QVERIFY(h->cellRect(2, 6).height() >= h->fontMetrics().height() + 2);
                }
            }
        }

        // Empty states: a window with no analysis record says how to get one.
        auto empty = window(10);
        empty->tabs()->setCurrentWidget(empty->analysisPage());
        QTest::qWait(20);
        QVERIFY(empty->analysisPage()->sensitivityHintShown());
        QVERIFY(empty->analysisPage()->outliersHintShown());
        QVERIFY(empty->analysisPage()->alphaChartWidget()->showsHint());
        QVERIFY(!empty->analysisPage()->addToSweepButton()->isEnabled());
        QVERIFY(empty->analysisPage()->findChild<QLabel*>(QStringLiteral("analysisHint"))->text().contains(QStringLiteral("quantbench-cli analyze")));
    }

    void noDisplaySaysHowToRun()
    {
        QByteArray saved[3] = {qgetenv("DISPLAY"), qgetenv("WAYLAND_DISPLAY"), qgetenv("QT_QPA_PLATFORM")};
        qunsetenv("DISPLAY");
        qunsetenv("WAYLAND_DISPLAY");
        qunsetenv("QT_QPA_PLATFORM");
        QVERIFY(!haveDisplay());
        char arg0[] = "quantbench";
        char* argv[] = {arg0, nullptr};
        int rc = runApp(1, argv); // returns before creating a QApplication
        const char* names[3] = {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"};
        for (int i = 0; i < 3; ++i)
            if (!saved[i].isEmpty())
                qputenv(names[i], saved[i]);
        QCOMPARE(rc, 2);
    }
};

QTEST_MAIN(TestUi)
#include "tst_ui.moc"
