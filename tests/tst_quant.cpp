// Quantization schemes: canonical names, parsing, JSON; (quantized models are tested below).
#include "qbtest.h"

#include "core/eval/ppl.h"
#include "core/model/generate.h"
#include "core/model/llama.h"
#include "core/tokenizer/tokenizer.h"
#include "core/quant/fake_quant.h"
#include "core/quant/model_quantizer.h"
#include "core/quant/quant_linear.h"
#include "kernels/fp8.h"
#include "kernels/quant.h"
#include "core/quant/scheme.h"
#include "core/util/error.h"

using namespace qb;

class TestQuant : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void schemeNamesRoundTrip_data();
    void schemeNamesRoundTrip();
    void schemeNameErrors_data();
    void schemeNameErrors();
    void schemeJsonRoundTrip();
    void schemeMatrixOrder();
    void e4m3GridExact();
    void int8ErrorBound_data();
    void int8ErrorBound();
    void finerGranularityLowersError_data();
    void finerGranularityLowersError();
    void partialGroupsAndZeroRows();
    void activationPerToken();
    void torchCodesEqualKernelCodes_data();
    void torchCodesEqualKernelCodes();
    void fakeQuantKernelPathEqualsTorch_data();
    void fakeQuantKernelPathEqualsTorch();
    void realEqualsFake_data();
    void realEqualsFake();
    void realOnCudaEqualsCpu_data() { realEqualsFake_data(); }
    void realOnCudaEqualsCpu();
    void modelSchemesApplyAndRestore();
    void lmHeadSchemeQuantizesTheOutputProjection();
    void smoothQuantFoldingKeepsLogits();
    void smoothQuantBeatsPlainW8A8OnOutliers();
    void everySchemeOnDemoModel();
};

// A tiny random Llama-family model (GQA, untied) for quantization tests.
static std::shared_ptr<LlamaModel> tinyModel(uint64_t seed, double outlierBoost = 1.0)
{
    ModelConfig c;
    c.architecture = "LlamaForCausalLM";
    c.model_type = "llama";
    c.vocab_size = 256;
    c.hidden_size = 64;
    c.intermediate_size = 160;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 16;
    c.max_position_embeddings = 256;
    c.rms_norm_eps = 1e-5;
    c.tie_word_embeddings = false;
    torch::manual_seed(seed);
    std::map<std::string, at::Tensor> w;
    auto lin = [&](const std::string& n, int64_t o, int64_t i) { w[n] = torch::randn({o, i}) / std::sqrt(double(i)); };
    w["model.embed_tokens.weight"] = torch::randn({256, 64});
    w["lm_head.weight"] = torch::randn({256, 64}) * 0.1;
    w["model.norm.weight"] = torch::ones({64});
    for (int l = 0; l < 2; ++l) {
        std::string p = "model.layers." + std::to_string(l) + ".";
        lin(p + "self_attn.q_proj.weight", 64, 64);
        lin(p + "self_attn.k_proj.weight", 32, 64);
        lin(p + "self_attn.v_proj.weight", 32, 64);
        lin(p + "self_attn.o_proj.weight", 64, 64);
        lin(p + "mlp.gate_proj.weight", 160, 64);
        lin(p + "mlp.up_proj.weight", 160, 64);
        lin(p + "mlp.down_proj.weight", 64, 160);
        auto n1 = torch::ones({64}) + 0.1 * torch::randn({64});
        auto n2 = torch::ones({64}) + 0.1 * torch::randn({64});
        // Outlier channels in the normalized activations, as seen in real LLMs.
        for (int ch : {3, 17, 40}) {
            n1[ch] = n1[ch] * outlierBoost;
            n2[ch] = n2[ch] * outlierBoost;
        }
        w[p + "input_layernorm.weight"] = n1;
        w[p + "post_attention_layernorm.weight"] = n2;
    }
    return std::make_shared<LlamaModel>(c, [w](const std::string& n) {
        auto it = w.find(n);
        return it == w.end() ? at::Tensor() : it->second;
    });
}

static at::Tensor randomIds(int64_t b, int64_t t, uint64_t seed)
{
    torch::manual_seed(seed);
    return torch::randint(1, 256, {b, t}, at::kLong);
}

void TestQuant::schemeNamesRoundTrip_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("gran");
    QTest::addColumn<int>("group");
    QTest::addColumn<int>("act");
    QTest::addColumn<bool>("fake");
    QTest::addColumn<bool>("smooth");
    using G = Granularity;
    QTest::newRow("int8 row") << "INT8_Per_Row" << int(QDType::INT8) << int(G::PerRow) << 0 << int(ActQuant::None) << false << false;
    QTest::newRow("fp8 g128 fake") << "FP8_Per_Group_128_Fake" << int(QDType::FP8_E4M3) << int(G::PerGroup) << 128 << int(ActQuant::None) << true << false;
    QTest::newRow("int8 tensor fake") << "INT8_Per_Tensor_Fake" << int(QDType::INT8) << int(G::PerTensor) << 0 << int(ActQuant::None) << true << false;
    QTest::newRow("int8 w8a8") << "INT8_Per_Row_W8A8" << int(QDType::INT8) << int(G::PerRow) << 0 << int(ActQuant::PerToken) << false << false;
    QTest::newRow("int8 w8a8 tensor act") << "INT8_Per_Group_64_W8A8_TensorAct" << int(QDType::INT8) << int(G::PerGroup) << 64 << int(ActQuant::PerTensor) << false << false;
    QTest::newRow("sq int8") << "SmoothQuant_INT8_W8A8" << int(QDType::INT8) << int(G::PerRow) << 0 << int(ActQuant::PerToken) << false << true;
    QTest::newRow("sq fp8 fake") << "SmoothQuant_FP8_W8A8_Fake" << int(QDType::FP8_E4M3) << int(G::PerRow) << 0 << int(ActQuant::PerToken) << true << true;
}

void TestQuant::schemeNamesRoundTrip()
{
    QFETCH(QString, name);
    QFETCH(int, dtype);
    QFETCH(int, gran);
    QFETCH(int, group);
    QFETCH(int, act);
    QFETCH(bool, fake);
    QFETCH(bool, smooth);
    auto s = QuantScheme::parse(name.toStdString());
    QCOMPARE(int(s.dtype), dtype);
    QCOMPARE(int(s.granularity), gran);
    QCOMPARE(s.group_size, group);
    QCOMPARE(int(s.activation), act);
    QCOMPARE(s.mode == QuantMode::Fake, fake);
    QCOMPARE(s.smoothing == Smoothing::SmoothQuant, smooth);
    QCOMPARE(QString::fromStdString(s.name()), name);
    QVERIFY(!s.describe().empty());
}

void TestQuant::schemeNameErrors_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("dtype") << "INT4_Per_Row" << "unknown dtype 'INT4'";
    QTest::newRow("granularity") << "INT8_Per_Block" << "unknown granularity 'Block'";
    QTest::newRow("group missing") << "FP8_Per_Group" << "needs a group size";
    QTest::newRow("group zero") << "FP8_Per_Group_0" << "positive integer";
    QTest::newRow("group text") << "FP8_Per_Group_x" << "not a number";
    QTest::newRow("trailing") << "INT8_Per_Row_Fast" << "unexpected part 'Fast'";
    QTest::newRow("sq not w8a8") << "SmoothQuant_INT8" << "W8A8";
    QTest::newRow("divisor") << "INT8_Per_Row_Div100" << "divisor";
    QTest::newRow("alpha range") << "SmoothQuant_INT8_W8A8_Alpha1.5" << "alpha";
}

void TestQuant::schemeNameErrors()
{
    QFETCH(QString, name);
    QFETCH(QString, phrase);
    try {
        QuantScheme::parse(name.toStdString());
        QFAIL("parse accepted a bad name");
    } catch (const Error& e) {
        QString msg = QString::fromUtf8(e.what());
        QVERIFY2(msg.contains(phrase), qPrintable(msg));
        QVERIFY2(msg.contains(name), qPrintable(msg));
    }
}

void TestQuant::schemeJsonRoundTrip()
{
    for (const char* n : {"BF16", "INT8_Per_Group_256", "FP8_Per_Tensor_Fake", "INT8_Per_Row_Div127.5",
                          "SmoothQuant_INT8_W8A8_Alpha0.75", "SmoothQuant_FP8_W8A8_Fake"}) {
        auto s = QuantScheme::parse(n);
        auto j = s.toJson();
        QCOMPARE(QString::fromStdString(j.at("name").get<std::string>()), QString::fromLatin1(n));
        auto back = QuantScheme::fromJson(j, "test");
        QCOMPARE(QString::fromStdString(back.name()), QString::fromLatin1(n));
        QCOMPARE(back.int8_divisor, s.int8_divisor);
        QCOMPARE(back.alpha, s.alpha);
    }
    QVERIFY_THROWS_EXCEPTION(Error, QuantScheme::fromJson(nlohmann::json::array(), "file.json"));
}

void TestQuant::schemeMatrixOrder()
{
    auto m = schemeMatrix({QDType::INT8, QDType::FP8_E4M3},
                          {{Granularity::PerTensor, 0}, {Granularity::PerRow, 0}, {Granularity::PerGroup, 128}},
                          {QuantMode::Real, QuantMode::Fake});
    QCOMPARE(int(m.size()), 12);
    QCOMPARE(QString::fromStdString(m.front().name()), QStringLiteral("INT8_Per_Tensor"));
    QCOMPARE(QString::fromStdString(m.back().name()), QStringLiteral("FP8_Per_Group_128_Fake"));
}

// Independent E4M3FN grid: every finite non-negative value, from sign/exponent/mantissa.
static std::vector<double> e4m3Values()
{
    std::vector<double> v;
    for (int e = 0; e < 16; ++e)
        for (int m = 0; m < 8; ++m) {
            if (e == 15 && m == 7)
                continue; // NaN
            v.push_back(e == 0 ? std::ldexp(m / 8.0, -6) : std::ldexp(1.0 + m / 8.0, e - 7));
        }
    return v;
}

void TestQuant::e4m3GridExact()
{
    auto grid = e4m3Values();
    QCOMPARE(grid.back(), 448.0);
    std::vector<float> in, expect;
    for (size_t i = 0; i < grid.size(); ++i) {
        in.push_back(float(grid[i]));
        expect.push_back(float(grid[i]));
        in.push_back(-float(grid[i]));
        expect.push_back(-float(grid[i]));
        if (i + 1 < grid.size()) {
            // midpoint ties to the code with even mantissa (index parity on the grid)
            double mid = (grid[i] + grid[i + 1]) / 2;
            double even = (i % 2 == 0) ? grid[i] : grid[i + 1];
            in.push_back(float(mid));
            expect.push_back(float(even));
            in.push_back(std::nextafter(float(mid), 0.f));
            expect.push_back(float(grid[i]));
            in.push_back(std::nextafter(float(mid), 1e9f));
            expect.push_back(float(grid[i + 1]));
        }
    }
    for (float big : {449.f, 464.f, 465.f, 1e9f, INFINITY}) {
        in.push_back(big);
        expect.push_back(448.f);
        in.push_back(-big);
        expect.push_back(-448.f);
    }
    auto out = roundToE4M3(torch::tensor(in));
    auto* o = out.data_ptr<float>();
    for (size_t i = 0; i < in.size(); ++i)
        QVERIFY2(o[i] == expect[i], qPrintable(QStringLiteral("in %1 -> %2, expected %3").arg(in[i], 0, 'g', 9).arg(o[i], 0, 'g', 9).arg(expect[i], 0, 'g', 9)));
    QVERIFY(std::isnan(roundToE4M3(torch::tensor({NAN})).item<float>()));
}

void TestQuant::int8ErrorBound_data()
{
    QTest::addColumn<int>("gran");
    QTest::addColumn<int>("group");
    QTest::addColumn<double>("divisor");
    QTest::newRow("tensor") << int(Granularity::PerTensor) << 0 << 127.0;
    QTest::newRow("row") << int(Granularity::PerRow) << 0 << 127.0;
    QTest::newRow("group 64") << int(Granularity::PerGroup) << 64 << 127.0;
    QTest::newRow("group 100 partial") << int(Granularity::PerGroup) << 100 << 127.0;
    QTest::newRow("row div 127.5") << int(Granularity::PerRow) << 0 << 127.5;
}

void TestQuant::int8ErrorBound()
{
    QFETCH(int, gran);
    QFETCH(int, group);
    QFETCH(double, divisor);
    torch::manual_seed(1);
    auto w = torch::randn({48, 300});
    auto g = Granularity(gran);
    auto scales = weightScales(w, QDType::INT8, g, group, divisor);
    auto codes = quantizeCodes(w, scales, QDType::INT8, g, group, divisor);
    QVERIFY(torch::equal(codes, codes.round()));
    QVERIFY(codes.max().item<float>() <= 127.f);
    QVERIFY(codes.min().item<float>() >= (divisor == 127.5 ? -128.f : -127.f));
    auto deq = fakeQuantWeight(w, QDType::INT8, g, group, divisor);
    at::Tensor full = scales;
    if (g == Granularity::PerGroup)
        full = scales.repeat_interleave(group, 1).narrow(1, 0, w.size(1));
    auto err = (deq - w).abs();
    // |error| <= scale / 2 (+ float rounding of code * scale)
    QVERIFY((err <= full.expand_as(w) * 0.5f * (1 + 1e-5f) + 1e-7f).all().item<bool>());
}

void TestQuant::finerGranularityLowersError_data()
{
    QTest::addColumn<int>("dtype");
    QTest::newRow("int8") << int(QDType::INT8);
    QTest::newRow("fp8") << int(QDType::FP8_E4M3);
}

void TestQuant::finerGranularityLowersError()
{
    QFETCH(int, dtype);
    auto dt = QDType(dtype);
    torch::manual_seed(7);
    // Outliers placed so that each finer level isolates them further: an outlier column at 0
    // (hurts its whole group: 64, 128, ... or the whole row) whose size varies by row (hurts
    // per-tensor more than per-row). FP8 only loses precision where values fall far below the
    // scale (subnormals), so the outliers are large.
    auto w = torch::randn({64, 1024}) * 0.01;
    auto rowBoost = torch::logspace(2, 4, 64).unsqueeze(1);   // 1e2 .. 1e4
    w.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, 1)},
                 torch::randn({64, 1}).sign() * 0.01 * rowBoost * 3);
    auto mse = [&](Granularity g, int gs) { return (fakeQuantWeight(w, dt, g, gs, 127.0) - w).pow(2).mean().item<double>(); };
    std::vector<std::pair<QString, double>> errs = {
        {"tensor", mse(Granularity::PerTensor, 0)}, {"row", mse(Granularity::PerRow, 0)},
        {"g512", mse(Granularity::PerGroup, 512)}, {"g256", mse(Granularity::PerGroup, 256)},
        {"g128", mse(Granularity::PerGroup, 128)}, {"g64", mse(Granularity::PerGroup, 64)}};
    for (size_t i = 1; i < errs.size(); ++i)
        QVERIFY2(errs[i].second < errs[i - 1].second,
                 qPrintable(QStringLiteral("%1 (%2) not below %3 (%4)").arg(errs[i].first).arg(errs[i].second)
                                .arg(errs[i - 1].first).arg(errs[i - 1].second)));
}

void TestQuant::partialGroupsAndZeroRows()
{
    auto w = torch::randn({3, 130});
    w[1].zero_();
    auto s = weightScales(w, QDType::INT8, Granularity::PerGroup, 64, 127.0);
    QCOMPARE(s.size(1), 3); // 64 + 64 + 2
    QCOMPARE(s[1][0].item<float>(), 1.f); // zero row: scale 1
    auto q = fakeQuantWeight(w, QDType::INT8, Granularity::PerGroup, 64, 127.0);
    QVERIFY(torch::equal(q[1], torch::zeros({130})));
    // the partial last group has its own scale
    QCOMPARE(s[0][2].item<float>(), w[0].narrow(0, 128, 2).abs().max().item<float>() / 127.f);
    // G >= in is per row
    auto big = fakeQuantWeight(w, QDType::FP8_E4M3, Granularity::PerGroup, 512, 127.0);
    auto row = fakeQuantWeight(w, QDType::FP8_E4M3, Granularity::PerRow, 0, 127.0);
    QVERIFY(torch::equal(big, row));
}

void TestQuant::activationPerToken()
{
    auto x = torch::randn({2, 5, 32});
    x[0][1] *= 100;
    auto q = fakeQuantActivation(x, QDType::INT8, ActQuant::PerToken, 127.0);
    auto amax = std::get<0>(x.abs().max(-1, true));
    QVERIFY(((q - x).abs() <= amax / 127 * 0.5001).all().item<bool>());
    // per-tensor: one outlier token coarsens every token
    auto qt = fakeQuantActivation(x, QDType::INT8, ActQuant::PerTensor, 127.0);
    QVERIFY((qt - x).pow(2).mean().item<double>() > (q - x).pow(2).mean().item<double>());
    QVERIFY(torch::equal(fakeQuantActivation(x, QDType::INT8, ActQuant::None, 127.0), x));
}

void TestQuant::torchCodesEqualKernelCodes_data()
{
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("gran");
    QTest::addColumn<int>("group");
    QTest::addColumn<double>("divisor");
    for (int dt : {int(QDType::INT8), int(QDType::FP8_E4M3)}) {
        QString d = dt == int(QDType::INT8) ? "int8" : "fp8";
        QTest::addRow("%s tensor", qPrintable(d)) << dt << int(Granularity::PerTensor) << 0 << 127.0;
        QTest::addRow("%s row", qPrintable(d)) << dt << int(Granularity::PerRow) << 0 << 127.0;
        QTest::addRow("%s g64", qPrintable(d)) << dt << int(Granularity::PerGroup) << 64 << 127.0;
        QTest::addRow("%s g128 partial", qPrintable(d)) << dt << int(Granularity::PerGroup) << 128 << 127.0;
    }
    QTest::newRow("int8 row 127.5") << int(QDType::INT8) << int(Granularity::PerRow) << 0 << 127.5;
}

void TestQuant::fakeQuantKernelPathEqualsTorch_data()
{
    QTest::addColumn<bool>("bf16");
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("gran");
    QTest::addColumn<int>("group");
    QTest::addColumn<double>("divisor");
    for (bool bf : {false, true})
        for (int dt : {int(QDType::INT8), int(QDType::FP8_E4M3)}) {
            const char* d = dt == int(QDType::INT8) ? "int8" : "fp8";
            const char* x = bf ? "bf16" : "f32";
            QTest::addRow("%s %s tensor", x, d) << bf << dt << int(Granularity::PerTensor) << 0 << 127.0;
            QTest::addRow("%s %s row", x, d) << bf << dt << int(Granularity::PerRow) << 0 << 127.0;
            QTest::addRow("%s %s g64", x, d) << bf << dt << int(Granularity::PerGroup) << 64 << 127.0;
            QTest::addRow("%s %s g128 partial", x, d) << bf << dt << int(Granularity::PerGroup) << 128 << 127.0;
            QTest::addRow("%s %s g512 >= in", x, d) << bf << dt << int(Granularity::PerGroup) << 512 << 127.0;
        }
    QTest::newRow("f32 int8 row 127.5") << false << int(QDType::INT8) << int(Granularity::PerRow) << 0 << 127.5;
}

// fakeQuantWeight / fakeQuantActivation take the kernels on CPU; the libtorch formulation is the
// reference, and the result (dtype included) must be the same to the bit.
void TestQuant::fakeQuantKernelPathEqualsTorch()
{
    QFETCH(bool, bf16);
    QFETCH(int, dtype);
    QFETCH(int, gran);
    QFETCH(int, group);
    QFETCH(double, divisor);
    torch::manual_seed(11);
    auto w = torch::randn({37, 300}) * torch::rand({37, 1}) * 3;
    w[5].zero_();
    w[7][3] = 1e-30f;                                  // tiny values, and a row of them below
    w[8] = torch::full({300}, 1e-39f);
    if (bf16)
        w = w.to(torch::kBFloat16);
    const auto dt = QDType(dtype);
    const auto g = Granularity(gran);
    const auto fast = fakeQuantWeight(w, dt, g, group, divisor);
    const auto ref = fakeQuantWeightTorch(w, dt, g, group, divisor);
    QCOMPARE(fast.scalar_type(), w.scalar_type());
    QVERIFY(torch::equal(fast, ref));
    QVERIFY(!torch::equal(fast, w));                   // it did quantize
    // Activations: a 3-D batch with an outlier token, per token and per tensor; a non-contiguous view.
    auto x = torch::randn({2, 5, 64});
    x[1][2] *= 50;
    if (bf16)
        x = x.to(torch::kBFloat16);
    for (ActQuant a : {ActQuant::PerToken, ActQuant::PerTensor}) {
        const auto fx = fakeQuantActivation(x, dt, a, divisor);
        QCOMPARE(fx.sizes(), x.sizes());
        QVERIFY(torch::equal(fx, fakeQuantActivationTorch(x, dt, a, divisor)));
        const auto xt = x.transpose(0, 1);
        QVERIFY(torch::equal(fakeQuantActivation(xt, dt, a, divisor), fakeQuantActivationTorch(xt, dt, a, divisor)));
    }
}

// The libtorch fake quantizer and the raw-pointer kernels implement one semantics: same codes
// and scales to the bit.
void TestQuant::torchCodesEqualKernelCodes()
{
    QFETCH(int, dtype);
    QFETCH(int, gran);
    QFETCH(int, group);
    QFETCH(double, divisor);
    torch::manual_seed(3);
    auto w = torch::randn({37, 300}) * torch::rand({37, 1}) * 3;
    w[5].zero_();
    auto dt = QDType(dtype);
    auto g = Granularity(gran);
    auto scales = weightScales(w, dt, g, group, divisor);
    auto codes = quantizeCodes(w, scales, dt, g, group, divisor);

    namespace k = qb::kernels;
    k::QuantSpec spec;
    spec.qtype = dt == QDType::INT8 ? k::QType::INT8 : k::QType::FP8_E4M3;
    spec.gran = g == Granularity::PerTensor ? k::Gran::Tensor : g == Granularity::PerRow ? k::Gran::Row : k::Gran::Group;
    spec.group = group;
    spec.int8_divisor = float(divisor);
    std::vector<uint8_t> kc(37 * 300);
    std::vector<float> ks(k::num_scales(spec, 37, 300));
    auto wc = w.contiguous();
    k::quantize(wc.data_ptr<float>(), k::DType::F32, 37, 300, 300, spec, kc.data(), 300, ks.data());
    auto flat = scales.contiguous().view({-1});
    QCOMPARE(flat.numel(), int64_t(ks.size()));
    for (size_t i = 0; i < ks.size(); ++i)
        QCOMPARE(flat[i].item<float>(), ks[i]);
    for (int64_t r = 0; r < 37; ++r)
        for (int64_t c = 0; c < 300; ++c) {
            float tv = codes[r][c].item<float>();
            float kv = dt == QDType::INT8 ? float(int8_t(kc[r * 300 + c])) : qb::kernels::fp8e4m3_to_float(kc[r * 300 + c]);
            if (tv != kv)
                QFAIL(qPrintable(QStringLiteral("code (%1,%2): torch %3 kernel %4").arg(r).arg(c).arg(tv).arg(kv)));
        }
}

void TestQuant::realEqualsFake_data()
{
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<bool>("bf16");
    for (const char* n : {"INT8_Per_Tensor", "INT8_Per_Row", "INT8_Per_Group_64", "INT8_Per_Group_128",
                          "FP8_Per_Tensor", "FP8_Per_Row", "FP8_Per_Group_64", "FP8_Per_Group_512",
                          "INT8_Per_Row_W8A8", "INT8_Per_Group_128_W8A8", "INT8_Per_Tensor_W8A8_TensorAct",
                          "FP8_Per_Row_W8A8", "INT8_Per_Row_Div127.5"}) {
        QTest::addRow("%s f32", n) << QString::fromLatin1(n) << false;
        QTest::addRow("%s bf16", n) << QString::fromLatin1(n) << true;
    }
}

void TestQuant::realEqualsFake()
{
    QFETCH(QString, scheme);
    QFETCH(bool, bf16);
    auto s = QuantScheme::parse(scheme.toStdString());
    torch::manual_seed(11);
    auto dt = bf16 ? at::kBFloat16 : at::kFloat;
    auto base = std::make_shared<DenseLinear>((torch::randn({96, 300}) * 0.05).to(dt), torch::randn({96}).to(dt));
    auto x = torch::randn({7, 300}).to(dt);
    auto fakeS = s;
    fakeS.mode = QuantMode::Fake;
    auto real = makeQuantLinear(base, s);
    auto fake = makeQuantLinear(base, fakeS);
    auto yr = real->forward(x).to(at::kFloat);
    auto yf = fake->forward(x).to(at::kFloat);
    QCOMPARE(yr.sizes(), yf.sizes());
    QVERIFY(torch::isfinite(yr).all().item<bool>());
    double rel = ((yr - yf).norm() / yf.norm()).item<double>();
    // Same codes and scales: only accumulation order differs (float32), plus bf16 rounding of
    // the fake weight and of the output in bf16 runs.
    double tol = bf16 ? 1e-2 : 1e-5;
    QVERIFY2(rel < tol, qPrintable(QStringLiteral("relative difference %1").arg(rel)));
    // Real stores 1 byte per weight + scales: a quarter of float32, half of bf16 (less saving
    // here because K = 300 pads the packed per-group layout to whole groups).
    QVERIFY(real->weightBytes() < base->weightBytes() / (bf16 ? 1.25 : 2.5));
}

// The real quantized linear on a CUDA tensor (CUDA kernels when built, the decode fallback
// otherwise) against the same scheme on the CPU kernels: same codes and scales, so only the
// summation order differs. Skips without a CUDA libtorch and a GPU.
void TestQuant::realOnCudaEqualsCpu()
{
    if (!torch::cuda::is_available())
        QSKIP("no CUDA device (or a CPU-only libtorch): the CUDA path of RealQuantLinear is not run");
    QFETCH(QString, scheme);
    QFETCH(bool, bf16);
    auto s = QuantScheme::parse(scheme.toStdString());
    torch::manual_seed(12);
    auto dt = bf16 ? at::kBFloat16 : at::kFloat;
    auto w = (torch::randn({96, 320}) * 0.05).to(dt);
    auto b = torch::randn({96}).to(dt);
    auto cpu = makeQuantLinear(std::make_shared<DenseLinear>(w, b), s);
    auto gpu = makeQuantLinear(std::make_shared<DenseLinear>(w.to(torch::kCUDA), b.to(torch::kCUDA)), s);
    for (int64_t M : {1, 5, 70}) {
        auto x = torch::randn({M, 320}).to(dt);
        auto yc = cpu->forward(x).to(at::kFloat);
        auto yg = gpu->forward(x.to(torch::kCUDA)).to(torch::kCPU, at::kFloat);
        QCOMPARE(yg.sizes(), yc.sizes());
        const double rel = ((yg - yc).norm() / yc.norm()).item<double>();
        QVERIFY2(rel < (bf16 ? 1e-2 : 1e-5), qPrintable(QStringLiteral("M=%1: relative difference %2").arg(M).arg(rel)));
    }
    QVERIFY(gpu->weightBytes() < uint64_t(w.numel() * w.element_size()));   // codes at rest on the device
}

void TestQuant::modelSchemesApplyAndRestore()
{
    auto model = tinyModel(5);
    auto ids = randomIds(2, 24, 9);
    auto baseLogits = model->forward(ids);
    ModelQuantizer q(*model);
    for (const char* n : {"INT8_Per_Row", "INT8_Per_Row_Fake", "FP8_Per_Group_64", "FP8_Per_Group_64_Fake",
                          "INT8_Per_Tensor_W8A8_TensorAct", "INT8_Per_Group_128_W8A8"}) {
        auto rep = q.apply(QuantScheme::parse(n));
        QCOMPARE(rep.linears, int64_t(14));
        auto logits = model->forward(ids);
        QVERIFY2(torch::isfinite(logits).all().item<bool>(), n);
        double rel = ((logits - baseLogits).norm() / baseLogits.norm()).item<double>();
        QVERIFY2(rel > 0 && rel < 0.2, qPrintable(QStringLiteral("%1: rel %2").arg(n).arg(rel)));
        // Real and fake alike hold 8-bit codes + scales (fake dequantizes per call into a reused
        // buffer), a quarter of this float32 model's linear bytes plus scales.
        QVERIFY2(rep.linear_bytes_after * 3 < rep.linear_bytes_before, n);
        if (QString::fromLatin1(n).endsWith("Fake")) {
            // The weight a fake op multiplies by is bit for bit fakeQuantWeight(base weight).
            const auto s = QuantScheme::parse(n);
            const std::string name = "model.layers.1.mlp.down_proj";
            auto op = std::dynamic_pointer_cast<const qb::FakeQuantLinear>(model->linear(name));
            QVERIFY(op);
            const auto want = qb::fakeQuantWeight(q.baseLinear(name)->weight(), s.dtype, s.granularity, s.group_size,
                                                  s.int8_divisor);
            QVERIFY(torch::equal(op->weight(), want));
        }
    }
    q.restore();
    QVERIFY(torch::equal(model->forward(ids), baseLogits));
}

void TestQuant::lmHeadSchemeQuantizesTheOutputProjection()
{
    auto model = tinyModel(5);
    auto ids = randomIds(2, 24, 9);
    auto baseLogits = model->forward(ids);
    ModelQuantizer q(*model);
    const auto plain = q.apply(QuantScheme::parse("INT8_Per_Row"));
    QVERIFY(!model->lm_head_op);
    auto plainLogits = model->forward(ids);
    for (const char* n : {"INT8_Per_Row_LmHead", "INT8_Per_Row_LmHead_Fake", "FP8_Per_Group_64_LmHead", "SmoothQuant_INT8_W8A8_LmHead"}) {
        const QuantScheme s = QuantScheme::parse(n);
        QVERIFY(s.lm_head);
        QCOMPARE(s.name(), std::string(n));                          // round trip, name and JSON
        QCOMPARE(QuantScheme::fromJson(s.toJson(), "test").name(), std::string(n));
        if (s.smoothing == qb::Smoothing::SmoothQuant)
            q.calibrate({randomIds(1, 32, 4)[0]});
        const auto rep = q.apply(s);
        QVERIFY2(model->lm_head_op, n);
        if (s.mode == qb::QuantMode::Real && s.smoothing == qb::Smoothing::None && s.granularity == qb::Granularity::PerRow)
            QVERIFY(rep.model_bytes_after < plain.model_bytes_after);  // the output projection as codes too
        auto logits = model->forward(ids);
        const double rel = ((logits - baseLogits).norm() / baseLogits.norm()).item<double>();
        QVERIFY2(rel > 0 && rel < 0.2, qPrintable(QStringLiteral("%1: rel %2").arg(n).arg(rel)));
        if (QString::fromLatin1(n) == QStringLiteral("INT8_Per_Row_LmHead"))
            QVERIFY(!torch::equal(logits, plainLogits));
    }
    q.restore();
    QVERIFY(!model->lm_head_op);
    QVERIFY(torch::equal(model->forward(ids), baseLogits));
}

void TestQuant::smoothQuantFoldingKeepsLogits()
{
    auto model = tinyModel(6, 20.0);
    auto ids = randomIds(2, 32, 10);
    auto baseLogits = model->forward(ids);
    ModelQuantizer q(*model);
    std::vector<at::Tensor> windows;
    for (int i = 0; i < 4; ++i)
        windows.push_back(randomIds(1, 48, 100 + i).view({-1}));
    QVERIFY_THROWS_EXCEPTION(Error, q.apply(QuantScheme::parse("SmoothQuant_INT8_W8A8")));
    q.calibrate(windows);
    QCOMPARE(q.stats().sequences, int64_t(4));
    auto factors = q.smooth(0.5);
    QCOMPARE(int(factors.size()), 2);
    // smoothing changes the weights (outlier channels get s > 1) but not the function
    QVERIFY(factors[0].first.max().item<float>() > 1.5f);
    auto logits = model->forward(ids);
    double maxDiff = (logits - baseLogits).abs().max().item<double>();
    QVERIFY2(maxDiff < 1e-4, qPrintable(QStringLiteral("max |dlogit| %1").arg(maxDiff)));
    q.restore();
    QVERIFY(torch::equal(model->forward(ids), baseLogits));
}

void TestQuant::smoothQuantBeatsPlainW8A8OnOutliers()
{
    auto model = tinyModel(7, 30.0);
    ModelQuantizer q(*model);
    std::vector<at::Tensor> windows;
    for (int i = 0; i < 4; ++i)
        windows.push_back(randomIds(1, 64, 200 + i).view({-1}));
    q.calibrate(windows);
    auto inputs = captureLinearInputs(*model, windows, 128);
    for (const char* dt : {"INT8", "FP8"}) {
        auto plain = matmulAccuracy(q, QuantScheme::parse(std::string(dt) + "_Per_Row_W8A8"), inputs);
        auto sq = matmulAccuracy(q, QuantScheme::parse(std::string("SmoothQuant_") + dt + "_W8A8"), inputs);
        QCOMPARE(int(plain.layers.size()), 14);
        // the smoothed linears (q/k/v, gate/up) carry the outliers
        double plainErr = 0, sqErr = 0;
        for (size_t i = 0; i < plain.layers.size(); ++i) {
            const auto& n = plain.layers[i].name;
            if (n.find("o_proj") != std::string::npos || n.find("down_proj") != std::string::npos)
                continue;
            plainErr += plain.layers[i].rel_fro_error;
            sqErr += sq.layers[i].rel_fro_error;
        }
        QVERIFY2(sqErr < plainErr, qPrintable(QStringLiteral("%1: SmoothQuant %2 vs plain %3").arg(dt).arg(sqErr).arg(plainErr)));
        QVERIFY(sq.sqnr_db > plain.sqnr_db);
        QVERIFY(plain.cosine > 0.9 && plain.cosine <= 1.0 + 1e-9);
    }
    // the quantizer is back in its baseline state
    QCOMPARE(QString::fromStdString(q.current().name()), QStringLiteral("FP32"));
}

// Every scheme of the sweep matrix on the real bundled model: generates and scores without NaN,
// stays close to the baseline, and real and fake of one scheme agree.
void TestQuant::everySchemeOnDemoModel()
{
    auto dir = qbtest::demoModelDir();
    auto model = LlamaModel::load(dir);
    auto tok = Tokenizer::fromFile(dir);
    auto text = qbtest::readFile(qbtest::sourceDir() / "resources/demo/tinystories_sample.txt");
    auto ids = tok.encode(text.substr(0, 6000), true);
    PplOptions po;
    po.ctx = 256;
    po.maxWindows = 2;
    double basePpl = perplexity(*model, ids, po).ppl;
    QVERIFY(basePpl > 1 && basePpl < 50);
    auto prompt = tok.encode("Once upon a time", true);
    std::vector<int64_t> p64(prompt.begin(), prompt.end());
    GenerateOptions go;
    go.maxNewTokens = 12;

    std::vector<QuantScheme> schemes = schemeMatrix(
        {QDType::INT8, QDType::FP8_E4M3},
        {{Granularity::PerTensor, 0}, {Granularity::PerRow, 0}, {Granularity::PerGroup, 64},
         {Granularity::PerGroup, 128}, {Granularity::PerGroup, 256}, {Granularity::PerGroup, 512}},
        {QuantMode::Real, QuantMode::Fake});
    for (const char* n : {"INT8_Per_Row_W8A8", "FP8_Per_Row_W8A8", "INT8_Per_Row_W8A8_Fake"})
        schemes.push_back(QuantScheme::parse(n));
    for (auto dt : {QDType::INT8, QDType::FP8_E4M3})
        for (auto m : {QuantMode::Real, QuantMode::Fake})
            schemes.push_back(QuantScheme::smoothQuant(dt, 0.5, m));

    ModelQuantizer q(*model);
    std::vector<at::Tensor> windows = tokenWindows(ids, 4, 128);
    q.calibrate(windows);
    std::map<std::string, double> pplOf;
    for (const auto& s : schemes) {
        auto rep = q.apply(s);
        QCOMPARE(rep.linears, int64_t(35));
        double ppl = perplexity(*model, ids, po).ppl;
        QVERIFY2(std::isfinite(ppl), s.name().c_str());
        // 8-bit schemes stay near the baseline on this model (per-tensor INT8 is the coarsest)
        QVERIFY2(ppl < basePpl * 1.5, qPrintable(QStringLiteral("%1: ppl %2 vs baseline %3")
                                                    .arg(QString::fromStdString(s.name())).arg(ppl).arg(basePpl)));
        auto gen = generateGreedy(*model, {p64}, go);
        QCOMPARE(int64_t(gen.tokens[0].size()), int64_t(12));
        pplOf[s.name()] = ppl;
    }
    for (const auto& s : schemes) {
        if (s.mode != QuantMode::Real)
            continue;
        auto f = s;
        f.mode = QuantMode::Fake;
        if (!pplOf.count(f.name()))
            continue;
        double a = pplOf.at(s.name()), b = pplOf.at(f.name());
        // Weight-only: same codes, float summation order only. W8A8: an activation that lands
        // within float rounding of a code boundary can round differently, and that compounds
        // over the layers, so the bound is looser.
        double tol = s.activation == ActQuant::None ? 1e-3 : 1e-2;
        QVERIFY2(std::abs(a - b) / b < tol, qPrintable(QStringLiteral("%1 real %2 vs fake %3")
                                                           .arg(QString::fromStdString(s.name())).arg(a).arg(b)));
    }
    q.restore();
    QCOMPARE(perplexity(*model, ids, po).ppl, basePpl);
}

QTEST_GUILESS_MAIN(TestQuant)
#include "tst_quant.moc"
