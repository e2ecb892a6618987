// The analysis tasks (docs/analysis.md) on tiny random models with planted activation outliers
// (make-model scales 4 channels of one layer's input norm x50): the sensitivity ranking finds the
// planted layer, keeping it in the baseline dtype lowers KL, SmoothQuant lowers its max/median ratio
// and matmul error, the alpha sweep's best alpha is not 0; mixed-precision names round-trip and real
// equals fake for them; the sweep records, applicability and per-unit resume.
#include "qbtest.h"

#include "core/eval/analysis.h"
#include "core/model/linear.h"
#include "core/model/llama.h"
#include "core/model/make_model.h"
#include "core/quant/model_quantizer.h"
#include "core/quant/quant_linear.h"
#include "core/report/report.h"
#include "core/results/store.h"
#include "core/run/model_backend.h"
#include "core/run/runner.h"
#include "core/util/error.h"

#include <QtTest>
#include <torch/torch.h>

#include <atomic>
#include <map>
#include <set>

using namespace qb;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kPlanted = 2; // layer with the planted outliers (of 4)

fs::path plantedModel(const fs::path& dir, int64_t outlierLayer = kPlanted)
{
    MakeModelOptions o;
    o.like = "tiny-llama3";
    o.out = dir;
    o.seed = 7;
    o.layers = 4;
    o.dtype = "f32";
    o.outlier_layer = outlierLayer;
    o.tokenizer = qbtest::demoModelDir(); // the demo's 512-token vocabulary = the tiny presets' vocab
    makeModel(o);
    return dir;
}

std::vector<int32_t> demoTokens(const LlamaModel& m)
{
    // Deterministic ids over the vocabulary with some structure (repeats), enough for 4 x 64 windows.
    std::vector<int32_t> t;
    uint64_t s = 12345;
    for (int i = 0; i < 600; ++i) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        t.push_back(int32_t((s >> 33) % uint64_t(m.config().vocab_size)));
    }
    return t;
}

SensitivityTaskSettings smallSettings()
{
    SensitivityTaskSettings s;
    s.enabled = true;
    s.windows = 4;
    s.len = 64;
    s.topk = 512; // exact KL on the 512-token vocabulary
    s.max_rows = 128;
    s.budget_kl = -1;
    return s;
}

} // namespace

class TestAnalysis : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void keepListNamesRoundTrip();
    void keepListErrors();
    void sensitivityFindsPlantedLayer();
    void layerModeUnits();
    void mixedPrecisionRealEqualsFakeAndKeepsDense();
    void smoothingLowersPlantedRatioAndError();
    void alphaListExpands();
    void sweepRecordsAlphaBestAndResume();
};

void TestAnalysis::keepListNamesRoundTrip()
{
    auto s = QuantScheme::parse("INT8_Per_Tensor+keep:L3.q,L0.down,model.layers.1.self_attn.o_proj,L3.q");
    QCOMPARE(QString::fromStdString(s.name()), QStringLiteral("INT8_Per_Tensor+keep:L0.down,L1.o,L3.q"));
    QCOMPARE(int(s.keep.size()), 3);
    QCOMPARE(QString::fromStdString(s.keep[0]), QStringLiteral("model.layers.0.mlp.down_proj"));
    QCOMPARE(QString::fromStdString(QuantScheme::parse(s.name()).name()), QString::fromStdString(s.name()));
    auto j = s.toJson();
    QVERIFY(j.contains("keep"));
    QCOMPARE(QString::fromStdString(QuantScheme::fromJson(j, "test").name()), QString::fromStdString(s.name()));
    // layer 10 sorts after layer 2 (numeric, not text order)
    auto t = QuantScheme::parse("SmoothQuant_INT8_W8A8_Fake+keep:L10.gate,L2.v");
    QCOMPARE(QString::fromStdString(t.name()), QStringLiteral("SmoothQuant_INT8_W8A8_Fake+keep:L2.v,L10.gate"));
    QVERIFY(t.mode == QuantMode::Fake && t.smoothing == Smoothing::SmoothQuant);
    QVERIFY(QString::fromStdString(t.describe()).contains(QStringLiteral("2 linears stay")));
    QVERIFY(!(QuantScheme::parse("INT8_Per_Tensor") == s));
}

void TestAnalysis::keepListErrors()
{
    for (const char* bad : {"INT8_Per_Tensor+keep:", "INT8_Per_Tensor+keep:L0.foo", "INT8_Per_Tensor+kep:L0.q",
                            "INT8_Per_Tensor+keep:L0.q,,L1.q", "BF16+keep:L0.q", "INT8_Per_Tensor+keep:Lx.q"}) {
        bool threw = false;
        try {
            QuantScheme::parse(bad);
        } catch (const Error& e) {
            threw = true;
            QVERIFY2(QString::fromUtf8(e.what()).contains(QString::fromLatin1(bad).left(15)), e.what());
        }
        QVERIFY2(threw, bad);
    }
    nlohmann::json j = QuantScheme::parse("INT8_Per_Row").toJson();
    j["keep"] = {1, 2};
    QVERIFY_THROWS_EXCEPTION(Error, QuantScheme::fromJson(j, "file.json"));
    // a keep entry the model does not have is refused when applied, naming it
    QTemporaryDir tmp;
    auto model = LlamaModel::load(plantedModel(fs::path(tmp.path().toStdString()) / "m"), at::kFloat, torch::kCPU);
    ModelQuantizer q(*model);
    try {
        q.apply(QuantScheme::parse("INT8_Per_Row+keep:L9.q"));
        QFAIL("keep of a missing layer applied");
    } catch (const Error& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("model.layers.9.self_attn.q_proj")), e.what());
    }
    QVERIFY(std::dynamic_pointer_cast<const DenseLinear>(model->linear("model.layers.0.self_attn.q_proj")));
}

void TestAnalysis::sensitivityFindsPlantedLayer()
{
    QTemporaryDir tmp;
    auto model = LlamaModel::load(plantedModel(fs::path(tmp.path().toStdString()) / "m"), at::kFloat, torch::kCPU);
    ModelQuantizer q(*model);
    const auto tokens = demoTokens(*model);
    auto ids = torch::tensor(std::vector<int64_t>(tokens.begin(), tokens.begin() + 32)).view({1, -1});
    const auto before = model->forward(ids);
    int64_t lastDone = -1, lastTotal = 0, calls = 0;
    EvalHooks hooks;
    hooks.progress = [&](int64_t d, int64_t t) {
        QVERIFY(d > lastDone || d == t);
        lastDone = d;
        lastTotal = t;
        ++calls;
    };
    auto r = analyzeSensitivity(q, QuantScheme::parse("INT8_Per_Row_W8A8"), tokens, smallSettings(), hooks);
    QCOMPARE(int(r.units.size()), 4 * 7);
    QVERIFY2(calls >= 28 && lastDone == lastTotal,
             qPrintable(QStringLiteral("calls %1, last %2 of %3").arg(calls).arg(lastDone).arg(lastTotal)));
    // The planted layer's q/k/v (they read the x50 channels) are the most sensitive.
    const auto& top = r.units[r.ranking[0]];
    QVERIFY2(top.layer == kPlanted && (top.proj == "q" || top.proj == "k" || top.proj == "v"),
             qPrintable(QString::fromStdString(top.name)));
    // ... and the statistics that predict it: the outlier channels are seen in its input.
    QVERIFY2(top.x_outlier_frac > 0, qPrintable(QString::number(top.x_outlier_frac)));
    const auto& calm = r.units[0]; // layer 0 q_proj: no planted channels
    QVERIFY(top.x_absmax > 5 * calm.x_absmax);
    QVERIFY(top.sqnr_db < calm.sqnr_db);
    QVERIFY(top.kl > 3 * calm.kl);
    for (const auto& u : r.units) {
        QVERIFY(std::isfinite(u.kl) && u.kl >= 0 && std::isfinite(u.dnll));
        QVERIFY(u.bytes_quant < u.bytes_base);
    }
    // Curve: measured at k = 0, 1, 2, 4, 8, 16, 28; keeping the most sensitive unit lowers KL.
    std::map<int64_t, CurvePoint> curve;
    for (const auto& p : r.curve)
        curve[p.k] = p;
    for (int64_t k : {0, 1, 2, 4, 8, 16, 28})
        QVERIFY2(curve.count(k), qPrintable(QString::number(k)));
    QVERIFY2(curve[1].kl < 0.8 * curve[0].kl, qPrintable(QStringLiteral("%1 vs %2").arg(curve[1].kl).arg(curve[0].kl)));
    // all kept = the baseline: KL is float rounding of the stored log-probs only
    QVERIFY2(curve[28].kl < 1e-6 && curve[28].linear_bytes == r.base_linear_bytes,
             qPrintable(QStringLiteral("kl %1, bytes %2 vs %3").arg(curve[28].kl).arg(curve[28].linear_bytes).arg(r.base_linear_bytes)));
    QVERIFY(curve[0].linear_bytes < curve[4].linear_bytes && curve[4].linear_bytes < curve[28].linear_bytes);
    // Budget unset: the recommendation is the whole model kept; with a budget between k=1 and k=0 it
    // is the smallest measured k meeting it.
    auto s2 = smallSettings();
    s2.budget_kl = 0.5 * (curve[0].kl + curve[1].kl);
    auto r2 = analyzeSensitivity(q, QuantScheme::parse("INT8_Per_Row_W8A8"), tokens, s2, {});
    QVERIFY(r2.met);
    QCOMPARE(r2.recommended.k, int64_t(1));
    QCOMPARE(int(r2.recommendedKeep.size()), 1);
    QCOMPARE(QString::fromStdString(r2.recommendedKeep[0]), QString::fromStdString(r2.units[r2.ranking[0]].name));
    const auto rec = QuantScheme::parse(r2.recommended.scheme);
    QCOMPARE(QString::fromStdString(rec.name()), QString::fromStdString(r2.recommended.scheme));
    QVERIFY(r2.recommended.kl <= s2.budget_kl);
    // The analysis leaves the baseline in place (no re-quantized copy, same logits).
    QCOMPARE(QString::fromStdString(q.current().name()), QStringLiteral("FP32"));
    QVERIFY(torch::equal(model->forward(ids), before));
    // Cancel: stops with Cancelled and restores the baseline.
    std::atomic<bool> cancel{false};
    EvalHooks hc;
    hc.cancel = &cancel;
    int n = 0;
    hc.progress = [&](int64_t, int64_t) {
        if (++n == 3)
            cancel = true;
    };
    QVERIFY_THROWS_EXCEPTION(Cancelled, analyzeSensitivity(q, QuantScheme::parse("INT8_Per_Row_W8A8"), tokens, smallSettings(), hc));
    QVERIFY(torch::equal(model->forward(ids), before));
}

void TestAnalysis::layerModeUnits()
{
    QTemporaryDir tmp;
    auto model = LlamaModel::load(plantedModel(fs::path(tmp.path().toStdString()) / "m"), at::kFloat, torch::kCPU);
    ModelQuantizer q(*model);
    auto st = smallSettings();
    st.mode = "layer";
    auto r = analyzeSensitivity(q, QuantScheme::parse("INT8_Per_Row_W8A8"), demoTokens(*model), st, {});
    QCOMPARE(int(r.units.size()), 4);
    for (const auto& u : r.units)
        QCOMPARE(int(u.linears.size()), 7);
    QCOMPARE(r.units[r.ranking[0]].layer, kPlanted);
    // k = 1 keeps the seven linears of the planted layer
    for (const auto& p : r.curve)
        if (p.k == 1)
            QVERIFY(QString::fromStdString(p.scheme).contains(QStringLiteral("L2.q,L2.k,L2.v,L2.o,L2.gate,L2.up,L2.down")));
}

void TestAnalysis::mixedPrecisionRealEqualsFakeAndKeepsDense()
{
    QTemporaryDir tmp;
    auto model = LlamaModel::load(plantedModel(fs::path(tmp.path().toStdString()) / "m"), at::kFloat, torch::kCPU);
    ModelQuantizer q(*model);
    auto ids = torch::tensor(std::vector<int64_t>{1, 5, 9, 33, 70, 2, 400, 12, 7, 99, 3, 250}).view({1, -1});
    for (const char* base : {"INT8_Per_Row_W8A8", "INT8_Per_Group_32", "FP8_Per_Row", "SmoothQuant_INT8_W8A8"}) {
        if (std::string(base).rfind("SmoothQuant", 0) == 0)
            q.calibrate(tokenWindows(demoTokens(*model), 4, 64));
        const std::string keep = "+keep:L2.q,L2.k,L2.v,L0.down";
        auto real = QuantScheme::parse(std::string(base) + keep);
        auto fake = QuantScheme::parse(std::string(base) + "_Fake" + keep);
        auto rr = q.apply(real);
        QVERIFY(std::dynamic_pointer_cast<const DenseLinear>(model->linear("model.layers.2.self_attn.k_proj")));
        QVERIFY(std::dynamic_pointer_cast<const DenseLinear>(model->linear("model.layers.0.mlp.down_proj")));
        QVERIFY(!std::dynamic_pointer_cast<const DenseLinear>(model->linear("model.layers.2.self_attn.o_proj")));
        QCOMPARE(rr.linears, int64_t(28));
        auto yr = model->forward(ids);
        auto rf = q.apply(fake);
        auto yf = model->forward(ids);
        // (real and fake store differently: packed panels vs codes + scales; each counts its own)
        const double rel = ((yr - yf).norm() / yf.norm()).item<double>();
        QVERIFY2(rel < 1e-4, qPrintable(QStringLiteral("%1: real vs fake %2").arg(QString::fromLatin1(base)).arg(rel)));
        // and the mixed scheme differs from the plain one (the kept linears matter)
        const auto plain = q.apply(QuantScheme::parse(base));
        QVERIFY(((model->forward(ids) - yr).norm() / yr.norm()).item<double>() > 1e-6);
        QVERIFY(rr.linear_bytes_after > plain.linear_bytes_after); // 4 linears kept dense cost bytes
        QVERIFY(rf.linear_bytes_after > q.apply(QuantScheme::parse(std::string(base) + "_Fake")).linear_bytes_after);
        // matmul accuracy: kept linears are the baseline op
        q.restore();
        auto inputs = captureLinearInputs(*model, tokenWindows(demoTokens(*model), 2, 64), 64);
        auto acc = matmulAccuracy(q, real, inputs);
        for (const auto& l : acc.layers)
            if (l.name == "model.layers.2.self_attn.q_proj")
                QVERIFY2(l.sqnr_db > 80, qPrintable(QString::number(l.sqnr_db))); // fp32 vs fp32
    }
}

void TestAnalysis::smoothingLowersPlantedRatioAndError()
{
    QTemporaryDir tmp;
    auto model = LlamaModel::load(plantedModel(fs::path(tmp.path().toStdString()) / "m"), at::kFloat, torch::kCPU);
    ModelQuantizer q(*model);
    const auto windows = tokenWindows(demoTokens(*model), 4, 64);
    q.calibrate(windows);
    auto before = outlierReport(q, std::nullopt);
    auto after = outlierReport(q, 0.5);
    QVERIFY(before["alpha"].is_null());
    QCOMPARE(after["alpha"].get<double>(), 0.5);
    QCOMPARE(int(after["heat"].size()), 4 * 7);
    auto heat = [](const nlohmann::json& h, int64_t layer, const char* proj, const char* key) {
        for (const auto& e : h)
            if (e["layer"] == layer && e["proj"] == proj)
                return e[key].get<double>();
        return double(NAN);
    };
    const double planted = heat(before["heat"], kPlanted, "q", "act_ratio");
    const double calm = heat(before["heat"], 0, "q", "act_ratio");
    QVERIFY2(planted > 10 * calm, qPrintable(QStringLiteral("%1 vs %2").arg(planted).arg(calm)));
    QCOMPARE(before["worst_layer"].get<int64_t>(), kPlanted);
    const double smoothed = heat(after["heat"], kPlanted, "q", "act_ratio_smoothed");
    QVERIFY2(smoothed < 0.5 * planted, qPrintable(QStringLiteral("%1 -> %2").arg(planted).arg(smoothed)));
    QVERIFY(after["act_ratio_max_smoothed"].get<double>() < after["act_ratio_max_smoothable"].get<double>());
    // The per-channel array has its maxima on the planted channels.
    const auto& act = after["layers"][size_t(kPlanted)]["attn"]["act"];
    const int64_t hidden = model->config().hidden_size;
    QCOMPARE(int64_t(act.size()), hidden);
    std::set<int64_t> planted4;
    for (int64_t c : plantedOutlierChannels(hidden, 4))
        planted4.insert(c);
    int64_t arg = 0;
    for (int64_t c = 0; c < hidden; ++c)
        if (act[size_t(c)].get<double>() > act[size_t(arg)].get<double>())
            arg = c;
    QVERIFY(planted4.count(arg));
    QVERIFY(after["layers"][size_t(kPlanted)]["attn"].contains("w_smoothed"));
    QVERIFY(!after["layers"][size_t(kPlanted)]["o"].contains("act_smoothed")); // o_proj is not smoothed
    // The matmul error of the planted layer: SmoothQuant at alpha 0.5 beats W8A8 without smoothing.
    auto inputs = captureLinearInputs(*model, windows, 128);
    auto err = [&](const char* scheme) {
        for (const auto& l : matmulAccuracy(q, QuantScheme::parse(scheme), inputs).layers)
            if (l.name == "model.layers.2.self_attn.q_proj")
                return l.rel_fro_error;
        return double(NAN);
    };
    const double plain = err("INT8_Per_Row_W8A8"), sq = err("SmoothQuant_INT8_W8A8");
    QVERIFY2(sq < 0.7 * plain, qPrintable(QStringLiteral("%1 vs %2").arg(sq).arg(plain)));
    // not calibrated -> a clear error
    auto m2 = LlamaModel::load(fs::path(tmp.path().toStdString()) / "m", at::kFloat, torch::kCPU);
    ModelQuantizer q2(*m2);
    QVERIFY_THROWS_EXCEPTION(Error, outlierReport(q2, std::nullopt));
}

void TestAnalysis::alphaListExpands()
{
    auto s = expandSchemes(nlohmann::json::parse(R"({"smoothquant": [{"dtype": "INT8", "alpha": [0, 0.25, 0.5, 1]},
                                                                      {"dtype": "FP8", "alpha": 0.75, "mode": "fake"}]})"),
                           "FP32", "test");
    QCOMPARE(int(s.size()), 5);
    QCOMPARE(QString::fromStdString(s[0].name()), QStringLiteral("SmoothQuant_INT8_W8A8_Alpha0"));
    QCOMPARE(QString::fromStdString(s[2].name()), QStringLiteral("SmoothQuant_INT8_W8A8"));
    QCOMPARE(QString::fromStdString(s[4].name()), QStringLiteral("SmoothQuant_FP8_W8A8_Alpha0.75_Fake"));
    for (const char* bad : {R"({"smoothquant": [{"alpha": []}]})", R"({"smoothquant": [{"alpha": ["x"]}]})",
                            R"({"smoothquant": [{"alpha": [1.5]}]})", R"({"smoothquant": [3]})"})
        QVERIFY_THROWS_EXCEPTION(Error, expandSchemes(nlohmann::json::parse(bad), "FP32", "sweep.json"));
    // the tasks' JSON
    auto t = TaskSettings::fromJson(nlohmann::json::parse(R"({"sensitivity": {"mode": "layer", "schemes": ["INT8_Per_Row_W8A8"]},
                                                             "outliers": {}})"), "s.json");
    QVERIFY(t.sensitivity.enabled && t.outliers.enabled && t.sensitivity.mode == "layer");
    QVERIFY(t.applies(QuantScheme::parse("INT8_Per_Row_W8A8"), task::Sensitivity));
    QVERIFY(!t.applies(QuantScheme::parse("INT8_Per_Row"), task::Sensitivity));
    QVERIFY(!t.applies(QuantScheme::parse("FP32"), task::Sensitivity));
    QVERIFY(t.applies(QuantScheme::parse("FP32"), task::Outliers));
    QVERIFY(t.applies(QuantScheme::parse("SmoothQuant_INT8_W8A8"), task::Outliers));
    QVERIFY(!t.applies(QuantScheme::parse("INT8_Per_Row"), task::Outliers));
    QCOMPARE(TaskSettings::fromJson(t.toJson(), "x").toJson().dump(), t.toJson().dump());
    for (const char* bad : {R"({"sensitivity": {"mode": "block"}})", R"({"sensitivity": {"windows": 0}})",
                            R"({"sensitivity": {"typo": 1}})", R"({"sensitivity": {"schemes": ["INT9"]}})",
                            R"({"outliers": {"x": 1}})"})
        QVERIFY_THROWS_EXCEPTION(Error, TaskSettings::fromJson(nlohmann::json::parse(bad), "s.json"));
}

void TestAnalysis::sweepRecordsAlphaBestAndResume()
{
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    const fs::path model = plantedModel(root / "m");
    const std::string text = (qbtest::sourceDir() / "resources/demo/tinystories_sample.txt").string();
    nlohmann::json j = {
        {"name", "analysis"},
        {"model", model.string()},
        {"baseline_dtype", "FP32"},
        {"device", "cpu"},
        {"schemes", {{"extra", {"INT8_Per_Row_W8A8"}},
                     {"smoothquant", {{{"dtype", "INT8"}, {"alpha", {0, 0.25, 0.5, 0.75, 1}}}}}}},
        {"tasks", {{"ppl", {{"ctx", 64}, {"max_windows", 8}, {"kl_topk", 512}}},
                   {"sensitivity", {{"windows", 3}, {"len", 64}, {"topk", 512}, {"schemes", {"INT8_Per_Row_W8A8"}}}},
                   {"outliers", nlohmann::json::object()}}},
        {"datasets", {{"ppl_text", text}, {"calibration_text", text}}},
        {"calibration", {{"sequences", 8}, {"length", 64}}}};
    SweepSpec spec = SweepSpec::fromJson(j, "test");
    // First run: cancelled in the middle of the sensitivity task.
    std::atomic<bool> cancel{false};
    RunOptions o;
    o.out_dir = root / "run";
    o.cancel = &cancel;
    o.progress = [&](const SweepProgress& p) {
        if (p.task == task::Sensitivity && p.task_fraction > 0.3)
            cancel = true;
    };
    {
        ModelBackend b;
        auto sum = runSweep(spec, b, o);
        QVERIFY(sum.cancelled);
    }
    int partial = 0;
    for (const auto& e : fs::directory_iterator(o.out_dir))
        if (e.path().filename().string().find(".partial.jsonl") != std::string::npos)
            ++partial;
    QCOMPARE(partial, 1);
    // Resume: the checkpointed units are not measured again.
    cancel = false;
    o.progress = {};
    {
        ModelBackend b;
        auto sum = runSweep(spec, b, o);
        QVERIFY(!sum.cancelled);
        QCOMPARE(sum.failed, int64_t(0));
    }
    for (const auto& e : fs::directory_iterator(o.out_dir))
        QVERIFY2(e.path().filename().string().find(".partial.jsonl") == std::string::npos, "checkpoint left behind");
    auto loaded = loadResultsJsonl(o.out_dir / "results.jsonl");
    std::map<std::string, std::map<std::string, const ResultRecord*>> by; // config -> task -> record
    for (const auto& r : loaded.records) {
        QVERIFY2(r.ok(), r.error.c_str());
        by[r.config][r.task] = &r;
    }
    // Applicability: sensitivity only for the named scheme; outliers for the baseline and SmoothQuant.
    QVERIFY(by["INT8_Per_Row_W8A8"].count(task::Sensitivity));
    QVERIFY(!by["SmoothQuant_INT8_W8A8"].count(task::Sensitivity));
    QVERIFY(!by["FP32"].count(task::Sensitivity));
    QVERIFY(by["FP32"].count(task::Outliers) && by["SmoothQuant_INT8_W8A8_Alpha0.75"].count(task::Outliers));
    QVERIFY(!by["INT8_Per_Row_W8A8"].count(task::Outliers));
    const ResultRecord& sens = *by["INT8_Per_Row_W8A8"][task::Sensitivity];
    QVERIFY(sens.details["sensitivity"].value("resumed_units", 0) > 0);
    QCOMPARE(sens.details["sensitivity"]["units"].size(), size_t(28));
    QVERIFY(sens.details["sensitivity"]["ranking"][0].get<std::string>().rfind("model.layers.2.self_attn.", 0) == 0);
    QVERIFY(sens.has("recommended_k") && sens.has("full_kl") && sens.metric("full_kl") > 0);
    QVERIFY(QuantScheme::parse(sens.details["sensitivity"]["recommended"]["scheme"].get<std::string>()).name() ==
            sens.details["sensitivity"]["recommended"]["scheme"].get<std::string>());
    // The alpha sweep: KL vs the baseline per alpha; the best alpha is not 0 on the planted model.
    std::map<double, double> kl;
    for (const auto& [config, tasks] : by) {
        auto s = QuantScheme::parse(config);
        if (s.smoothing == Smoothing::SmoothQuant && tasks.count(task::Ppl))
            kl[s.alpha] = tasks.at(task::Ppl)->metric("kl_mean");
    }
    QCOMPARE(int(kl.size()), 5);
    auto best = std::min_element(kl.begin(), kl.end(), [](auto& a, auto& b) { return a.second < b.second; });
    QVERIFY2(best->first > 0, qPrintable(QStringLiteral("best alpha %1").arg(best->first)));
    QVERIFY(kl[0.5] < kl[0.0]);
    // Outliers records carry the heat map and, for SmoothQuant, the smoothed ratio.
    const auto& out = *by["SmoothQuant_INT8_W8A8"][task::Outliers];
    QVERIFY(out.metric("act_ratio_max_smoothed") < out.metric("act_ratio_max_smoothable"));
    QCOMPARE(out.details["outliers"]["heat"].size(), size_t(28));
    QVERIFY(!by["FP32"][task::Outliers]->has("act_ratio_max_smoothed"));

    // The report: top-10 sensitivity (planted layer first), the recommended scheme with its
    // measured KLD against the fully quantized one, the alpha table with KLD and the best alpha.
    const Report rep = buildReport(loaded.records, ReportOptions{});
    const Table* top = rep.table("sensitivity");
    QVERIFY(top);
    QCOMPARE(int(top->rows.size()), 10);
    QCOMPARE(top->rows[0][2].text, sens.details["sensitivity"]["ranking"][0].get<std::string>());
    const Table* mix = rep.table("mixed_precision");
    QVERIFY(mix && mix->rows.size() == 1);
    QCOMPARE(mix->rows[0][3].text, sens.details["sensitivity"]["recommended"]["scheme"].get<std::string>());
    QVERIFY(mix->rows[0][4].text != "–" && mix->rows[0][5].text != "–");
    const Table* sq = rep.table("smoothquant");
    QVERIFY(sq);
    QCOMPARE(int(sq->rows.size()), 5);
    const auto kldCol = size_t(std::find(sq->columns.begin(), sq->columns.end(), "KLD ↓") - sq->columns.begin());
    QVERIFY(kldCol < sq->columns.size());
    bool bestMarked = false;
    for (const auto& r : sq->rows)
        bestMarked = bestMarked || (r[kldCol].bold && r[1].text == QString::number(best->first, 'f', 2).toStdString());
    QVERIFY2(bestMarked, "the best alpha's KLD is not the marked one");
    bool note = false;
    for (const auto& n : sq->notes)
        note = note || n.rfind("Best α", 0) == 0;
    QVERIFY(note);
    QVERIFY(rep.table("outliers"));
    QVERIFY(rep.markdown().find("Per-linear sensitivity") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestAnalysis)
#include "tst_analysis.moc"
