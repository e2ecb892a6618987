// SweepSetup <-> core's sweep file (core/run/sweep.h), the demo sweep, setup problems.
#include "ui/sweep_setup.h"

#include "core/run/model_backend.h"
#include "core/util/error.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace qb::ui {

std::vector<qb::QuantScheme> SweepSetup::configs() const
{
    std::vector<qb::QuantScheme> out;
    out.push_back(qb::QuantScheme::baseline(baseline_dtype));
    for (auto s : schemes) {
        s.baseline_dtype = baseline_dtype;
        out.push_back(s);
    }
    return out;
}

qb::SweepSpec SweepSetup::toSpec() const
{
    qb::SweepSpec s = base;
    if (s.name.empty())
        s.name = "gui";
    s.model = model_dir;
    s.baseline_dtype = baseline_dtype;
    s.device = device;
    s.schemes.clear();
    s.schemes_json = nlohmann::json::array();
    for (auto q : schemes) {
        q.baseline_dtype = baseline_dtype;
        s.schemes.push_back(q);
        s.schemes_json.push_back(q.name());
    }
    const auto& e = evals;
    s.tasks.ppl.enabled = e.ppl;
    s.tasks.ppl.ctx = e.ppl_ctx;
    s.tasks.ppl.max_windows = e.ppl_windows;
    s.tasks.mmlu.direct = e.mmlu_direct;
    s.tasks.mmlu.generate = e.mmlu_generate;
    s.tasks.mmlu.shots = e.mmlu_shots;
    s.tasks.mmlu.max_questions = e.mmlu_limit;
    s.tasks.mmlu.batch = e.mmlu_batch;
    s.tasks.throughput.enabled = e.throughput;
    s.tasks.throughput.prefill_batch = e.prefill_batch;
    s.tasks.throughput.prefill_len = e.prefill_len;
    s.tasks.throughput.decode_batch = e.decode_batch;
    s.tasks.throughput.decode_tokens = e.decode_len;
    s.tasks.matmul.enabled = e.matmul;
    s.tasks.sensitivity.enabled = e.sensitivity;
    s.tasks.sensitivity.mode = e.sensitivity_mode;
    s.tasks.sensitivity.budget_kl = e.budget_kl;
    // A file's longer list survives while the panel's choice (its first name) is unchanged.
    auto& named = s.tasks.sensitivity.schemes;
    if (e.sensitivity_scheme.empty())
        named.clear();
    else if (named.empty() || named.front() != e.sensitivity_scheme)
        named = {e.sensitivity_scheme};
    s.tasks.outliers.enabled = e.outliers;
    s.ppl_text = e.ppl_dataset;
    s.mmlu = e.mmlu_dir;
    s.calibration_text = e.calib_dataset;
    s.calib_sequences = e.calib_samples;
    return s;
}

SweepSetup SweepSetup::fromSpec(const qb::SweepSpec& spec)
{
    SweepSetup s;
    s.base = spec;
    s.model_dir = spec.model;
    s.baseline_dtype = spec.baseline_dtype;
    // The window offers cpu / cuda; "auto" and "cuda:N" become the nearest choice.
    s.device = spec.device.rfind("cuda", 0) == 0 ? "cuda" : "cpu";
    if (spec.device == "auto")
        s.device = qb::resolveDevice("auto").rfind("cuda", 0) == 0 ? "cuda" : "cpu";
    for (const auto& q : spec.schemes)
        if (!q.isBaseline())
            s.schemes.push_back(q);
    const auto& t = spec.tasks;
    auto& e = s.evals;
    e.ppl = t.ppl.enabled;
    e.ppl_ctx = int(t.ppl.ctx);
    e.ppl_windows = int(t.ppl.max_windows);
    e.mmlu_direct = t.mmlu.direct;
    e.mmlu_generate = t.mmlu.generate;
    e.mmlu_shots = t.mmlu.shots;
    e.mmlu_limit = int(t.mmlu.max_questions);
    e.mmlu_batch = int(t.mmlu.batch);
    e.throughput = t.throughput.enabled;
    e.prefill_batch = int(t.throughput.prefill_batch);
    e.prefill_len = int(t.throughput.prefill_len);
    e.decode_batch = int(t.throughput.decode_batch);
    e.decode_len = int(t.throughput.decode_tokens);
    e.matmul = t.matmul.enabled;
    e.sensitivity = t.sensitivity.enabled;
    e.sensitivity_mode = t.sensitivity.mode;
    e.budget_kl = t.sensitivity.budget_kl;
    e.sensitivity_scheme = t.sensitivity.schemes.empty() ? std::string() : t.sensitivity.schemes.front();
    e.outliers = t.outliers.enabled;
    e.ppl_dataset = spec.ppl_text;
    e.mmlu_dir = spec.mmlu;
    e.calib_dataset = spec.calibration_text;
    e.calib_samples = int(spec.calib_sequences);
    return s;
}

nlohmann::json SweepSetup::toJson() const { return toSpec().toJson(); }

namespace {

// The window's own format before it saved core sweep files: {"quantbench_sweep": 1, "schemes":
// [...], "evals": {...}}. Still read, so files saved by earlier versions open.
SweepSetup fromLegacyJson(const nlohmann::json& j, const std::string& where)
{
    SweepSetup s;
    try {
        s.model_dir = j.value("model", std::string());
        s.device = j.value("device", std::string("cpu"));
        s.baseline_dtype = j.value("baseline_dtype", std::string("FP32"));
        for (const auto& n : j.at("schemes")) {
            qb::QuantScheme q;
            try {
                q = qb::QuantScheme::fromJson(n, where);
            } catch (const qb::Error& e) {
                std::string what = e.what();
                if (what.rfind(where, 0) == 0)
                    throw;
                qb::fail(where, what); // name the file, not only the scheme
            }
            if (!q.isBaseline())
                s.schemes.push_back(q);
        }
        const auto& ev = j.at("evals");
        auto& e = s.evals;
        auto sec = [&](const char* k) { return ev.contains(k) ? ev.at(k) : nlohmann::json::object(); };
        auto p = sec("ppl"), m = sec("mmlu"), t = sec("throughput"), mm = sec("matmul"), c = sec("calibration");
        e.ppl = p.value("enabled", e.ppl);
        e.ppl_dataset = p.value("dataset", e.ppl_dataset);
        e.ppl_ctx = p.value("ctx", e.ppl_ctx);
        e.ppl_windows = p.value("windows", e.ppl_windows);
        e.mmlu_direct = m.value("direct", e.mmlu_direct);
        e.mmlu_generate = m.value("generate", e.mmlu_generate);
        e.mmlu_dir = m.value("dir", e.mmlu_dir);
        e.mmlu_shots = m.value("shots", e.mmlu_shots);
        e.mmlu_limit = m.value("limit", e.mmlu_limit);
        e.mmlu_batch = m.value("batch", e.mmlu_batch);
        e.throughput = t.value("enabled", e.throughput);
        e.prefill_batch = t.value("prefill_batch", e.prefill_batch);
        e.prefill_len = t.value("prefill_len", e.prefill_len);
        e.decode_batch = t.value("decode_batch", e.decode_batch);
        e.decode_len = t.value("decode_len", e.decode_len);
        e.matmul = mm.value("enabled", e.matmul);
        e.calib_dataset = c.value("dataset", e.calib_dataset);
        e.calib_samples = c.value("samples", e.calib_samples);
    } catch (const qb::Error&) {
        throw;
    } catch (const nlohmann::json::exception& e) {
        qb::fail(where, std::string("malformed sweep file: ") + e.what());
    }
    return s;
}

} // namespace

SweepSetup SweepSetup::fromJson(const nlohmann::json& j, const std::string& where, const std::string& baseDir)
{
    if (!j.is_object() || !j.contains("schemes"))
        qb::fail(where, "not a QuantBench sweep file (no 'schemes')");
    if (j.contains("evals"))
        return fromLegacyJson(j, where);
    return fromSpec(qb::SweepSpec::fromJson(j, where, baseDir));
}

SweepSetup SweepSetup::load(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        qb::fail(path, "cannot open the sweep file");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        qb::fail(path, std::string("not valid JSON: ") + e.what());
    }
    return fromJson(j, path, fs::absolute(path).parent_path().string());
}

void SweepSetup::save(const std::string& path) const
{
    toSpec().save(path); // atomic: written to a temporary file, then renamed
}

std::vector<std::string> SweepSetup::problems() const
{
    std::vector<std::string> out;
    if (model_dir.empty())
        out.push_back("Choose a model folder (or the demo model).");
    else if (!fs::is_directory(model_dir))
        out.push_back("Model folder " + model_dir + " does not exist.");
    if (!evals.any())
        out.push_back("Tick at least one evaluation.");
    if (evals.ppl && evals.ppl_dataset.empty())
        out.push_back("Perplexity needs a text file (e.g. WikiText-2 wiki.test.raw).");
    else if (evals.ppl && !fs::is_regular_file(evals.ppl_dataset))
        out.push_back("PPL text " + evals.ppl_dataset + " does not exist.");
    if (evals.ppl && evals.ppl_ctx < 16)
        out.push_back("PPL context must be at least 16 tokens.");
    if (evals.mmlu_direct || evals.mmlu_generate) {
        if (evals.mmlu_dir.empty())
            out.push_back("MMLU needs the folder holding dev/ and test/.");
        else if (!fs::is_directory(fs::path(evals.mmlu_dir) / "test"))
            out.push_back("MMLU folder " + evals.mmlu_dir + " has no test/ subfolder.");
        if (evals.mmlu_shots < 0 || evals.mmlu_shots > 5)
            out.push_back("MMLU shots must be 0..5 (the dev split has 5 per subject).");
    }
    for (const auto& s : schemes)
        if (auto why = s.validate(); !why.empty())
            out.push_back(s.name() + ": " + why + ".");
    bool smooth = false;
    for (const auto& s : schemes)
        smooth = smooth || s.smoothing == qb::Smoothing::SmoothQuant;
    if (smooth && !evals.calib_dataset.empty() && !fs::is_regular_file(evals.calib_dataset))
        out.push_back("SmoothQuant calibration text " + evals.calib_dataset + " does not exist.");
    if (evals.sensitivity) {
        bool named = evals.sensitivity_scheme.empty() && !schemes.empty();
        for (const auto& s : schemes)
            named = named || s.name() == evals.sensitivity_scheme;
        if (schemes.empty())
            out.push_back("Sensitivity needs a quantized scheme to analyse: tick one.");
        else if (!named)
            out.push_back("Sensitivity scheme " + evals.sensitivity_scheme + " is not among the ticked schemes.");
    }
    if ((evals.sensitivity || evals.outliers) && evals.calib_dataset.empty() && evals.ppl_dataset.empty())
        out.push_back("Sensitivity and outliers need a calibration text (or the PPL text).");
    if (device != "cpu" && device != "cuda")
        out.push_back("Device must be cpu or cuda.");
    return out;
}

std::vector<std::string> SweepSetup::warnings() const
{
    std::vector<std::string> out;
    if (schemes.empty())
        out.push_back("No quantized scheme ticked: only the baseline will run.");
    if (device == "cpu" && baseline_dtype != "FP32")
        out.push_back(baseline_dtype + " on CPU is emulated and slow; FP32 is the usual CPU baseline.");
    for (const auto& s : schemes)
        if (device == "cpu" && s.dtype == qb::QDType::FP8_E4M3 && s.mode == qb::QuantMode::Real) {
            out.push_back("Real FP8 on CPU decodes codes inside the kernel (no FP8 GEMM): expect it slower than fake.");
            break;
        }
    return out;
}

std::string demoModelDir()
{
    if (const char* env = std::getenv("QB_DEMO_MODEL"))
        return env;
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto installed = exe.parent_path().parent_path() / "share/quantbench/demo/stories260k";
        if (fs::is_directory(installed))
            return installed.string();
    }
#ifdef QB_SOURCE_DIR_UI
    return std::string(QB_SOURCE_DIR_UI) + "/resources/demo/stories260k";
#else
    return "resources/demo/stories260k";
#endif
}

SweepSetup demoSweep()
{
    const fs::path model = demoModelDir();
    std::vector<fs::path> candidates{model.parent_path() / "demo_sweep.json"};
#ifdef QB_SOURCE_DIR_UI
    candidates.push_back(fs::path(QB_SOURCE_DIR_UI) / "resources/demo/demo_sweep.json");
#endif
    for (const auto& f : candidates)
        if (fs::is_regular_file(f)) {
            SweepSetup s = SweepSetup::fromSpec(qb::SweepSpec::load(f));
            s.model_dir = model.string(); // QB_DEMO_MODEL may point elsewhere
            return s;
        }
    std::string tried;
    for (const auto& f : candidates)
        tried += "\n  " + f.string();
    throw qb::Error("the demo sweep (demo_sweep.json) was not found; looked for:" + tried +
                    "\nReinstall QuantBench, or set QB_DEMO_MODEL to a demo model folder that has demo_sweep.json beside it.");
}

} // namespace qb::ui
