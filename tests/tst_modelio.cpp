// Model I/O: safetensors reading/writing (incl. a table of broken files that must fail cleanly),
// config.json parsing, checkpoint validation and make-model.
#include "qbtest.h"

#include "core/model/config.h"
#include "core/model/llama.h"
#include "core/model/make_model.h"
#include "core/model/safetensors.h"
#include "core/util/error.h"

#include <QProcess>
#include <QTemporaryDir>

#include <cstring>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Raw safetensors bytes: u64 LE header length, header, data.
QByteArray stBytes(const QByteArray& header, const QByteArray& data = {}, quint64 lenOverride = 0, bool useOverride = false)
{
    quint64 n = useOverride ? lenOverride : quint64(header.size());
    QByteArray out(8, '\0');
    std::memcpy(out.data(), &n, 8);
    return out + header + data;
}

void writeBytes(const fs::path& p, const QByteArray& b)
{
    qbtest::writeFile(p, std::string(b.constData(), size_t(b.size())));
}

// Runs f, expects qb::Error whose message contains every phrase; returns the message.
template <class F>
QString expectError(F&& f)
{
    try {
        f();
    } catch (const qb::Error& e) {
        return QString::fromStdString(e.what());
    } catch (const std::exception& e) {
        return QStringLiteral("WRONG EXCEPTION TYPE: ") + QString::fromStdString(e.what());
    }
    return QStringLiteral("NO EXCEPTION");
}

json tinyLlamaJson()
{
    return json{{"architectures", {"LlamaForCausalLM"}},
                {"model_type", "llama"},
                {"vocab_size", 512},
                {"hidden_size", 64},
                {"intermediate_size", 172},
                {"num_hidden_layers", 2},
                {"num_attention_heads", 8},
                {"num_key_value_heads", 4},
                {"max_position_embeddings", 512},
                {"rms_norm_eps", 1e-5},
                {"rope_theta", 10000.0},
                {"hidden_act", "silu"},
                {"tie_word_embeddings", false},
                {"bos_token_id", 1},
                {"eos_token_id", 2},
                {"torch_dtype", "float32"}};
}

// A checkpoint for `c` with every expected tensor (F32, zeros) except those filtered out.
void writeCheckpointFor(const qb::ModelConfig& c, const fs::path& dir, const std::string& drop = {},
                        const std::string& reshape = {}, const std::string& intType = {})
{
    std::vector<std::pair<std::string, at::Tensor>> ts;
    for (const auto& [name, shape] : qb::expectedTensors(c)) {
        if (name == drop)
            continue;
        auto s = shape;
        if (name == reshape)
            s[0] += 1;
        ts.push_back({name, at::zeros(s, name == intType ? at::kInt : at::kFloat)});
    }
    ts.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq", at::zeros({4})}); // ignored extra
    fs::create_directories(dir);
    qb::writeSafetensors(dir / "model.safetensors", ts);
}

} // namespace

class TestModelIO : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    fs::path dir() const { return fs::path(tmp_.path().toStdString()); }

private Q_SLOTS:
    void initTestCase() { QVERIFY(tmp_.isValid()); }

    // ---- safetensors ---------------------------------------------------------------------
    void roundTripAllDtypes()
    {
        torch::manual_seed(1);
        std::vector<std::pair<std::string, at::Tensor>> ts = {
            {"f32", at::randn({3, 5})},
            {"f16", at::randn({7}).to(at::kHalf)},
            {"bf16", at::randn({2, 3, 4}).to(at::kBFloat16)},
            {"f64", at::randn({2, 2}, at::kDouble)},
            {"i64", at::arange(-5, 5, at::kLong)},
            {"i32", at::arange(0, 9, at::kInt).reshape({3, 3})},
            {"i16", at::arange(-3, 3, at::kShort)},
            {"i8", at::arange(-128, 127, at::kChar)},
            {"u8", at::arange(0, 255).to(at::kByte)},
            {"bool", at::rand({5}) > 0.5},
            {"scalar", at::tensor(3.5f).reshape({})},
            {"empty", at::zeros({0, 4})},
            {"noncontig", at::randn({4, 6}).t()},
        };
        const fs::path p = dir() / "all.safetensors";
        qb::writeSafetensors(p, ts, {{"format", "pt"}, {"who", "tst_modelio"}});
        QVERIFY(!fs::exists(p.string() + ".tmp"));

        // Data area starts 8-byte aligned and the header keeps insertion order.
        std::string raw = qbtest::readFile(p);
        uint64_t hl = 0;
        std::memcpy(&hl, raw.data(), 8);
        QCOMPARE(hl % 8, uint64_t(0));
        std::string header = raw.substr(8, hl);
        QVERIFY(header.find("\"__metadata__\"") < header.find("\"f32\""));
        QVERIFY(header.find("\"f32\"") < header.find("\"noncontig\""));

        at::Tensor outlived;
        {
            qb::SafetensorsFile f(p);
            QCOMPARE(f.tensors().size(), ts.size());
            QCOMPARE(f.metadata().at("who"), std::string("tst_modelio"));
            for (const auto& [name, t] : ts) {
                at::Tensor v = f.view(name);
                QVERIFY2(v.scalar_type() == t.scalar_type(), name.c_str());
                QVERIFY2(v.sizes() == t.sizes(), name.c_str());
                QVERIFY2(at::equal(v, t.contiguous()), name.c_str());
            }
            QCOMPARE(f.find("bf16")->dtype, qb::StDType::BF16);
            QCOMPARE(f.find("f16")->dtype, qb::StDType::F16);
            QVERIFY(f.find("nope") == nullptr);
            outlived = f.view("f32");
        }
        // The view keeps the mapping alive after the file object is gone.
        QVERIFY(at::equal(outlived, ts[0].second));
        // Views are copy-on-write: writing into one changes neither the file nor a fresh view.
        outlived.fill_(7.0f);
        qb::Checkpoint ck(p);
        QVERIFY(at::equal(ck.view("f32"), ts[0].second));
    }

    void shardedRoundTrip()
    {
        const fs::path d = dir() / "sharded";
        fs::create_directories(d);
        auto a = at::randn({4, 4}), b = at::randn({8}).to(at::kBFloat16), c = at::arange(0, 6, at::kInt);
        qb::writeSafetensors(d / "model-00001-of-00002.safetensors", {{"a", a}, {"b", b}});
        qb::writeSafetensors(d / "model-00002-of-00002.safetensors", {{"c", c}});
        json idx = {{"metadata", {{"total_size", 100}}},
                    {"weight_map",
                     {{"a", "model-00001-of-00002.safetensors"},
                      {"b", "model-00001-of-00002.safetensors"},
                      {"c", "model-00002-of-00002.safetensors"}}}};
        qbtest::writeFile(d / "model.safetensors.index.json", idx.dump(2));
        qb::Checkpoint ck(d);
        QCOMPARE(ck.names(), (std::vector<std::string>{"a", "b", "c"}));
        QVERIFY(at::equal(ck.view("a"), a));
        QVERIFY(at::equal(ck.view("b"), b));
        QVERIFY(at::equal(ck.view("c"), c));
        QCOMPARE(ck.fileOf("c").filename().string(), std::string("model-00002-of-00002.safetensors"));
        QVERIFY(ck.totalBytes() > 0);
        QString msg = expectError([&] { ck.info("zzz"); });
        QVERIFY2(msg.contains(QLatin1String("zzz")), qPrintable(msg));
    }

    void brokenFile_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("tensor");
        QTest::addColumn<QString>("phrase");

        const QByteArray d16(16, '\0');
        auto entry = [](const char* dtype, const char* shape, const char* offsets) {
            return QByteArray("{\"w\":{\"dtype\":\"") + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" +
                   offsets + "}}";
        };
        QTest::newRow("empty file") << QByteArray() << QString() << "file too small";
        QTest::newRow("7 bytes") << QByteArray(7, '\1') << QString() << "file too small";
        QTest::newRow("header length past EOF") << stBytes("{}", {}, 1000, true) << QString() << "past end of file";
        QTest::newRow("header length 2^63") << stBytes("{}", {}, quint64(1) << 63, true) << QString() << "past end of file";
        {
            QByteArray big(8, '\0');
            quint64 n = 200ull * 1024 * 1024; // fits "in the file" only if the file were huge: use a sparse-looking claim
            std::memcpy(big.data(), &n, 8);
            QTest::newRow("header length > file") << big << QString() << "header length";
        }
        QTest::newRow("header not JSON") << stBytes("{not json") << QString() << "not valid JSON";
        QTest::newRow("header invalid UTF-8")
            << stBytes(QByteArray("{\"w\xff\xfe\":{}}")) << QString() << "not valid JSON";
        QTest::newRow("header JSON array") << stBytes("[1,2]") << QString() << "not a JSON object";
        QTest::newRow("header deeply nested")
            << stBytes(QByteArray(100000, '[') + QByteArray(100000, ']')) << QString() << "not a JSON object";
        QTest::newRow("header trailing garbage") << stBytes("{} x") << QString() << "not valid JSON";
        QTest::newRow("entry not object") << stBytes("{\"w\":3}") << "w" << "not an object";
        QTest::newRow("unknown dtype") << stBytes(entry("F7", "[4]", "[0,4]"), d16) << "w" << "unknown dtype 'F7'";
        QTest::newRow("dtype not string") << stBytes("{\"w\":{\"dtype\":1,\"shape\":[1],\"data_offsets\":[0,4]}}", d16)
                                          << "w" << "'dtype' is not a string";
        QTest::newRow("missing dtype") << stBytes("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", d16) << "w"
                                       << "missing key 'dtype'";
        QTest::newRow("missing shape") << stBytes("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", d16) << "w"
                                       << "missing key 'shape'";
        QTest::newRow("missing offsets") << stBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", d16) << "w"
                                         << "missing key 'data_offsets'";
        QTest::newRow("negative dim") << stBytes(entry("F32", "[-1,4]", "[0,16]"), d16) << "w" << "negative dimension";
        QTest::newRow("float dim") << stBytes(entry("F32", "[1.5]", "[0,4]"), d16) << "w" << "not an integer";
        QTest::newRow("shape overflow")
            << stBytes(entry("F32", "[4294967296,4294967296,16]", "[0,16]"), d16) << "w" << "overflows";
        QTest::newRow("shape bytes overflow")
            << stBytes(entry("F64", "[4611686018427387904]", "[0,16]"), d16) << "w" << "overflows";
        QTest::newRow("dim > int64") << stBytes(entry("F32", "[18446744073709551615]", "[0,16]"), d16) << "w"
                                     << "too large";
        QTest::newRow("offsets past data") << stBytes(entry("F32", "[8]", "[0,32]"), d16) << "w" << "past end of data";
        QTest::newRow("begin > end") << stBytes(entry("F32", "[1]", "[8,4]"), d16) << "w" << "begin 8 > end 4";
        QTest::newRow("offsets not pair") << stBytes(entry("F32", "[1]", "[0]"), d16) << "w" << "data_offsets";
        QTest::newRow("offsets negative") << stBytes(entry("F32", "[1]", "[-4,0]"), d16) << "w" << "data_offsets";
        QTest::newRow("length != numel*size") << stBytes(entry("F32", "[3]", "[0,16]"), d16) << "w" << "byte length 16";
        QTest::newRow("overlapping ranges")
            << stBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                       "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                       d16)
            << "w" << "overlaps tensor 'a'";
        QTest::newRow("metadata not object") << stBytes("{\"__metadata__\":[1]}") << QString() << "__metadata__";
        QTest::newRow("metadata value not string")
            << stBytes("{\"__metadata__\":{\"k\":1}}") << QString() << "__metadata__ key 'k'";
    }

    void brokenFile()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, tensor);
        QFETCH(QString, phrase);
        const fs::path p = dir() / "broken_file.safetensors";
        writeBytes(p, bytes);
        QString msg = expectError([&] { qb::SafetensorsFile f(p); });
        QVERIFY2(msg.contains(QLatin1String("broken_file.safetensors")), qPrintable(msg));
        QVERIFY2(msg.contains(phrase), qPrintable(msg));
        if (!tensor.isEmpty())
            QVERIFY2(msg.contains(QLatin1Char('\'') + tensor + QLatin1Char('\'')), qPrintable(msg));
    }

    // Random corruption of a valid header: every outcome must be a clean load or a qb::Error
    // naming the file (never another exception, a crash or a hang). Deterministic seed.
    void mutatedHeaders()
    {
        const fs::path good = dir() / "mut_src.safetensors";
        qb::writeSafetensors(good, {{"a", at::ones({3, 4})}, {"b", at::zeros({5}, at::kBFloat16)},
                                    {"c", at::arange(0, 7, at::kInt)}}, {{"k", "v"}});
        const std::string bytes = qbtest::readFile(good);
        uint64_t hl = 0;
        std::memcpy(&hl, bytes.data(), 8);
        const fs::path p = dir() / "mutated.safetensors";
        uint64_t rng = 12345;
        auto next = [&] { rng = rng * 6364136223846793005ull + 1442695040888963407ull; return rng >> 33; };
        int loaded = 0, refused = 0;
        for (int it = 0; it < 3000; ++it) {
            std::string m = bytes;
            const int flips = 1 + int(next() % 3);
            for (int f = 0; f < flips; ++f) {
                size_t pos = next() % (8 + hl); // the length field and the header
                m[pos] = (next() % 2) ? char(next() & 0xFF) : "0123456789[]{}\",:-e"[next() % 20];
            }
            if (next() % 10 == 0)
                m.resize(next() % m.size()); // truncation
            qbtest::writeFile(p, m);
            try {
                qb::SafetensorsFile f(p);
                for (const auto& t : f.tensors())
                    (void)f.view(t.name).sum();
                ++loaded;
            } catch (const qb::Error& e) {
                QVERIFY2(std::string(e.what()).find("mutated.safetensors") != std::string::npos, e.what());
                ++refused;
            }
        }
        QVERIFY(refused > 0);
        qDebug("mutated headers: %d loaded, %d refused", loaded, refused);
    }

    void brokenIndex_data()
    {
        QTest::addColumn<QString>("weightMap"); // JSON
        QTest::addColumn<QString>("file");      // file the message must name
        QTest::addColumn<QString>("phrase");
        QTest::newRow("missing shard") << R"({"a":"gone.safetensors"})" << "model.safetensors.index.json"
                                       << "'gone.safetensors' does not exist";
        QTest::newRow("tensor not in shard") << R"({"a":"s1.safetensors","zz":"s1.safetensors"})" << "s1.safetensors"
                                             << "'zz'";
        QTest::newRow("path escape") << R"({"a":"../s1.safetensors"})" << "model.safetensors.index.json"
                                     << "plain file name";
        QTest::newRow("no weight_map") << QString() << "model.safetensors.index.json" << "weight_map";
    }

    void brokenIndex()
    {
        QFETCH(QString, weightMap);
        QFETCH(QString, file);
        QFETCH(QString, phrase);
        const fs::path d = dir() / ("idx_" + std::string(QTest::currentDataTag()));
        fs::create_directories(d);
        qb::writeSafetensors(d / "s1.safetensors", {{"a", at::ones({2})}});
        std::string idx = weightMap.isEmpty() ? std::string("{}")
                                              : "{\"weight_map\":" + weightMap.toStdString() + "}";
        qbtest::writeFile(d / "model.safetensors.index.json", idx);
        QString msg = expectError([&] { qb::Checkpoint ck(d); });
        QVERIFY2(msg.contains(file), qPrintable(msg));
        QVERIFY2(msg.contains(phrase), qPrintable(msg));
    }

    void headerOverLimit()
    {
        // A header length that fits in the (sparse) file but exceeds the 100 MB cap.
        const fs::path p = dir() / "huge_header.safetensors";
        const quint64 n = 150ull * 1024 * 1024;
        writeBytes(p, stBytes("{}", {}, n, true));
        fs::resize_file(p, n + 8);
        QString msg = expectError([&] { qb::SafetensorsFile f(p); });
        QVERIFY2(msg.contains(QLatin1String("huge_header.safetensors")) && msg.contains(QLatin1String("100 MB")),
                 qPrintable(msg));
        fs::remove(p);
    }

    void fp8Dtype()
    {
        const fs::path p = dir() / "fp8.safetensors";
        writeBytes(p, stBytes("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", QByteArray(4, '\x38')));
        qb::SafetensorsFile f(p); // the header itself is fine
        QCOMPARE(f.find("w")->dtype, qb::StDType::F8_E4M3);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
        QCOMPARE(f.view("w").to(at::kFloat)[0].item<float>(), 1.0f); // 0x38 = 1.0 in E4M3
#else
        QString msg = expectError([&] { f.view("w"); });
        QVERIFY2(msg.contains(QLatin1String("F8_E4M3 needs libtorch >= 2.1")), qPrintable(msg));
        QVERIFY2(msg.contains(QLatin1String("fp8.safetensors")) && msg.contains(QLatin1String("'w'")), qPrintable(msg));
#endif
    }

    // ---- config.json ---------------------------------------------------------------------
    void configParses_data()
    {
        QTest::addColumn<QString>("config");
        QTest::addColumn<QString>("modelType");
        QTest::addColumn<int>("headDim");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<bool>("bias");
        QTest::addColumn<bool>("qkNorm");
        QTest::addColumn<bool>("tied");
        QTest::addColumn<QString>("rope");

        json llama = tinyLlamaJson();
        QTest::newRow("llama") << QString::fromStdString(llama.dump()) << "llama" << 8 << 4 << false << false << false
                               << "none";
        json llama3 = llama;
        llama3["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 32.0}, {"low_freq_factor", 1.0},
                                  {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
        llama3["head_dim"] = 16;
        llama3["tie_word_embeddings"] = true;
        llama3["attention_bias"] = true;
        llama3["eos_token_id"] = {128001, 128008, 128009};
        QTest::newRow("llama3 rope, explicit head_dim") << QString::fromStdString(llama3.dump()) << "llama" << 16 << 4
                                                        << true << false << true << "llama3";
        json linear = llama;
        linear["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
        linear.erase("num_key_value_heads");
        QTest::newRow("linear rope, kv default") << QString::fromStdString(linear.dump()) << "llama" << 8 << 8 << false
                                                 << false << false << "linear";
        json dflt = llama;
        dflt["rope_scaling"] = {{"rope_type", "default"}};
        QTest::newRow("default rope") << QString::fromStdString(dflt.dump()) << "llama" << 8 << 4 << false << false
                                      << false << "none";
        json mistral = llama;
        mistral["architectures"] = {"MistralForCausalLM"};
        mistral["model_type"] = "mistral";
        mistral["sliding_window"] = 4096;
        QTest::newRow("mistral") << QString::fromStdString(mistral.dump()) << "mistral" << 8 << 4 << false << false
                                 << false << "none";
        json qwen2 = llama;
        qwen2["architectures"] = {"Qwen2ForCausalLM"};
        qwen2["model_type"] = "qwen2";
        qwen2["use_sliding_window"] = false;
        qwen2["sliding_window"] = 32768;
        qwen2["tie_word_embeddings"] = true;
        QTest::newRow("qwen2") << QString::fromStdString(qwen2.dump()) << "qwen2" << 8 << 4 << true << false << true
                               << "none";
        json qwen3 = llama;
        qwen3["architectures"] = {"Qwen3ForCausalLM"};
        qwen3["model_type"] = "qwen3";
        qwen3["head_dim"] = 32; // != 64 / 8, as in real Qwen3
        qwen3.erase("torch_dtype");
        qwen3["dtype"] = "bfloat16";
        QTest::newRow("qwen3") << QString::fromStdString(qwen3.dump()) << "qwen3" << 32 << 4 << false << true << false
                               << "none";
    }

    void configParses()
    {
        QFETCH(QString, config);
        QFETCH(QString, modelType);
        QFETCH(int, headDim);
        QFETCH(int, kvHeads);
        QFETCH(bool, bias);
        QFETCH(bool, qkNorm);
        QFETCH(bool, tied);
        QFETCH(QString, rope);
        const fs::path p = dir() / "config_ok.json";
        qbtest::writeFile(p, config.toStdString());
        qb::ModelConfig c = qb::loadConfig(p);
        QCOMPARE(QString::fromStdString(c.model_type), modelType);
        QCOMPARE(c.head_dim, int64_t(headDim));
        QCOMPARE(c.num_key_value_heads, int64_t(kvHeads));
        QCOMPARE(c.attention_bias, bias);
        QCOMPARE(c.qk_norm, qkNorm);
        QCOMPARE(c.tie_word_embeddings, tied);
        QCOMPARE(QString::fromStdString(c.rope_scaling.type), rope);
        QCOMPARE(c.hidden_size, int64_t(64));
        QCOMPARE(c.rms_norm_eps, 1e-5);
        if (modelType == QLatin1String("mistral"))
            QCOMPARE(c.sliding_window, int64_t(4096));
        if (modelType == QLatin1String("qwen3"))
            QCOMPARE(c.torch_dtype, std::string("bfloat16"));
        if (rope == QLatin1String("llama3")) {
            QCOMPARE(c.rope_scaling.factor, 32.0);
            QCOMPARE(c.rope_scaling.original_max_position_embeddings, int64_t(8192));
            QCOMPARE(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
        }

        // toJson round trip: parsing what we write gives the same config.
        qb::ModelConfig c2 = qb::ModelConfig::fromJson(c.toJson(), "roundtrip");
        QCOMPARE(c2.toJson().dump(), c.toJson().dump());
        QCOMPARE(c2.parameterCount(), c.parameterCount());
    }

    void configDefaults()
    {
        json j = tinyLlamaJson();
        for (const char* k : {"num_key_value_heads", "rms_norm_eps", "rope_theta", "hidden_act", "tie_word_embeddings",
                              "bos_token_id", "eos_token_id", "torch_dtype", "max_position_embeddings"})
            j.erase(k);
        qb::ModelConfig c = qb::ModelConfig::fromJson(j, "defaults.json");
        QCOMPARE(c.num_key_value_heads, c.num_attention_heads);
        QCOMPARE(c.rope_theta, 10000.0);
        QCOMPARE(c.tie_word_embeddings, false);
        QCOMPARE(c.bos_token_id, int64_t(-1));
        QVERIFY(c.eos_token_ids.empty());
        QCOMPARE(c.head_dim, int64_t(8));
        QCOMPARE(c.rope_scaling.type, std::string("none"));
        QCOMPARE(c.sliding_window, int64_t(0));
    }

    void configErrors_data()
    {
        QTest::addColumn<QString>("config");
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("phrase");
        auto with = [](const char* k, json v) {
            json j = tinyLlamaJson();
            if (v.is_discarded())
                j.erase(k);
            else
                j[k] = v;
            return QString::fromStdString(j.dump());
        };
        const json erase = json(json::value_t::discarded);
        QTest::newRow("malformed JSON") << "{\"hidden_size\": 64," << QString() << "not valid JSON";
        QTest::newRow("number out of range") << "{\"hidden_size\": 1e999}" << QString() << "not valid JSON";
        QTest::newRow("array") << "[]" << QString() << "not a JSON object";
        QTest::newRow("unsupported architecture") << with("architectures", {"GPT2LMHeadModel"}) << "architectures"
                                                  << "unsupported architecture 'GPT2LMHeadModel'";
        QTest::newRow("hidden_size string") << with("hidden_size", "64") << "hidden_size" << "expected an integer";
        QTest::newRow("hidden_size missing") << with("hidden_size", erase) << "hidden_size" << "missing";
        QTest::newRow("layers zero") << with("num_hidden_layers", 0) << "num_hidden_layers" << "must be positive";
        QTest::newRow("kv heads not dividing") << with("num_key_value_heads", 3) << "num_key_value_heads"
                                               << "does not divide";
        QTest::newRow("hidden not divisible") << with("num_attention_heads", 12) << "hidden_size" << "not divisible";
        QTest::newRow("yarn") << with("rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}})
                              << "rope_scaling.rope_type" << "'yarn' is not supported";
        QTest::newRow("dynamic via type") << with("rope_scaling", {{"type", "dynamic"}, {"factor", 2.0}})
                                          << "rope_scaling.rope_type" << "'dynamic'";
        QTest::newRow("llama3 missing key") << with("rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}})
                                            << "rope_scaling.low_freq_factor" << "missing";
        QTest::newRow("gelu") << with("hidden_act", "gelu") << "hidden_act" << "'gelu'";
        QTest::newRow("mlp_bias") << with("mlp_bias", true) << "mlp_bias" << "not supported";
        QTest::newRow("tie wrong type") << with("tie_word_embeddings", "yes") << "tie_word_embeddings" << "true or false";
        QTest::newRow("eps string") << with("rms_norm_eps", "1e-5") << "rms_norm_eps" << "expected a number";
        QTest::newRow("eos list of strings") << with("eos_token_id", {"a"}) << "eos_token_id" << "expected an integer";
        QTest::newRow("quantized") << with("quantization_config", {{"quant_method", "gptq"}}) << "quantization_config"
                                   << "not supported";
        json qwen2 = tinyLlamaJson();
        qwen2["architectures"] = {"Qwen2ForCausalLM"};
        qwen2["use_sliding_window"] = true;
        qwen2["sliding_window"] = 4096;
        QTest::newRow("qwen2 sliding window") << QString::fromStdString(qwen2.dump()) << "use_sliding_window"
                                              << "not supported";
    }

    void configErrors()
    {
        QFETCH(QString, config);
        QFETCH(QString, key);
        QFETCH(QString, phrase);
        const fs::path p = dir() / "config_bad.json";
        qbtest::writeFile(p, config.toStdString());
        QString msg = expectError([&] { qb::loadConfig(p); });
        QVERIFY2(msg.contains(QLatin1String("config_bad.json")), qPrintable(msg));
        if (!key.isEmpty())
            QVERIFY2(msg.contains(QLatin1Char('\'') + key + QLatin1Char('\'')), qPrintable(msg));
        QVERIFY2(msg.contains(phrase), qPrintable(msg));
    }

    void loadConfigMissingFile()
    {
        QString msg = expectError([&] { qb::loadConfig(dir() / "nope" / "config.json"); });
        QVERIFY2(msg.contains(QLatin1String("nope/config.json")), qPrintable(msg));
    }

    // ---- validateCheckpoint ----------------------------------------------------------------
    void validateCheckpoint_data()
    {
        QTest::addColumn<QString>("drop");
        QTest::addColumn<QString>("reshape");
        QTest::addColumn<QString>("intType");
        QTest::addColumn<QString>("phrase");
        QTest::newRow("ok") << QString() << QString() << QString() << QString();
        QTest::newRow("missing") << "model.layers.1.mlp.down_proj.weight" << QString() << QString() << "missing";
        QTest::newRow("missing lm_head") << "lm_head.weight" << QString() << QString() << "missing";
        QTest::newRow("wrong shape") << QString() << "model.layers.1.mlp.up_proj.weight" << QString()
                                     << "shape [173, 64] but config implies [172, 64]";
        QTest::newRow("wrong dtype") << QString() << QString() << "model.norm.weight" << "dtype I32 is not a float type";
    }

    void validateCheckpoint()
    {
        QFETCH(QString, drop);
        QFETCH(QString, reshape);
        QFETCH(QString, intType);
        QFETCH(QString, phrase);
        qb::ModelConfig c = qb::ModelConfig::fromJson(tinyLlamaJson(), "tiny");
        const fs::path d = dir() / ("val_" + std::string(QTest::currentDataTag()));
        writeCheckpointFor(c, d, drop.toStdString(), reshape.toStdString(), intType.toStdString());
        qb::Checkpoint ck(d);
        if (phrase.isEmpty()) {
            qb::validateCheckpoint(c, ck, d.string());
            return;
        }
        QString msg = expectError([&] { qb::validateCheckpoint(c, ck, d.string()); });
        const QString tensor = drop + reshape + intType;
        QVERIFY2(msg.contains(QLatin1Char('\'') + tensor + QLatin1Char('\'')), qPrintable(msg));
        QVERIFY2(msg.contains(phrase), qPrintable(msg));
        QVERIFY2(msg.contains(QString::fromStdString(d.string())), qPrintable(msg));
    }

    void expectedTensorsCount()
    {
        qb::ModelConfig c = qb::ModelConfig::fromJson(tinyLlamaJson(), "tiny");
        // embed + 2 x (2 norms + 4 attn + 3 mlp) + norm + lm_head
        QCOMPARE(qb::expectedTensors(c).size(), size_t(1 + 2 * 9 + 1 + 1));
        // 512*64*2 + 2*(2*64 + 64*64*2 + 32*64*2 + 3*172*64) + 64
        QCOMPARE(c.parameterCount(), int64_t(512 * 64 * 2 + 2 * (2 * 64 + 64 * 64 * 2 + 32 * 64 * 2 + 3 * 172 * 64) + 64));
    }

    // ---- make-model ------------------------------------------------------------------------
    void presetParameterCounts_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<qlonglong>("params");
        // Published sizes of the real models.
        QTest::newRow("qwen2.5-0.5b") << "qwen2.5-0.5b" << 494032768LL;
        QTest::newRow("qwen3-0.6b") << "qwen3-0.6b" << 596049920LL;
        QTest::newRow("llama-3.2-1b") << "llama-3.2-1b" << 1235814400LL;
    }

    void presetParameterCounts()
    {
        QFETCH(QString, name);
        QFETCH(qlonglong, params);
        qb::ModelConfig c = qb::presetConfig(name.toStdString());
        QCOMPARE(qlonglong(c.parameterCount()), params);
        // The config we would write parses back to the same thing.
        QCOMPARE(qb::ModelConfig::fromJson(c.toJson(), "preset").toJson().dump(), c.toJson().dump());
    }

    void makeTinyModels_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto& n : qb::presetNames())
            if (n.rfind("tiny-", 0) == 0)
                QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }

    void makeTinyModels()
    {
        QFETCH(QString, name);
        const fs::path d = dir() / ("make_" + name.toStdString());
        qb::MakeModelOptions o;
        o.like = name.toStdString();
        o.out = d / "a";
        o.seed = 7;
        qb::MakeModelResult r = qb::makeModel(o);
        QCOMPARE(r.parameters, r.config.parameterCount());
        QVERIFY(r.bytes > uint64_t(r.parameters) * 2);

        qb::ModelConfig c = qb::loadConfig(o.out / "config.json");
        QCOMPARE(c.toJson().dump(), r.config.toJson().dump());
        QCOMPARE(c.hidden_size, int64_t(64));
        QCOMPARE(c.num_hidden_layers, int64_t(2));
        qb::Checkpoint ck(o.out);
        qb::validateCheckpoint(c, ck, o.out.string());
        QCOMPARE(ck.names().size(), qb::expectedTensors(c).size());

        // Weights look like an initialised model: linears ~N(0, 0.02), norms ~1.
        at::Tensor w = ck.view("model.layers.0.mlp.up_proj.weight").to(at::kFloat);
        QVERIFY(std::abs(w.mean().item<double>()) < 0.002);
        QVERIFY(std::abs(w.std().item<double>() - 0.02) < 0.002);
        at::Tensor nw = ck.view("model.norm.weight").to(at::kFloat);
        QVERIFY(std::abs(nw.mean().item<double>() - 1.0) < 0.02);
        QCOMPARE(ck.info("model.embed_tokens.weight").dtype, qb::StDType::BF16);

        // Deterministic by seed; a different seed gives different weights.
        o.out = d / "b";
        qb::makeModel(o);
        QVERIFY(qbtest::readFile(d / "a" / "model.safetensors") == qbtest::readFile(d / "b" / "model.safetensors"));
        o.out = d / "c";
        o.seed = 8;
        qb::makeModel(o);
        QVERIFY(qbtest::readFile(d / "a" / "model.safetensors") != qbtest::readFile(d / "c" / "model.safetensors"));
    }

    void makeModelOptions()
    {
        qb::MakeModelOptions o;
        o.like = "tiny-llama3";
        o.out = dir() / "make_opts";
        o.layers = 3;
        o.dtype = "f32";
        qb::MakeModelResult r = qb::makeModel(o);
        qb::ModelConfig c = qb::loadConfig(o.out / "config.json");
        QCOMPARE(c.num_hidden_layers, int64_t(3));
        QCOMPARE(c.torch_dtype, std::string("float32"));
        QCOMPARE(c.rope_scaling.type, std::string("llama3"));
        qb::Checkpoint ck(o.out);
        qb::validateCheckpoint(c, ck, o.out.string());
        QCOMPARE(ck.info("model.layers.2.self_attn.q_proj.weight").dtype, qb::StDType::F32);
        // Per-tensor streams: the first layers of a 3-layer model equal those of a 2-layer one.
        qb::MakeModelOptions o2 = o;
        o2.layers = 2;
        o2.out = dir() / "make_opts2";
        qb::makeModel(o2);
        qb::Checkpoint ck2(o2.out);
        QVERIFY(at::equal(ck.view("model.layers.1.mlp.down_proj.weight"), ck2.view("model.layers.1.mlp.down_proj.weight")));

        QString msg = expectError([&] { o.like = "gpt-5"; qb::makeModel(o); });
        QVERIFY2(msg.contains(QLatin1String("gpt-5")) && msg.contains(QLatin1String("tiny-qwen3")), qPrintable(msg));
        o.like = "tiny-qwen3";
        o.dtype = "int4";
        msg = expectError([&] { qb::makeModel(o); });
        QVERIFY2(msg.contains(QLatin1String("int4")), qPrintable(msg));
    }

    // Issue 11: a tied-embedding model saved with the embedding only, with lm_head only (older
    // transformers versions), with both, in F16, and sharded with an index carrying extra metadata
    // keys: all load and give the same logits.
    void tiedEmbeddingLayouts()
    {
        qb::MakeModelOptions o;
        o.like = "tiny-qwen2.5"; // tied
        o.out = dir() / "tied" / "embed_only";
        o.seed = 11;
        o.dtype = "f32";
        qb::makeModel(o);
        qb::ModelConfig c = qb::loadConfig(o.out / "config.json");
        QVERIFY(c.tie_word_embeddings);
        std::vector<std::pair<std::string, at::Tensor>> ts;
        {
            qb::Checkpoint ck(o.out);
            QVERIFY(ck.has("model.embed_tokens.weight") && !ck.has("lm_head.weight"));
            for (const auto& n : ck.names())
                ts.push_back({n, ck.view(n).clone()});
        }
        auto layout = [&](const std::string& name, const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& edit,
                          bool sharded = false) {
            const fs::path d = dir() / "tied" / name;
            fs::create_directories(d);
            fs::copy_file(o.out / "config.json", d / "config.json", fs::copy_options::overwrite_existing);
            auto t = ts;
            edit(t);
            if (!sharded) {
                qb::writeSafetensors(d / "model.safetensors", t);
                return d;
            }
            const size_t half = t.size() / 2;
            std::vector<std::pair<std::string, at::Tensor>> a(t.begin(), t.begin() + long(half)), b(t.begin() + long(half), t.end());
            qb::writeSafetensors(d / "model-00001-of-00002.safetensors", a);
            qb::writeSafetensors(d / "model-00002-of-00002.safetensors", b);
            json idx = {{"metadata", {{"total_size", 123456}, {"format", "pt"}, {"nested", {{"x", 1}}}}},
                        {"weight_map", json::object()}};
            for (const auto& [n, _] : a)
                idx["weight_map"][n] = "model-00001-of-00002.safetensors";
            for (const auto& [n, _] : b)
                idx["weight_map"][n] = "model-00002-of-00002.safetensors";
            qbtest::writeFile(d / "model.safetensors.index.json", idx.dump(1));
            return d;
        };
        auto rename = [](std::vector<std::pair<std::string, at::Tensor>>& t) {
            for (auto& [n, _] : t)
                if (n == "model.embed_tokens.weight")
                    n = "lm_head.weight";
        };
        auto addHead = [](std::vector<std::pair<std::string, at::Tensor>>& t) {
            for (size_t i = 0; i < t.size(); ++i)
                if (t[i].first == "model.embed_tokens.weight") {
                    t.push_back({"lm_head.weight", t[i].second.clone()});
                    break;
                }
        };
        auto toF16 = [](std::vector<std::pair<std::string, at::Tensor>>& t) {
            for (auto& [_, x] : t)
                x = x.to(at::kHalf);
        };
        const at::Tensor ids = at::arange(3, 40, at::kLong).unsqueeze(0);
        auto logitsOf = [&](const fs::path& d) {
            auto m = qb::LlamaModel::load(d, at::kFloat, torch::kCPU);
            return m->forward(ids).to(at::kFloat);
        };
        const at::Tensor ref = logitsOf(o.out);
        QVERIFY(ref.abs().max().item<float>() > 0);
        const fs::path headOnly = layout("head_only", rename);
        QVERIFY(at::equal(logitsOf(headOnly), ref));
        QVERIFY(at::equal(logitsOf(layout("both", addHead)), ref));
        QVERIFY(at::equal(logitsOf(layout("sharded_head_only", rename, true)), ref));
        // F16 on disk: the weights are rounded to F16, so the logits are close, not equal.
        const at::Tensor f16 = logitsOf(layout("f16_head_only", [&](auto& t) { rename(t); toF16(t); }));
        const double rel = ((f16 - ref).norm() / ref.norm()).item<double>();
        QVERIFY2(rel < 2e-3, qPrintable(QString::number(rel)));

        // Untied config with only lm_head.weight: the embedding is missing, named as such.
        json cfg = json::parse(qbtest::readFile(headOnly / "config.json"));
        cfg["tie_word_embeddings"] = false;
        qbtest::writeFile(headOnly / "config.json", cfg.dump());
        QString msg = expectError([&] { qb::LlamaModel::load(headOnly, at::kFloat, torch::kCPU); });
        QVERIFY2(msg.contains(QLatin1String("model.embed_tokens.weight")) && msg.contains(QLatin1String("missing")), qPrintable(msg));
        // Tied, with neither: the message says that lm_head.weight would also do.
        const fs::path none = layout("neither", [](auto& t) {
            t.erase(std::remove_if(t.begin(), t.end(), [](const auto& p) { return p.first == "model.embed_tokens.weight"; }), t.end());
        });
        msg = expectError([&] { qb::LlamaModel::load(none, at::kFloat, torch::kCPU); });
        QVERIFY2(msg.contains(QLatin1String("lm_head.weight")) && msg.contains(QLatin1String("tie_word_embeddings")), qPrintable(msg));
    }

    void cliMakeModelAndInfo()
    {
        const QString out = QString::fromStdString((dir() / "cli_model").string());
        const QString tok = QString::fromStdString((qbtest::sharedData() / "tokenizers/qwen3").string());
        QStringList args = {QStringLiteral("make-model"), QStringLiteral("--like"), QStringLiteral("tiny-qwen2.5"),
                            QStringLiteral("--out"), out, QStringLiteral("--seed"), QStringLiteral("3"),
                            QStringLiteral("--json")};
        const bool withTok = fs::exists(qbtest::sharedData() / "tokenizers/qwen3/tokenizer.json");
        if (withTok)
            args << QStringLiteral("--tokenizer") << tok;
        QProcess p;
        p.start(QString::fromStdString(qbtest::cliPath()), args);
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        json j = json::parse(p.readAllStandardOutput().toStdString());
        QCOMPARE(j["parameters"].get<int64_t>(), qb::presetConfig("tiny-qwen2.5").parameterCount());
        QVERIFY(j["bytes"].get<uint64_t>() > 0);
        if (withTok)
            QVERIFY(fs::exists(dir() / "cli_model" / "tokenizer.json"));

        p.start(QString::fromStdString(qbtest::cliPath()),
                {QStringLiteral("info"), QStringLiteral("--model"), out, QStringLiteral("--json")});
        QVERIFY(p.waitForFinished(60000));
        if (!withTok) {
            // A model folder without tokenizer.json is not usable: info says so (issue 15).
            QCOMPARE(p.exitCode(), 1);
            j = json::parse(p.readAllStandardOutput().toStdString());
            QCOMPARE(j["model"]["valid"].get<bool>(), false);
            QVERIFY(j["model"]["validation_error"].get<std::string>().find("tokenizer.json") != std::string::npos);
            return;
        }
        QCOMPARE(p.exitCode(), 0);
        j = json::parse(p.readAllStandardOutput().toStdString());
        QCOMPARE(j["model"]["architecture"].get<std::string>(), std::string("Qwen2ForCausalLM"));
        QCOMPARE(j["model"]["valid"].get<bool>(), true);
        QCOMPARE(j["model"]["kv_heads"].get<int>(), 2);

        // A checkpoint that does not match its config: info says so and exits 1.
        json cfg = json::parse(qbtest::readFile(dir() / "cli_model" / "config.json"));
        cfg["intermediate_size"] = 100;
        qbtest::writeFile(dir() / "cli_model" / "config.json", cfg.dump());
        p.start(QString::fromStdString(qbtest::cliPath()),
                {QStringLiteral("info"), QStringLiteral("--model"), out, QStringLiteral("--json")});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        j = json::parse(p.readAllStandardOutput().toStdString());
        QCOMPARE(j["model"]["valid"].get<bool>(), false);
        QVERIFY(j["model"]["validation_error"].get<std::string>().find("mlp.gate_proj.weight") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestModelIO)
#include "tst_modelio.moc"
