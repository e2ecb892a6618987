// Tokenizer tests: the Rust `tokenizers` library's output on real tokenizer.json files (shared
// goldens, 250 cases each), fuzz cases and a synthetic tokenizer it also produced (fixtures in
// core/tokenizer/testdata), llama2.c's own ids for the stories260K tokenizer, malformed files,
// speed on WikiText-2, and the `tokenize` CLI.
#include "qbtest.h"

#include "core/tokenizer/llama2c_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <QProcess>
#include <QTemporaryDir>

#include <chrono>
#include <thread>

using nlohmann::json;

namespace {

std::string idList(const std::vector<int32_t>& v) { return json(v).dump(); }

json readJson(const std::filesystem::path& p) { return json::parse(qbtest::readFile(p)); }

std::filesystem::path fixtures() { return qbtest::sourceDir() / "core/tokenizer/testdata"; }

std::string fromHex(const std::string& hex)
{
    std::string raw;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) raw += char(std::stoi(hex.substr(i, 2), nullptr, 16));
    return raw;
}

qb::Tokenizer llama2cTokenizer()
{
    auto bin = qbtest::sharedData() / "models/stories260k/tok512.bin";
    return qb::Tokenizer::fromJson(qb::llama2cTokenizerToJson(bin), qb::llama2cTokenizerConfig(), bin.string());
}

// Compares one case; returns "" or a description naming the text and both id lists.
std::string checkCase(const qb::Tokenizer& tok, const json& c, const char* decodedKey)
{
    const std::string text = c["text"];
    auto no = tok.encode(text, false), def = tok.encode(text, true);
    auto expNo = c["ids_no_special"].get<std::vector<int32_t>>(), expDef = c["ids_default"].get<std::vector<int32_t>>();
    std::string why;
    if (no != expNo) why += "\n  ids_no_special got " + idList(no) + "\n                 want " + idList(expNo);
    if (def != expDef) why += "\n  ids_default    got " + idList(def) + "\n                 want " + idList(expDef);
    std::string dec = tok.decode(expNo, false);
    if (dec != c[decodedKey].get<std::string>()) why += "\n  decoded got " + json(dec).dump() + " want " + c[decodedKey].dump();
    if (c.contains("normalized") && tok.normalize(text) != c["normalized"].get<std::string>())
        why += "\n  normalized got " + json(tok.normalize(text)).dump() + " want " + c["normalized"].dump();
    if (c.contains("pretokens") && !c["pretokens"].is_null() &&
        tok.preTokenize(text) != c["pretokens"].get<std::vector<std::string>>())
        why += "\n  pretokens got " + json(tok.preTokenize(text)).dump() + " want " + c["pretokens"].dump();
    if (c.contains("tokens_no_special") && tok.tokens(text, false) != c["tokens_no_special"].get<std::vector<std::string>>())
        why += "\n  tokens got " + json(tok.tokens(text, false)).dump() + " want " + c["tokens_no_special"].dump();
    return why.empty() ? why : "text " + json(text).dump() + why;
}

const char* kNames[] = {"qwen3", "qwen2_5", "mistral7b", "gpt2"};

} // namespace

class TestTokenizer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void golden_data()
    {
        QTest::addColumn<QString>("name");
        for (const char* n : kNames) QTest::newRow(n) << QString::fromLatin1(n);
    }
    void golden()
    {
        QFETCH(QString, name);
        const std::string n = name.toStdString();
        QB_REQUIRE_SHARED("tokenizers/" + n + "/tokenizer.json");
        QB_REQUIRE_SHARED("golden/tokenizers/" + n + ".json");
        auto tok = qb::Tokenizer::fromFile(qbtest::sharedData() / "tokenizers" / n);
        json g = readJson(qbtest::sharedData() / "golden/tokenizers" / (n + ".json"));
        QCOMPARE(g["cases"].size(), size_t(250));
        int failed = 0;
        std::string first;
        for (const json& c : g["cases"]) {
            std::string why = checkCase(tok, c, "decoded_no_special");
            if (!why.empty() && failed++ == 0) first = why;
        }
        if (failed) QFAIL(qPrintable(QString::fromStdString(n + ": " + std::to_string(failed) + " of 250 cases differ; first: " + first)));
    }

    void fuzzFixture_data()
    {
        QTest::addColumn<QString>("name");
        for (const char* n : kNames) QTest::newRow(n) << QString::fromLatin1(n);
        QTest::newRow("llama2c") << QStringLiteral("llama2c");
    }
    void fuzzFixture()
    {
        QFETCH(QString, name);
        const std::string n = name.toStdString();
        if (n == "llama2c") QB_REQUIRE_SHARED("models/stories260k/tok512.bin");
        else QB_REQUIRE_SHARED("tokenizers/" + n + "/tokenizer.json");
        auto tok = n == "llama2c" ? llama2cTokenizer() : qb::Tokenizer::fromFile(qbtest::sharedData() / "tokenizers" / n);
        json cases = readJson(fixtures() / "fuzz_cases.json")["cases"][n];
        QVERIFY(cases.size() >= 10);
        for (const json& c : cases) {
            std::string why = checkCase(tok, c, "decoded");
            QVERIFY2(why.empty(), why.c_str());
        }
    }

    // Components the real tokenizers do not use, against the Rust library's output.
    void synthetic()
    {
        auto tok = qb::Tokenizer::fromFile(fixtures() / "synthetic_tokenizer.json");
        std::istringstream lines(qbtest::readFile(fixtures() / "synthetic_expected.jsonl"));
        std::string line;
        int n = 0;
        while (std::getline(lines, line)) {
            std::string why = checkCase(tok, json::parse(line), "decoded");
            QVERIFY2(why.empty(), why.c_str());
            ++n;
        }
        QCOMPARE(n, 13);
        QCOMPARE(tok.tokenToId("[X]"), 31); // the library's id, not the file's 100
        QCOMPARE(tok.bosId().value_or(-1), 8); // RobertaProcessing cls
    }

    void llama2c()
    {
        QB_REQUIRE_SHARED("models/stories260k/tok512.bin");
        QB_REQUIRE_SHARED("golden/stories260k.json");
        auto tok = llama2cTokenizer();
        json g = readJson(qbtest::sharedData() / "golden/stories260k.json");
        QVERIFY(g["tokenizer_cases"].size() >= 10);
        for (const json& c : g["tokenizer_cases"]) {
            auto ids = tok.encode(fromHex(c["text_hex"]), true);
            auto want = c["token_ids"].get<std::vector<int32_t>>();
            QVERIFY2(ids == want, qPrintable(QString::fromStdString("text " + c["text"].dump() + " got " + idList(ids) + " want " + idList(want))));
        }
        for (const json& c : g["generations"]) {
            QCOMPARE(idList(tok.encode(c["prompt"], true)), idList(c["prompt_token_ids"]));
            QCOMPARE(tok.decode(c["tokens"].get<std::vector<int32_t>>()), c["text"].get<std::string>());
        }
        for (const json& c : g["ppl"]) QCOMPARE(idList(tok.encode(c["text"], true)), idList(c["token_ids"]));
        QCOMPARE(tok.vocabSize(), size_t(512));
        QCOMPARE(tok.bosId().value_or(-1), 1);
        QCOMPARE(tok.eosId().value_or(-1), 2);
        QCOMPARE(tok.idToToken(3), std::string("<0x00>"));
        QCOMPARE(idList(tok.encode("", true)), std::string("[1]")); // no dummy prefix for empty text
    }

    // The converted JSON survives a file round trip and is a complete tokenizer.json.
    void llama2cJsonFile()
    {
        QB_REQUIRE_SHARED("models/stories260k/tok512.bin");
        QTemporaryDir dir;
        auto j = qb::llama2cTokenizerToJson(qbtest::sharedData() / "models/stories260k/tok512.bin");
        for (const char* k : {"normalizer", "model", "post_processor", "decoder", "added_tokens"}) QVERIFY(j.contains(k));
        std::filesystem::path d = dir.path().toStdString();
        qbtest::writeFile(d / "tokenizer.json", j.dump());
        qbtest::writeFile(d / "tokenizer_config.json", qb::llama2cTokenizerConfig().dump());
        auto tok = qb::Tokenizer::fromFile(d);
        QCOMPARE(idList(tok.encode("Once upon a time", true)), std::string("[1,403,407,261,378]"));
        QCOMPARE(tok.decode(tok.encode("Hello world\n", true)), std::string("Hello world\n"));
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expect");
        const QByteArray model = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";
        QTest::newRow("not json") << QByteArray("this is not json") << QStringLiteral("not valid JSON");
        QTest::newRow("invalid utf-8") << QByteArray("{\"model\": \"\xff\xfe\"}") << QStringLiteral("not valid UTF-8");
        QTest::newRow("truncated") << ("{" + model).left(40) << QStringLiteral("not valid JSON");
        // A number no double holds is nlohmann's out_of_range, not parse_error (found by the fuzzer).
        QTest::newRow("number out of range") << ("{\"added_tokens\": 6e666, " + model + "}") << QStringLiteral("not valid JSON");
        QTest::newRow("not an object") << QByteArray("[1, 2]") << QStringLiteral("must be a JSON object");
        QTest::newRow("missing model") << QByteArray("{\"normalizer\": null}") << QStringLiteral("missing \"model\"");
        QTest::newRow("unknown normalizer") << ("{\"normalizer\": {\"type\": \"Frobnicate\"}, " + model + "}")
                                            << QStringLiteral("unknown normalizer type 'Frobnicate'");
        QTest::newRow("unknown pre_tokenizer") << ("{\"pre_tokenizer\": {\"type\": \"Zap\"}, " + model + "}")
                                               << QStringLiteral("unknown pre_tokenizer type 'Zap'");
        QTest::newRow("unknown decoder") << ("{\"decoder\": {\"type\": \"Zip\"}, " + model + "}")
                                         << QStringLiteral("unknown decoder type 'Zip'");
        QTest::newRow("nfkc refused") << ("{\"normalizer\": {\"type\": \"NFKC\"}, " + model + "}")
                                      << QStringLiteral("normalizer type 'NFKC' is not supported");
        QTest::newRow("unknown model type") << QByteArray(R"({"model": {"type": "WordPiece", "vocab": {}}})")
                                            << QStringLiteral("unsupported model type 'WordPiece'");
        QTest::newRow("merge unknown token")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c"]}})")
            << QStringLiteral("references unknown token 'c'");
        QTest::newRow("merge result missing")
            << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}})")
            << QStringLiteral("makes 'ab', which is not in the vocab");
        QTest::newRow("vocab id negative") << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": -3}, "merges": []}})")
                                           << QStringLiteral("vocab id -3 of 'a' is out of range");
        QTest::newRow("vocab id huge") << QByteArray(R"({"model": {"type": "BPE", "vocab": {"a": 9999999999}, "merges": []}})")
                                       << QStringLiteral("is out of range");
        QTest::newRow("bad split behavior")
            << ("{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, \"behavior\": \"Sideways\"}, " + model + "}")
            << QStringLiteral("unknown split behavior 'Sideways'");
        QTest::newRow("bad regex") << ("{\"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"(\"}, \"content\": \"\"}, " + model + "}")
                                   << QStringLiteral("cannot compile regex '('");
    }
    void malformed()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expect);
        QTemporaryDir dir;
        const std::filesystem::path p = std::filesystem::path(dir.path().toStdString()) / "tokenizer.json";
        qbtest::writeFile(p, content.toStdString());
        try {
            qb::Tokenizer::fromFile(p);
            QFAIL("no qb::Error");
        } catch (const qb::Error& e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QString::fromStdString(p.string())), qPrintable("message does not name the file: " + msg));
            QVERIFY2(msg.contains(expect), qPrintable("message lacks '" + expect + "': " + msg));
        }
    }
    void missingFile()
    {
        QTemporaryDir dir;
        try {
            qb::Tokenizer::fromFile(dir.path().toStdString());
            QFAIL("no qb::Error");
        } catch (const qb::Error& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("tokenizer.json: no such tokenizer file")));
        }
        QVERIFY_THROWS_EXCEPTION(qb::Error, qb::llama2cTokenizerToJson(dir.path().toStdString() + "/none.bin"));
        qbtest::writeFile(dir.path().toStdString() + "/short.bin", std::string("\x10\x00\x00\x00\x00\x00", 6));
        try {
            qb::llama2cTokenizerToJson(dir.path().toStdString() + "/short.bin");
            QFAIL("no qb::Error");
        } catch (const qb::Error& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("short.bin: truncated llama2.c tokenizer")));
        }
    }

    void api_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("vocab");
        QTest::addColumn<int>("bos");
        QTest::addColumn<int>("eos");
        QTest::newRow("qwen3") << "qwen3" << 151669 << -1 << 151645;
        QTest::newRow("qwen2_5") << "qwen2_5" << 151665 << -1 << 151645;
        QTest::newRow("mistral7b") << "mistral7b" << 32000 << 1 << 2;
        QTest::newRow("gpt2") << "gpt2" << 50257 << 50256 << 50256;
    }
    void api()
    {
        QFETCH(QString, name);
        QFETCH(int, vocab);
        QFETCH(int, bos);
        QFETCH(int, eos);
        QB_REQUIRE_SHARED("tokenizers/" + name.toStdString() + "/tokenizer.json");
        // The file path works as well as the folder.
        auto tok = qb::Tokenizer::fromFile(qbtest::sharedData() / "tokenizers" / name.toStdString() / "tokenizer.json");
        QCOMPARE(int(tok.vocabSize()), vocab);
        QCOMPARE(tok.bosId().value_or(-1), bos);
        QCOMPARE(tok.eosId().value_or(-1), eos);
        QCOMPARE(tok.tokenToId(tok.idToToken(eos)), eos);
        QCOMPARE(tok.tokenToId("no such token \xE2\x98\x83"), -1);
        QCOMPARE(tok.idToToken(vocab + 5), std::string());
        // Decoding skips special tokens unless asked; text survives a round trip.
        const std::string text = "Hello, world! 3.14 caf\xC3\xA9";
        auto ids = tok.encode(text, false);
        ids.push_back(eos);
        QCOMPARE(tok.decode(ids), text);
        QCOMPARE(tok.decode(ids, false), text + tok.idToToken(eos));
    }

    void threads()
    {
        QB_REQUIRE_SHARED("tokenizers/qwen3/tokenizer.json");
        const auto tok = qb::Tokenizer::fromFile(qbtest::sharedData() / "tokenizers/qwen3");
        std::vector<std::string> texts;
        for (int i = 0; i < 400; ++i) texts.push_back("line " + std::to_string(i * 7919) + " of text, don't stop \xE4\xBD\xA0\xE5\xA5\xBD " + std::to_string(i));
        std::vector<std::vector<int32_t>> a(texts.size()), b(texts.size());
        std::thread t1([&] { for (size_t i = 0; i < texts.size(); ++i) a[i] = tok.encode(texts[i]); });
        std::thread t2([&] { for (size_t i = texts.size(); i-- > 0;) b[i] = tok.encode(texts[i]); });
        t1.join();
        t2.join();
        QVERIFY(a == b);
        QCOMPARE(tok.decode(a[3]), texts[3]);
    }

    void wikitextSpeed_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("qwen2_5") << "qwen2_5";
        QTest::newRow("llama2c") << "llama2c";
    }
    void wikitextSpeed()
    {
        QFETCH(QString, name);
        QB_REQUIRE_SHARED("wikitext2/wiki.test.raw");
        QB_REQUIRE_SHARED("models/stories260k/tok512.bin");
        QB_REQUIRE_SHARED("tokenizers/qwen2_5/tokenizer.json");
        auto tok = name == QStringLiteral("llama2c") ? llama2cTokenizer() : qb::Tokenizer::fromFile(qbtest::sharedData() / "tokenizers/qwen2_5");
        const std::string text = qbtest::readFile(qbtest::sharedData() / "wikitext2/wiki.test.raw");
        auto t0 = std::chrono::steady_clock::now();
        auto ids = tok.encode(text, false);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        qInfo("%s: WikiText-2 test (%zu bytes) -> %zu tokens in %.3f s", qPrintable(name), text.size(), ids.size(), s);
        QVERIFY(ids.size() > 250000);
        // Lossless: decoding gives the bytes back.
        QVERIFY(tok.decode(ids) == text);
        QVERIFY2(s < 20.0, "tokenizing WikiText-2 is far too slow"); // generous: the machine is shared
    }

    void cli()
    {
        QB_REQUIRE_SHARED("tokenizers/gpt2/tokenizer.json");
        const QString tokPath = QString::fromStdString((qbtest::sharedData() / "tokenizers/gpt2").string());
        QProcess p;
        p.start(QString::fromStdString(qbtest::cliPath()), {QStringLiteral("tokenize"), QStringLiteral("--tokenizer"), tokPath});
        QVERIFY(p.waitForStarted());
        p.write("{\"text\": \"Hello world\"}\n\n{\"text\": \"<|endoftext|>\"}\n");
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QCOMPARE(QString::fromUtf8(p.readAllStandardOutput()), QStringLiteral("{\"ids\":[15496,995]}\n{\"ids\":[50256]}\n"));

        p.start(QString::fromStdString(qbtest::cliPath()), {QStringLiteral("tokenize"), QStringLiteral("--tokenizer"), tokPath});
        QVERIFY(p.waitForStarted());
        p.write("{\"text\": \"ok\"}\n{\"text\": oops}\n");
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains(QStringLiteral("stdin line 2: not valid JSON")));

        p.start(QString::fromStdString(qbtest::cliPath()), {QStringLiteral("tokenize"), QStringLiteral("--help")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(QString::fromUtf8(p.readAllStandardOutput()).contains(QStringLiteral("--no-special")));
    }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
