#include "ui/sweep_setup.h"

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

nlohmann::json SweepSetup::toJson() const
{
    nlohmann::json j;
    j["quantbench_sweep"] = 1;
    j["model"] = model_dir;
    j["device"] = device;
    j["baseline_dtype"] = baseline_dtype;
    j["schemes"] = nlohmann::json::array();
    for (const auto& s : schemes)
        j["schemes"].push_back(s.name());
    const auto& e = evals;
    j["evals"] = {
        {"ppl", {{"enabled", e.ppl}, {"dataset", e.ppl_dataset}, {"ctx", e.ppl_ctx}, {"windows", e.ppl_windows}}},
        {"mmlu", {{"direct", e.mmlu_direct}, {"generate", e.mmlu_generate}, {"dir", e.mmlu_dir},
                  {"shots", e.mmlu_shots}, {"limit", e.mmlu_limit}, {"batch", e.mmlu_batch}}},
        {"throughput", {{"enabled", e.throughput}, {"prefill_batch", e.prefill_batch}, {"prefill_len", e.prefill_len},
                        {"decode_batch", e.decode_batch}, {"decode_len", e.decode_len}}},
        {"matmul", {{"enabled", e.matmul}}},
        {"calibration", {{"dataset", e.calib_dataset}, {"samples", e.calib_samples}}},
    };
    return j;
}

SweepSetup SweepSetup::fromJson(const nlohmann::json& j, const std::string& where)
{
    if (!j.is_object() || !j.contains("schemes"))
        qb::fail(where, "not a QuantBench sweep file (no 'schemes' list)");
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
        if (j.contains("evals")) {
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
        }
    } catch (const qb::Error&) {
        throw;
    } catch (const nlohmann::json::exception& e) {
        qb::fail(where, std::string("malformed sweep file: ") + e.what());
    }
    return s;
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
    return fromJson(j, path);
}

void SweepSetup::save(const std::string& path) const
{
    // Write to a temporary file first so a crash never leaves half a sweep file behind.
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        if (!out)
            qb::fail(path, "cannot write the sweep file");
        out << toJson().dump(2) << "\n";
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec)
        qb::fail(path, "cannot replace the sweep file: " + ec.message());
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
    SweepSetup s;
    s.model_dir = demoModelDir();
    s.device = "cpu";
    s.baseline_dtype = "FP32";
    using G = qb::Granularity;
    s.schemes = qb::schemeMatrix({qb::QDType::INT8, qb::QDType::FP8_E4M3},
                                 {{G::PerTensor, 0}, {G::PerRow, 0}, {G::PerGroup, 64}},
                                 {qb::QuantMode::Real, qb::QuantMode::Fake});
    s.schemes.push_back(qb::QuantScheme::smoothQuant(qb::QDType::INT8, 0.5));
    // The demo text sits next to the demo model (installed and source layouts); fall back to the
    // source tree when the model comes from elsewhere (QB_DEMO_MODEL).
    fs::path demoText = fs::path(s.model_dir).parent_path() / "tinystories_sample.txt";
#ifdef QB_SOURCE_DIR_UI
    if (!fs::exists(demoText))
        demoText = fs::path(QB_SOURCE_DIR_UI) / "resources/demo/tinystories_sample.txt";
#endif
    s.evals.ppl = true;
    s.evals.ppl_dataset = demoText.string();
    s.evals.calib_dataset = demoText.string();
    s.evals.ppl_ctx = 128;
    s.evals.ppl_windows = 4;
    s.evals.throughput = true;
    s.evals.prefill_batch = 4;
    s.evals.prefill_len = 64;
    s.evals.decode_batch = 4;
    s.evals.decode_len = 16;
    s.evals.matmul = true;
    return s;
}

} // namespace qb::ui
