// Quantization schemes: canonical names, parsing, JSON; (quantized models are tested below).
#include "qbtest.h"

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

QTEST_GUILESS_MAIN(TestQuant)
#include "tst_quant.moc"
