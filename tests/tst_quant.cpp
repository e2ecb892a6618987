// Quantization schemes: canonical names, parsing, JSON; (quantized models are tested below).
#include "qbtest.h"

#include "core/quant/fake_quant.h"
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
};

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

QTEST_GUILESS_MAIN(TestQuant)
#include "tst_quant.moc"
