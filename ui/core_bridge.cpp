// Interim bridge: until core's sweep runner, result store and report land on main, this file
// holds the simulated runner, the result loader and a report writer with the same contracts.
// Swapping to core means replacing function bodies here, nothing else in ui/.
#include "ui/core_bridge.h"

#include "core/model/config.h"
#ifdef QB_HAVE_CORE_RUNNER
#include "ui/core_runner.h"
#endif
#include "core/util/build_info.h"
#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace qb::ui {

// ---------------------------------------------------------------- ConfigResult JSON
static nlohmann::json num(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }
static double toNum(const nlohmann::json& j)
{
    return j.is_number() ? j.get<double>() : std::nan("");
}

nlohmann::json ConfigResult::toJson() const
{
    nlohmann::json j;
    j["config"] = config;
    j["scheme"] = scheme.toJson();
    j["status"] = status;
    if (!error.empty())
        j["error"] = error;
    j["seconds"] = seconds;
    nlohmann::json m = nlohmann::json::object();
    for (const auto& [k, v] : metrics)
        m[k] = {{"value", num(v.value)}, {"stderr", num(v.stderr_)}, {"n", v.n}};
    j["metrics"] = m;
    if (!records.empty())
        j["records"] = records;
    return j;
}

ConfigResult ConfigResult::fromJson(const nlohmann::json& j, const std::string& where)
{
    if (!j.is_object() || !j.contains("config") || !j["config"].is_string())
        qb::fail(where, "result entry without a 'config' name");
    ConfigResult r;
    r.config = j["config"].get<std::string>();
    try {
        r.scheme = j.contains("scheme") ? qb::QuantScheme::fromJson(j["scheme"], where)
                                        : qb::QuantScheme::parse(r.config);
        r.status = j.value("status", std::string("ok"));
        r.error = j.value("error", std::string());
        r.seconds = j.contains("seconds") ? toNum(j["seconds"]) : 0.0;
        if (j.contains("records") && j["records"].is_array())
            r.records = j["records"].get<std::vector<nlohmann::json>>();
        if (j.contains("metrics") && j["metrics"].is_object())
            for (const auto& [k, v] : j["metrics"].items()) {
                Metric m;
                if (v.is_number()) {
                    m.value = v.get<double>();
                } else if (v.is_object()) {
                    m.value = v.contains("value") ? toNum(v["value"]) : std::nan("");
                    m.stderr_ = v.contains("stderr") ? toNum(v["stderr"]) : std::nan("");
                    m.n = v.value("n", 0LL);
                }
                r.metrics[k] = m;
            }
    } catch (const nlohmann::json::exception& e) {
        qb::fail(where, "malformed result '" + r.config + "': " + e.what());
    }
    return r;
}

// ---------------------------------------------------------------- simulated runner
namespace {

class SimulatedRunner : public SweepRunner {
public:
    SimulatedRunner(int ms, std::vector<std::string> fail) : ms_(ms), fail_(std::move(fail)) {}
    std::string name() const override { return "simulated"; }

    void run(const SweepSetup& setup, const std::vector<std::string>& done, const RunnerCallbacks& cb,
             const std::atomic<bool>& cancel) override
    {
        auto configs = setup.configs();
        int total = int(configs.size());
        for (int i = 0; i < total; ++i) {
            const auto& s = configs[size_t(i)];
            if (std::find(done.begin(), done.end(), s.name()) != done.end())
                continue;
            if (cancel.load())
                return;
            if (cb.configStarted)
                cb.configStarted(i, total, s.name());
            auto t0 = std::chrono::steady_clock::now();
            int slices = std::max(1, ms_ / 10);
            for (int k = 0; k < slices; ++k) {
                if (cancel.load()) {
                    if (cb.log)
                        cb.log("cancelled during " + s.name());
                    return;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                if (cb.configProgress && k % 5 == 0)
                    cb.configProgress(i, double(k + 1) / slices);
            }
            ConfigResult r = simulate(s, setup.evals);
            r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (std::find(fail_.begin(), fail_.end(), s.name()) != fail_.end()) {
                r.status = "failed";
                r.error = "simulated failure";
                r.metrics.clear();
            }
            if (cb.configProgress)
                cb.configProgress(i, 1.0);
            if (cb.configFinished)
                cb.configFinished(r);
        }
    }

private:
    int ms_;
    std::vector<std::string> fail_;

    static ConfigResult simulate(const qb::QuantScheme& s, const EvalSettings& e)
    {
        // Coarser granularity -> larger error; FP8 a little worse than INT8 on weights.
        double err = 0;
        if (!s.isBaseline()) {
            err = s.granularity == qb::Granularity::PerTensor ? 0.08
                  : s.granularity == qb::Granularity::PerRow  ? 0.03
                                                              : 0.01 + 0.02 * s.group_size / 512.0;
            if (s.dtype == qb::QDType::FP8_E4M3)
                err *= 1.4;
            if (s.smoothing == qb::Smoothing::SmoothQuant)
                err = 0.035;
        }
        ConfigResult r;
        r.config = s.name();
        r.scheme = s;
        if (e.ppl)
            r.metrics[metric::PPL] = {8.0 * (1 + err), 0.05, 4096};
        if (e.mmlu_direct)
            r.metrics[metric::MmluDirect] = {0.30 - err * 0.5, 0.02, e.mmlu_limit};
        if (e.mmlu_generate)
            r.metrics[metric::MmluGenerate] = {0.28 - err * 0.5, 0.02, e.mmlu_limit};
        if (e.throughput) {
            bool real = !s.isBaseline() && s.mode == qb::QuantMode::Real;
            r.metrics[metric::PrefillSps] = {120.0 * (real ? 0.8 : 1.0), 2.0, 5};
            r.metrics[metric::DecodeTps] = {900.0 * (real ? 1.2 : 1.0), 10.0, 5};
        }
        if (e.matmul && !s.isBaseline())
            r.metrics[metric::SqnrDb] = {20.0 * std::log10(1.0 / err), std::nan(""), 35};
        return r;
    }
};

} // namespace

std::unique_ptr<SweepRunner> makeSimulatedRunner(int msPerConfig, std::vector<std::string> failConfigs)
{
    return std::make_unique<SimulatedRunner>(msPerConfig, std::move(failConfigs));
}

std::unique_ptr<SweepRunner> makeDefaultRunner()
{
#ifdef QB_HAVE_CORE_RUNNER
    return makeCoreRunner();
#else
    // The core runner is not in this build: simulate, and say so in the log (name()).
    return makeSimulatedRunner(150);
#endif
}

// ---------------------------------------------------------------- loading
namespace {

// First numeric value under any of `keys`, searched depth-first.
double findNumber(const nlohmann::json& j, const std::vector<std::string>& keys)
{
    if (!j.is_object())
        return std::nan("");
    for (const auto& k : keys)
        if (j.contains(k) && j[k].is_number())
            return j[k].get<double>();
    for (const auto& [k, v] : j.items())
        if (v.is_object()) {
            double d = findNumber(v, keys);
            if (!std::isnan(d))
                return d;
        }
    return std::nan("");
}

ConfigResult fromReportName(const std::string& config, const std::string& source)
{
    ConfigResult r;
    r.config = config;
    r.scheme = qb::QuantScheme::parse(config); // throws naming the part that is wrong
    r.source = source;
    return r;
}

void mergeInto(std::vector<ConfigResult>& out, ConfigResult r)
{
    for (auto& o : out)
        if (o.config == r.config && o.source == r.source) {
            for (auto& [k, v] : r.metrics)
                o.metrics[k] = v;
            return;
        }
    out.push_back(std::move(r));
}

// Report-style results are one metric per file: those of one folder merge per config, with the
// folder as their source; this app's results files keep the file as source.
void loadFile(const fs::path& p, LoadOutcome& out, const std::string& reportSource)
{
    const std::string file = p.string();
    const std::string base = p.filename().string();
    std::ifstream in(p);
    if (!in) {
        out.messages.push_back(file + ": cannot open the file");
        return;
    }
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        out.messages.push_back(file + ": not valid JSON (" + std::string(e.what()) + ")");
        return;
    }
    static const std::regex pplRe(R"(task_\d+_ppl_(.+)\.json)");
    static const std::regex mmluRe(R"(task_\d+_mmlu_(.+)_(direct|generate)\.json)");
    static const std::regex thrRe(R"(task_\d+_throughput.*\.json)");
    std::smatch m;
    try {
        if (j.is_object() && j.contains("quantbench_results")) {
            if (!j.contains("results") || !j["results"].is_array())
                qb::fail(file, "'results' must be a list");
            for (const auto& e : j["results"]) {
                auto r = ConfigResult::fromJson(e, file);
                r.source = file;
                out.results.push_back(std::move(r));
            }
        } else if (std::regex_match(base, m, pplRe)) {
            auto r = fromReportName(m[1], reportSource);
            double v = findNumber(j, {"perplexity", "ppl", "PPL", "word_perplexity"});
            if (std::isnan(v))
                qb::fail(file, "no 'perplexity' or 'ppl' number in a PPL result");
            r.metrics[metric::PPL] = {v, findNumber(j, {"stderr", "ppl_stderr", "perplexity_stderr"}),
                                      (long long)findNumber(j, {"n_tokens", "tokens"})};
            mergeInto(out.results, std::move(r));
        } else if (std::regex_match(base, m, mmluRe)) {
            auto r = fromReportName(m[1], reportSource);
            double v = findNumber(j, {"accuracy", "acc", "micro_accuracy", "overall_accuracy"});
            if (std::isnan(v))
                qb::fail(file, "no 'accuracy' number in an MMLU result");
            if (v > 1.0)
                v /= 100.0; // percent
            r.metrics[m[2] == "direct" ? metric::MmluDirect : metric::MmluGenerate] =
                {v, findNumber(j, {"stderr", "accuracy_stderr"}), (long long)findNumber(j, {"n", "total", "num_questions"})};
            mergeInto(out.results, std::move(r));
        } else if (std::regex_match(base, thrRe)) {
            auto addOne = [&](const std::string& name, const nlohmann::json& v) {
                auto r = fromReportName(name, reportSource);
                double pre = findNumber(v, {"prefill_samples_per_s", "prefill_samples_per_sec", "prefill_throughput", "prefill"});
                double dec = findNumber(v, {"decode_tokens_per_s", "decode_tokens_per_sec", "decode_throughput", "decode"});
                if (std::isnan(pre) && std::isnan(dec))
                    qb::fail(file, "entry '" + name + "' has no prefill or decode throughput");
                if (!std::isnan(pre))
                    r.metrics[metric::PrefillSps] = {pre, std::nan(""), 0};
                if (!std::isnan(dec))
                    r.metrics[metric::DecodeTps] = {dec, std::nan(""), 0};
                mergeInto(out.results, std::move(r));
            };
            if (j.is_array()) {
                for (const auto& e : j)
                    addOne(e.value("config", e.value("name", std::string("?"))), e);
            } else if (j.is_object()) {
                const auto& body = j.contains("results") ? j["results"] : j;
                for (const auto& [k, v] : body.items())
                    if (v.is_object())
                        addOne(k, v);
            }
        } else {
            out.messages.push_back(file + ": not a QuantBench results file and not named like a report result "
                                          "(task_31_ppl_<CONFIG>.json, task_31_mmlu_<CONFIG>_direct.json, "
                                          "task_32_throughput_results.json)");
        }
    } catch (const qb::Error& e) {
        std::string what = e.what();
        out.messages.push_back(what.rfind(file, 0) == 0 ? what : file + ": " + what);
    } catch (const nlohmann::json::exception& e) {
        out.messages.push_back(file + ": unexpected layout (" + std::string(e.what()) + ")");
    }
}

} // namespace

#ifdef QB_HAVE_CORE_RUNNER
static bool isOwnFormat(const fs::path& p)
{
    std::ifstream in(p);
    char head[256] = {};
    in.read(head, sizeof head - 1);
    return std::string(head).find("\"quantbench_results\"") != std::string::npos;
}
#endif

LoadOutcome loadResults(const std::string& path)
{
#ifdef QB_HAVE_CORE_RUNNER
    // This app's per-config exports are read here; runs (.jsonl), record exports and
    // report-style files by core's loader.
    {
        std::error_code ec;
        std::vector<fs::path> files;
        std::vector<std::string> skipped; // a symlink loop or dangling link: named, the rest loads
        if (fs::is_directory(path, ec)) {
            for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
                 it.increment(ec)) {
                std::error_code fec;
                const bool regular = it->is_regular_file(fec);
                if (fec)
                    skipped.push_back(it->path().string() + ": skipped (" + fec.message() + ")");
                else if (regular && (it->path().extension() == ".json" || it->path().extension() == ".jsonl"))
                    files.push_back(it->path());
            }
            std::sort(files.begin(), files.end());
            if (files.empty())
                return {{}, {path + ": no .json or .jsonl result files in this folder"}};
        } else if (fs::exists(path, ec)) {
            files.push_back(path);
        } else {
            return {{}, {path + ": no such file or folder"}};
        }
        LoadOutcome out;
        out.messages = skipped;
        std::vector<std::string> forCore;
        for (const auto& f : files) {
            if (isOwnFormat(f))
                loadFile(f, out, f.string());
            else
                forCore.push_back(f.string());
        }
        if (!forCore.empty()) {
            auto c = loadWithCore(forCore);
            for (auto& r : c.results)
                out.results.push_back(std::move(r));
            for (auto& m : c.messages)
                out.messages.push_back(std::move(m));
        }
        return out;
    }
#endif
    LoadOutcome out;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        std::vector<fs::path> files;
        for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            std::error_code fec;
            const bool regular = it->is_regular_file(fec);
            if (fec)
                out.messages.push_back(it->path().string() + ": skipped (" + fec.message() + ")");
            else if (regular && it->path().extension() == ".json")
                files.push_back(it->path());
        }
        std::sort(files.begin(), files.end());
        if (files.empty())
            out.messages.push_back(path + ": no .json result files in this folder");
        for (const auto& f : files)
            loadFile(f, out, path);
    } else if (fs::exists(path, ec)) {
        loadFile(path, out, path);
    } else {
        out.messages.push_back(path + ": no such file or folder");
    }
    return out;
}

// ---------------------------------------------------------------- export and report
nlohmann::json resultsToJson(const std::vector<ConfigResult>& results)
{
    nlohmann::json j;
    j["quantbench_results"] = 1;
    j["results"] = nlohmann::json::array();
    for (const auto& r : results)
        j["results"].push_back(r.toJson());
    return j;
}

static const std::vector<std::pair<std::string, std::string>>& reportColumns()
{
    static const std::vector<std::pair<std::string, std::string>> cols = {
        {metric::PPL, "PPL"}, {metric::MmluDirect, "MMLU direct"}, {metric::MmluGenerate, "MMLU generate"},
        {metric::PrefillSps, "Prefill samples/s"}, {metric::DecodeTps, "Decode tokens/s"},
        {metric::SqnrDb, "Matmul SQNR dB"}};
    return cols;
}

static std::string csvQuote(const std::string& s)
{
    if (s.find_first_of(",\"\n") == std::string::npos)
        return s;
    std::string q = "\"";
    for (char c : s)
        q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

static std::string fmt(double v, int prec)
{
    if (std::isnan(v))
        return "";
    std::ostringstream os;
    os << std::fixed << std::setprecision(prec) << v;
    return os.str();
}

std::string resultsToCsv(const std::vector<ConfigResult>& results)
{
    std::ostringstream os;
    os << "config,status,error,source";
    for (const auto& [k, label] : reportColumns())
        os << "," << k << "," << k << "_stderr";
    os << "\n";
    for (const auto& r : results) {
        os << csvQuote(r.config) << "," << r.status << "," << csvQuote(r.error) << "," << csvQuote(r.source);
        for (const auto& [k, label] : reportColumns())
            os << "," << fmt(r.value(k), 6) << "," << fmt(r.stderrOf(k), 6);
        os << "\n";
    }
    return os.str();
}

static std::string groupOf(const ConfigResult& r)
{
    if (r.scheme.isBaseline())
        return "Baseline";
    if (r.scheme.smoothing == qb::Smoothing::SmoothQuant)
        return "SmoothQuant";
    return r.scheme.mode == qb::QuantMode::Fake ? "Fake" : "Real";
}

std::string markdownReport(const std::vector<ConfigResult>& results)
{
#ifdef QB_HAVE_CORE_RUNNER
    // core's report (significance tests, findings) whenever every result carries its records.
    bool allRecords = !results.empty();
    for (const auto& r : results)
        allRecords = allRecords && !r.records.empty();
    if (allRecords) {
        try {
            return coreMarkdownReport(results);
        } catch (const std::exception&) {
            // fall through to the plain tables below
        }
    }
#endif
    std::ostringstream os;
    os << "# QuantBench results\n\n";
    if (results.empty()) {
        os << "No results yet: run a sweep or open result files.\n";
        return os.str();
    }
    // Only the columns some result has; lower is better for PPL, higher for the rest.
    std::vector<std::pair<std::string, std::string>> cols;
    for (const auto& c : reportColumns())
        for (const auto& r : results)
            if (!std::isnan(r.value(c.first))) {
                cols.push_back(c);
                break;
            }
    std::map<std::string, double> best;
    for (const auto& [k, label] : cols)
        for (const auto& r : results) {
            double v = r.value(k);
            if (std::isnan(v))
                continue;
            bool lower = k == metric::PPL;
            if (!best.count(k) || (lower ? v < best[k] : v > best[k]))
                best[k] = v;
        }
    os << "## Accuracy and throughput\n\n| Group | Config |";
    for (const auto& c : cols)
        os << " " << c.second << " |";
    os << "\n|---|---|";
    for (size_t i = 0; i < cols.size(); ++i)
        os << "---:|";
    os << "\n";
    for (const char* g : {"Baseline", "Real", "Fake", "SmoothQuant"})
        for (const auto& r : results) {
            if (groupOf(r) != g || !r.ok())
                continue;
            os << "| " << g << " | " << r.config << (r.source.empty() ? "" : " (loaded)") << " |";
            for (const auto& [k, label] : cols) {
                double v = r.value(k);
                int prec = (k == metric::MmluDirect || k == metric::MmluGenerate) ? 4 : 2;
                std::string s = fmt(v, prec);
                if (!std::isnan(r.stderrOf(k)) && !s.empty())
                    s += " ± " + fmt(r.stderrOf(k), prec);
                if (!std::isnan(v) && best.count(k) && v == best[k])
                    s = "**" + s + "**";
                os << " " << s << " |";
            }
            os << "\n";
        }
    std::vector<const ConfigResult*> failed;
    for (const auto& r : results)
        if (r.status != "ok")
            failed.push_back(&r);
    if (!failed.empty()) {
        os << "\n## Failed or cancelled\n\n| Config | Status | Reason |\n|---|---|---|\n";
        for (auto* r : failed)
            os << "| " << r->config << " | " << r->status << " | " << r->error << " |\n";
    }
    return os.str();
}

// ---------------------------------------------------------------- model summary, versions
ModelSummary summarizeModel(const std::string& dir)
{
    ModelSummary s;
    fs::path d(dir);
    std::error_code ec;
    if (!fs::is_directory(d, ec)) {
        s.text = dir + ": not a folder";
        return s;
    }
    fs::path cfg = d / "config.json";
    if (fs::exists(cfg)) {
        // core's parser validates every field and refuses unsupported architectures, naming
        // the file and the key: its message is what the user sees.
        try {
            qb::ModelConfig c = qb::loadConfig(cfg);
            double params = double(c.parameterCount());
            std::ostringstream os;
            os << c.architecture << " · " << std::fixed << std::setprecision(params > 1e9 ? 2 : 1)
               << (params > 1e9 ? params / 1e9 : params / 1e6) << (params > 1e9 ? "B" : "M") << " params · "
               << c.torch_dtype << " · " << c.num_hidden_layers << " layers · ctx " << c.max_position_embeddings
               << " · hidden " << c.hidden_size << " · vocab " << c.vocab_size;
            s.text = os.str();
            s.ok = true;
        } catch (const std::exception& e) {
            s.text = e.what();
        }
        return s;
    }
    // llama2.c checkpoint: 7 int32 header fields (dim, hidden, layers, heads, kv heads, vocab, seq_len).
    for (const auto& e : fs::directory_iterator(d, ec))
        if (e.path().extension() == ".bin" && e.path().filename().string().rfind("tok", 0) != 0) {
            std::ifstream in(e.path(), std::ios::binary);
            int32_t h[7] = {};
            if (!in.read(reinterpret_cast<char*>(h), sizeof h)) {
                s.text = e.path().string() + ": too short for a llama2.c checkpoint";
                return s;
            }
            long long bytes = (long long)fs::file_size(e.path(), ec);
            std::ostringstream os;
            os << "llama2.c Llama · " << std::fixed << std::setprecision(2) << (bytes - 28) / 4 / 1e6
               << "M params · float32 · " << h[2] << " layers · ctx " << h[6] << " · dim " << h[0] << " · vocab "
               << std::abs(h[5]);
            s.text = os.str();
            s.ok = true;
            return s;
        }
    s.text = dir + ": no config.json (Hugging Face) or llama2.c .bin checkpoint in this folder";
    return s;
}

Versions versions()
{
    auto b = qb::buildInfo();
    Versions v;
    v.app = b.app_version;
    v.commit = b.git_commit;
    v.torch = b.torch_version;
    v.cudaAvailable = b.cuda_available;
    v.cuda = b.torch_cuda ? (b.cuda_available ? "available: " + b.cuda_device : "built with CUDA, no device")
                          : "not built with CUDA";
    return v;
}

} // namespace qb::ui
