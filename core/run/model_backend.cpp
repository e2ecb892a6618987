#include "core/run/model_backend.h"

#include "core/data/mmlu_data.h"
#include "core/eval/analysis.h"
#include "core/data/sha256.h"
#include "core/data/text_data.h"
#include "core/eval/mmlu.h"
#include "core/eval/model_lm.h"
#include "core/eval/ppl.h"
#include "core/eval/ppl_ref.h"
#include "core/eval/throughput.h"
#include "core/model/llama.h"
#include "core/quant/model_quantizer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/build_info.h"
#include "core/util/error.h"
#include "core/util/memory.h"
#include "core/util/torch_compat.h"

#include <chrono>
#include <fstream>
#include <cmath>
#include <limits>
#include <optional>

namespace fs = std::filesystem;

namespace qb {

struct ModelBackend::State {
    SweepSpec spec;
    std::string device;
    std::shared_ptr<LlamaModel> model;
    std::optional<Tokenizer> tok;
    std::unique_ptr<ModelQuantizer> quant;
    std::string applied; // scheme currently in the model
    std::string configHash, name;
    // datasets
    std::optional<TextDataset> pplText, calibText;
    std::vector<int32_t> pplTokens, calibTokens;
    std::optional<MmluDataset> mmlu;
    std::vector<size_t> questions;
    PplReference ref;
    std::map<std::string, at::Tensor> linearInputs;
    uint64_t sweepPeak = 0; // peak resident bytes over the configs so far (the peak is reset per config)
};

std::string resolveDevice(const std::string& requested)
{
    if (requested == "auto" || requested.empty())
        return compat::cudaAvailable() ? "cuda" : "cpu";
    if (requested.rfind("cuda", 0) == 0 && !compat::cudaAvailable())
        fail("sweep", "device \"" + requested + "\" requested but CUDA is not available");
    if (requested != "cpu" && requested.rfind("cuda", 0) != 0)
        fail("sweep", "unknown device \"" + requested + "\" (auto, cpu, cuda, cuda:N)");
    return requested;
}

static at::ScalarType dtypeOf(const std::string& n)
{
    if (n == "BF16")
        return at::kBFloat16;
    if (n == "FP16")
        return at::kHalf;
    return at::kFloat;
}

ModelBackend::ModelBackend() : d_(std::make_unique<State>()) {}
ModelBackend::~ModelBackend() = default;

std::string ModelBackend::deviceName() const
{
    if (d_->device.rfind("cuda", 0) == 0)
        return compat::cudaDeviceName(d_->device.size() > 5 ? std::stoi(d_->device.substr(5)) : 0);
    return "cpu: " + buildInfo().cpu;
}
std::string ModelBackend::modelConfigHash() const { return d_->configHash; }
std::string ModelBackend::modelName() const { return d_->name; }

void ModelBackend::prepare(const SweepSpec& spec, const EvalHooks& hooks)
{
    auto& d = *d_;
    // A previous sweep's model goes before the next one is checked and loaded, so two never coexist.
    d.quant.reset();
    d.model.reset();
    releaseFreeMemory();
    d.spec = spec;
    d.device = resolveDevice(spec.device);
    fs::path dir = spec.model;
    if (!fs::exists(dir / "config.json"))
        fail(dir.string(), "not a model folder (no config.json)");
    d.configHash = sha256File(dir / "config.json");
    d.name = fs::path(spec.model).lexically_normal().filename().string();
    if (d.name.empty())
        d.name = fs::path(spec.model).lexically_normal().parent_path().filename().string();
    {
        // The whole sweep's memory, refused up front: the baseline once, the largest quantized copy
        // (8-bit codes + scales: real and fake schemes alike), and activations (a chunk of logits,
        // the KV caches of the throughput task).
        const ModelConfig cfg = loadConfig(dir / "config.json");
        const at::ScalarType dt = dtypeOf(spec.baseline_dtype);
        const ModelMemory mem = estimateModelMemory(cfg, dt);
        double copy = 0;
        for (const auto& s : spec.schemes)
            if (!s.isBaseline()) {
                const double perParam = 1.0 + (s.granularity == Granularity::PerGroup && s.group_size > 0 ? 4.0 / s.group_size : 0.0);
                copy = std::max(copy, mem.linearParams * perParam);
            }
        const auto& tp = spec.tasks.throughput;
        const double es = double(c10::elementSize(dt));
        const double kvPerPos = 2.0 * double(cfg.num_hidden_layers) * double(cfg.num_key_value_heads) * double(cfg.head_dim) * es;
        const double kv = tp.enabled ? kvPerPos * double(std::max(tp.prefill_batch * tp.prefill_len,
                                                                   tp.decode_batch * (tp.decode_prompt + tp.decode_tokens)))
                                     : 0.0;
        const double logits = 3.0 * double(kLogitRows) * double(cfg.vocab_size) * 4.0;
        const double acts = kv + logits + 24.0 * double(std::max<int64_t>(spec.tasks.ppl.ctx, 1024)) * double(cfg.hidden_size) * 4.0;
        const std::string what = "the sweep on " + dir.string() + " (" + spec.baseline_dtype + ")";
        const std::string breakdown = "baseline weights " + formatBytes(uint64_t(mem.weights)) + " + largest quantized copy " +
                                      formatBytes(uint64_t(copy)) + " + activations ~" + formatBytes(uint64_t(acts));
        const uint64_t need = uint64_t(mem.weights + copy + acts);
        if (d.device == "cpu")
            requireMemory(need, what, breakdown);
        else
            compat::requireDeviceMemory(d.device.size() > 5 ? std::stoi(d.device.substr(5)) : 0, need, what);
    }
    d.model = LlamaModel::load(dir, dtypeOf(spec.baseline_dtype), torch::Device(d.device));
    d.tok = Tokenizer::fromFile(dir);
    d.quant = std::make_unique<ModelQuantizer>(*d.model);
    d.applied = QuantScheme::baseline(spec.baseline_dtype).name();
    const auto& t = spec.tasks;
    bool needText = t.ppl.enabled || t.matmul.enabled;
    if (needText) {
        if (spec.ppl_text.empty())
            fail("sweep", "the PPL / matmul tasks need datasets.ppl_text");
        d.pplText = loadText(spec.ppl_text);
        d.pplTokens = d.tok->encode(d.pplText->text, true);
    }
    // Calibration text: SmoothQuant, the outlier view (its per-channel maxima are the calibration's) and
    // the sensitivity windows.
    bool needCalib = t.outliers.enabled || t.sensitivity.enabled;
    for (const auto& s : spec.schemes)
        needCalib |= s.smoothing == Smoothing::SmoothQuant;
    if (needCalib) {
        std::string p = spec.calibration_text.empty() ? spec.ppl_text : spec.calibration_text;
        if (p.empty())
            fail("sweep", "SmoothQuant schemes and the outliers / sensitivity tasks need datasets.calibration_text (or ppl_text)");
        d.calibText = loadText(p);
        d.calibTokens = d.tok->encode(d.calibText->text, true);
    }
    if (t.mmlu.direct || t.mmlu.generate) {
        if (spec.mmlu.empty())
            fail("sweep", "the MMLU tasks need datasets.mmlu");
        MmluLoadOptions o;
        o.subjects = t.mmlu.subjects;
        d.mmlu = loadMmlu(spec.mmlu, o);
        d.questions = spreadLimit(d.mmlu->test, t.mmlu.max_questions, spec.seed);
    }
    hooks.check();
    // Baseline-state references, for every shard.
    // kl_windows 0 = every PPL window (as many as max_windows allows); < 0 = no KL.
    if (t.ppl.enabled && t.ppl.kl_windows >= 0) {
        int64_t w = t.ppl.kl_windows > 0 ? t.ppl.kl_windows : std::numeric_limits<int64_t>::max();
        if (t.ppl.max_windows > 0)
            w = std::min(w, t.ppl.max_windows);
        d.ref = makePplReference(*d.model, d.pplTokens, t.ppl.ctx, w, t.ppl.kl_topk, hooks);
    }
    if (t.matmul.enabled)
        d.linearInputs = captureLinearInputs(*d.model, tokenWindows(d.pplTokens, t.matmul.windows,
                                                                     std::min(t.matmul.len, d.model->config().max_position_embeddings)),
                                             t.matmul.max_rows);
}

void ModelBackend::ensureCalibrated(const EvalHooks& hooks)
{
    auto& d = *d_;
    if (d.quant->calibrated())
        return;
    d.quant->restore();
    d.applied = QuantScheme::baseline(d.spec.baseline_dtype).name();
    auto windows = tokenWindows(d.calibTokens, d.spec.calib_sequences,
                                std::min(d.spec.calib_length, d.model->config().max_position_embeddings));
    d.quant->calibrate(windows, [&](int64_t, int64_t) { return !hooks.cancelled(); });
}

namespace {

// Per-unit checkpoint of a sensitivity task in the run folder: one JSON line per measured unit, keyed
// by the config and the task settings, removed when the record is written.
fs::path sensitivityCheckpoint(const EvalHooks& hooks, const QuantScheme& scheme, const nlohmann::json& settings)
{
    if (hooks.work_dir.empty())
        return {};
    const std::string key = sha256Hex(scheme.name() + "\n" + settings.dump());
    return fs::path(hooks.work_dir) / ("sensitivity." + key.substr(0, 16) + ".partial.jsonl");
}

std::vector<UnitSensitivity> readCheckpoint(const fs::path& f)
{
    std::vector<UnitSensitivity> out;
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line)) {
        try {
            out.push_back(UnitSensitivity::fromJson(nlohmann::json::parse(line)));
        } catch (const std::exception&) {
            break; // a line cut by a kill: the units before it count
        }
    }
    return out;
}

} // namespace

nlohmann::json ModelBackend::apply(const QuantScheme& scheme, const EvalHooks& hooks)
{
    auto& d = *d_;
    // Each config gets its own peak (the throughput record reports it); the sweep's is kept apart.
    d.sweepPeak = std::max(d.sweepPeak, peakResidentBytes());
    releaseFreeMemory(); // the previous config's activations, kept as free heap (configureAllocator)
    resetPeakResident();
    if (d.device.rfind("cuda", 0) == 0)
        compat::cudaResetPeak(d.device.size() > 5 ? std::stoi(d.device.substr(5)) : 0);
    if (scheme.isBaseline()) {
        d.quant->restore();
        d.applied = scheme.name();
        return {{"model_bytes", d.model->weightBytes()}};
    }
    if (scheme.smoothing == Smoothing::SmoothQuant)
        ensureCalibrated(hooks);
    QuantizeReport r = d.quant->apply(scheme);
    d.applied = scheme.name();
    return {{"linears", r.linears},
            {"linear_bytes_before", r.linear_bytes_before},
            {"linear_bytes_after", r.linear_bytes_after},
            {"model_bytes_before", r.model_bytes_before},
            {"model_bytes_after", r.model_bytes_after},
            {"quantize_seconds", r.seconds}};
}

void ModelBackend::run(const QuantScheme& scheme, const std::string& task, ResultRecord& rec, const EvalHooks& hooks)
{
    auto& d = *d_;
    const auto& t = d.spec.tasks;
    if (task != task::Matmul && task != task::Sensitivity && task != task::Outliers && d.applied != scheme.name())
        apply(scheme, hooks); // matmul accuracy left the model in the baseline state
    auto progress = [&](int64_t a, int64_t b) {
        if (hooks.progress)
            hooks.progress(a, b);
        return !hooks.cancelled();
    };
    auto textId = [&](const char* role, const TextDataset& x) {
        rec.datasets.push_back({role, x.path.string(), x.sha256, x.bytes});
    };
    if (task == task::Ppl) {
        PplOptions o;
        o.ctx = t.ppl.ctx;
        o.maxWindows = t.ppl.max_windows;
        const bool withKl = !d.ref.empty() && !scheme.isBaseline();
        if (withKl)
            o.reference = &d.ref; // KL from the same pass as the NLL
        PplResult p = perplexity(*d.model, d.pplTokens, o, progress);
        rec.metrics["ppl"] = p.ppl;
        rec.metrics["ppl_stderr"] = p.stderrPpl;
        rec.metrics["mean_nll"] = p.meanNll;
        rec.metrics["n_tokens"] = double(p.nTokens);
        rec.metrics["windows"] = double(p.windows);
        rec.metrics["ctx"] = double(p.ctx);
        rec.metrics["tokens_per_s"] = p.seconds > 0 ? double(p.nTokens) / p.seconds : 0.0;
        rec.details["ppl"] = p.toJson();
        rec.settings["token_hash"] = p.tokenHash; // the paired comparison's guard (core/report)
        rec.nll = std::move(p.nllPerToken);       // written as a sidecar by the runner
        if (withKl) {
            KlResult k = klSummary(p.klPerToken, p.top1Match, d.ref.topk >= d.model->config().vocab_size, p.dpPerToken);
            k.windows = p.klWindows;
            rec.metrics["kl_mean"] = k.mean_kl;
            rec.metrics["kl_p99"] = k.p99_kl;
            rec.metrics["top1_agreement"] = k.top1_agreement;
            rec.metrics["kl_mean_stderr"] = k.kl_stderr;
            rec.metrics["kl_median"] = k.median_kl;
            rec.metrics["kl_p90"] = k.p90_kl;
            rec.metrics["kl_p999"] = k.p999_kl;
            rec.metrics["kl_max"] = k.max_kl;
            rec.metrics["top1_agreement_stderr"] = k.top1_stderr;
            if (std::isfinite(k.dp_mean)) {
                rec.metrics["dp_mean"] = k.dp_mean;
                rec.metrics["dp_mean_stderr"] = k.dp_stderr;
                rec.metrics["dp_rms"] = k.dp_rms;
                rec.metrics["dp_p1"] = k.dp_p1;
                rec.metrics["dp_p99"] = k.dp_p99;
            }
            rec.details["kl"] = {{"tokens", k.tokens}, {"windows", k.windows}, {"topk", d.ref.topk}, {"exact", k.exact},
                              {"baseline_logprobs", k.exact ? "exact over the full vocabulary"
                                                            : "top-" + std::to_string(d.ref.topk) +
                                                                  " log-probs + one tail bucket (KL is a lower bound)"}};
        }
        textId("ppl_text", *d.pplText);
    } else if (task == task::MmluDirect || task == task::MmluGenerate) {
        bool gen = task == task::MmluGenerate;
        ModelLm lm(*d.model, *d.tok);
        MmluResult m = evalMmlu(lm, *d.mmlu, d.questions, t.mmlu, gen, hooks);
        rec.metrics["accuracy"] = m.accuracy;
        rec.metrics["accuracy_stderr"] = m.stderr_;
        rec.metrics["n"] = double(m.n);
        rec.metrics["correct"] = double(m.correct);
        rec.metrics["questions_per_s"] = m.seconds > 0 ? double(m.n) / m.seconds : 0.0;
        if (gen)
            rec.metrics["unparseable"] = double(m.unparseable);
        rec.metrics["shots_mean"] = m.shots_mean;
        rec.details["mmlu"] = m.toJson();
        rec.details["mmlu"]["dataset_warnings"] = d.mmlu->warnings.size();
        rec.correct = m.correctness;
        rec.predictions = m.predictions;
        rec.question_set = m.question_set;
        rec.datasets.push_back({"mmlu", d.mmlu->path.string(), d.mmlu->sha256, d.mmlu->bytes});
    } else if (task == task::Throughput) {
        ThroughputResult r = measureThroughput(*d.model, t.throughput, d.spec.seed, hooks);
        rec.metrics["prefill_samples_per_s"] = r.prefill_samples_per_s;
        rec.metrics["decode_tokens_per_s"] = r.decode_tokens_per_s;
        rec.metrics["weight_bytes"] = double(r.weight_bytes);
        rec.metrics["kv_cache_mb"] = double(r.kv_cache_bytes) / double(1 << 20);
        if (d.device == "cpu") {
            // Peak since this config was applied (quantizing included), and over the sweep so far.
            rec.metrics["peak_memory_mb"] = r.peak_resident_mb;
            d.sweepPeak = std::max(d.sweepPeak, peakResidentBytes());
            rec.metrics["sweep_peak_memory_mb"] = double(d.sweepPeak) / double(1 << 20);
        } else {
            rec.metrics["peak_memory_mb"] = r.peak_device_mb;
        }
        rec.details["throughput"] = r.toJson();
    } else if (task == task::Matmul) {
        if (scheme.isBaseline()) {
            rec.metrics["sqnr_db"] = INFINITY; // the reference itself
            rec.details["matmul"] = "baseline: reference";
            return;
        }
        d.quant->restore();
        d.applied = QuantScheme::baseline(d.spec.baseline_dtype).name();
        MatmulAccuracy a = matmulAccuracy(*d.quant, scheme, d.linearInputs, progress);
        rec.metrics["sqnr_db"] = a.sqnr_db;
        rec.metrics["sqnr_db_min"] = a.sqnr_db_min;
        rec.metrics["rel_fro_error"] = a.rel_fro_error;
        rec.metrics["cosine"] = a.cosine;
        rec.metrics["max_abs_error"] = a.max_abs_error;
        nlohmann::json layers = nlohmann::json::array();
        for (const auto& l : a.layers)
            layers.push_back({{"name", l.name}, {"sqnr_db", l.sqnr_db}, {"rel_fro_error", l.rel_fro_error},
                              {"cosine", l.cosine}, {"max_abs_error", l.max_abs_error}});
        rec.details["matmul_layers"] = layers;
        textId("ppl_text", *d.pplText);
    } else if (task == task::Outliers) {
        ensureCalibrated(hooks);
        const bool sq = scheme.smoothing == Smoothing::SmoothQuant;
        nlohmann::json o = outlierReport(*d.quant, sq ? std::optional<double>(scheme.alpha) : std::nullopt);
        for (const char* m : {"act_ratio_max", "act_ratio_median", "worst_layer", "act_ratio_max_smoothable",
                              "act_ratio_max_smoothed"})
            if (o.contains(m))
                rec.metrics[m] = o[m].get<double>();
        rec.details["outliers"] = std::move(o);
        textId("calibration", *d.calibText);
    } else if (task == task::Sensitivity) {
        if (scheme.smoothing == Smoothing::SmoothQuant)
            ensureCalibrated(hooks);
        d.quant->restore();
        d.applied = QuantScheme::baseline(d.spec.baseline_dtype).name();
        const fs::path ckpt = sensitivityCheckpoint(hooks, scheme, rec.settings);
        std::vector<UnitSensitivity> resumed;
        if (!ckpt.empty() && fs::exists(ckpt))
            resumed = readCheckpoint(ckpt);
        std::ofstream ck;
        if (!ckpt.empty())
            ck.open(ckpt, std::ios::app);
        SensitivityResult r = analyzeSensitivity(*d.quant, scheme, d.calibTokens, t.sensitivity, hooks, resumed,
                                                 [&](const UnitSensitivity& u) {
                                                     if (ck.is_open()) {
                                                         ck << u.toJson().dump() << '\n';
                                                         ck.flush();
                                                     }
                                                 });
        const double mb = double(1 << 20);
        const CurvePoint* full = nullptr;
        for (const auto& p : r.curve)
            if (p.k == 0)
                full = &p;
        double topKl = 0;
        for (const auto& u : r.units)
            topKl = std::max(topKl, u.kl);
        rec.metrics["base_ppl"] = r.base_ppl;
        rec.metrics["base_nll"] = r.base_nll;
        rec.metrics["units"] = double(r.units.size());
        rec.metrics["top_kl"] = topKl;
        if (full) {
            rec.metrics["full_kl"] = full->kl;
            rec.metrics["full_ppl"] = full->ppl;
            rec.metrics["full_dppl"] = full->dppl;
            rec.metrics["full_linear_mb"] = double(full->linear_bytes) / mb;
        }
        rec.metrics["recommended_k"] = double(r.recommended.k);
        rec.metrics["recommended_kl"] = r.recommended.kl;
        rec.metrics["recommended_ppl"] = r.recommended.ppl;
        rec.metrics["recommended_dppl"] = r.recommended.dppl;
        rec.metrics["recommended_linear_mb"] = double(r.recommended.linear_bytes) / mb;
        rec.metrics["baseline_linear_mb"] = double(r.base_linear_bytes) / mb;
        rec.metrics["budget_met"] = r.met ? 1.0 : 0.0;
        rec.details["sensitivity"] = r.toJson();
        if (!resumed.empty())
            rec.details["sensitivity"]["resumed_units"] = resumed.size();
        textId("calibration", *d.calibText);
        ck.close();
        if (!ckpt.empty()) {
            std::error_code ec;
            fs::remove(ckpt, ec);
        }
    } else {
        fail("sweep", "unknown task \"" + task + "\"");
    }
}

} // namespace qb
