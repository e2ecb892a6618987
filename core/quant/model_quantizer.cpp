#include "core/quant/model_quantizer.h"
#include "core/util/memory.h"

#include "core/model/dense_gemm.h"
#include "core/model/linear.h"
#include "core/model/llama.h"
#include "core/quant/quant_linear.h"
#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <set>

namespace qb {

namespace {

// Records per-channel max |x| of its input, then runs the wrapped op.
class RecordingLinear final : public LinearOp {
public:
    explicit RecordingLinear(LinearPtr inner) : inner_(std::move(inner)) {}
    at::Tensor forward(const at::Tensor& x) const override
    {
        auto m = std::get<0>(x.detach().abs().reshape({-1, x.size(-1)}).max(0)).to(at::kCPU, at::kFloat);
        amax_ = amax_.defined() ? at::maximum(amax_, m) : m;
        return inner_->forward(x);
    }
    int64_t inFeatures() const override { return inner_->inFeatures(); }
    int64_t outFeatures() const override { return inner_->outFeatures(); }
    uint64_t weightBytes() const override { return inner_->weightBytes(); }
    std::string describe() const override { return "recording " + inner_->describe(); }
    at::Tensor amax() const { return amax_; }

private:
    LinearPtr inner_;
    mutable at::Tensor amax_;
};

// Keeps up to maxRows rows of its input (its dtype, CPU).
class CaptureLinear final : public LinearOp {
public:
    CaptureLinear(LinearPtr inner, int64_t maxRows) : inner_(std::move(inner)), maxRows_(maxRows) {}
    at::Tensor forward(const at::Tensor& x) const override
    {
        int64_t have = rows_.empty() ? 0 : total_;
        if (have < maxRows_) {
            auto r = x.detach().reshape({-1, x.size(-1)});
            r = r.narrow(0, 0, std::min<int64_t>(r.size(0), maxRows_ - have)).to(at::kCPU, /*non_blocking=*/false, /*copy=*/true);
            total_ += r.size(0);
            rows_.push_back(r);
        }
        return inner_->forward(x);
    }
    int64_t inFeatures() const override { return inner_->inFeatures(); }
    int64_t outFeatures() const override { return inner_->outFeatures(); }
    uint64_t weightBytes() const override { return inner_->weightBytes(); }
    std::string describe() const override { return "capturing " + inner_->describe(); }
    at::Tensor rows() const { return rows_.empty() ? at::Tensor() : at::cat(rows_, 0); }

private:
    LinearPtr inner_;
    int64_t maxRows_;
    mutable int64_t total_ = 0;
    mutable std::vector<at::Tensor> rows_;
};

std::string layerName(size_t i, const char* slot) { return "model.layers." + std::to_string(i) + "." + slot; }

// Which smoothing group a linear belongs to: 0 attention input, 1 MLP input, -1 none.
int smoothGroup(const std::string& name, size_t* layer)
{
    const std::string prefix = "model.layers.";
    size_t dot = name.find('.', prefix.size());
    *layer = std::stoul(name.substr(prefix.size(), dot - prefix.size()));
    std::string slot = name.substr(dot + 1);
    if (slot == "self_attn.q_proj" || slot == "self_attn.k_proj" || slot == "self_attn.v_proj")
        return 0;
    if (slot == "mlp.gate_proj" || slot == "mlp.up_proj")
        return 1;
    return -1;
}

void runWindows(LlamaModel& model, const std::vector<at::Tensor>& windows, const ProgressFn& progress)
{
    torch::NoGradGuard noGrad;
    const int64_t total = static_cast<int64_t>(windows.size());
    for (int64_t i = 0; i < total; ++i) {
        if (progress && !progress(i, total))
            throw Cancelled();
        auto ids = windows[i].to(model.device(), at::kLong).view({1, -1});
        (void)model.forward(ids, nullptr, {}, /*lastOnly=*/true);
    }
    if (progress)
        progress(total, total);
}

} // namespace

std::vector<at::Tensor> tokenWindows(const std::vector<int32_t>& tokens, int64_t n, int64_t len)
{
    std::vector<at::Tensor> out;
    if (len <= 1)
        throw Error("calibration: window length must be > 1");
    for (int64_t i = 0; i < n && (i + 1) * len <= static_cast<int64_t>(tokens.size()); ++i) {
        auto t = at::empty({len}, at::kLong);
        auto* p = t.data_ptr<int64_t>();
        for (int64_t j = 0; j < len; ++j)
            p[j] = tokens[i * len + j];
        out.push_back(t);
    }
    if (out.empty() && tokens.size() >= 2) {
        auto t = at::empty({static_cast<int64_t>(tokens.size())}, at::kLong);
        for (size_t j = 0; j < tokens.size(); ++j)
            t.data_ptr<int64_t>()[j] = tokens[j];
        out.push_back(t);
    }
    if (out.empty())
        throw Error("calibration: the text has fewer than 2 tokens");
    return out;
}

ModelQuantizer::ModelQuantizer(LlamaModel& model) : model_(model), current_(QuantScheme::baseline("baseline"))
{
    names_ = model.linearNames();
    for (const auto& n : names_) {
        auto dense = std::dynamic_pointer_cast<const DenseLinear>(model.linear(n));
        if (!dense)
            throw Error("quantizer: " + n + " is not a dense linear (model already quantized?)");
        base_[n] = dense;
    }
    for (const auto& L : model.layers)
        baseNorms_.emplace_back(L.input_layernorm, L.post_attention_layernorm);
    if (model.lm_head_op)
        throw Error("quantizer: the lm_head is already replaced (model already quantized?)");
    baseLmHead_ = std::make_shared<DenseLinear>(model.lm_head);
    baseDtype_ = model.dtype() == at::kBFloat16 ? "BF16" : model.dtype() == at::kHalf ? "FP16" : "FP32";
    current_ = QuantScheme::baseline(baseDtype_);
}

ModelQuantizer::~ModelQuantizer() = default;

void ModelQuantizer::restore()
{
    for (const auto& n : names_)
        model_.setLinear(n, base_.at(n));
    for (size_t i = 0; i < model_.layers.size(); ++i) {
        model_.layers[i].input_layernorm = baseNorms_[i].first;
        model_.layers[i].post_attention_layernorm = baseNorms_[i].second;
    }
    model_.lm_head_op = nullptr;
    current_ = QuantScheme::baseline(baseDtype_); // the model's dtype, not the last scheme's label
    releaseFreeMemory(); // the previous scheme's codes and buffers go back to the system now
}

const ActivationStats& ModelQuantizer::calibrate(const std::vector<at::Tensor>& windows, const ProgressFn& progress)
{
    restore();
    const size_t L = model_.layers.size();
    std::vector<std::shared_ptr<RecordingLinear>> attn(L), mlp(L), o(L), down(L);
    for (size_t i = 0; i < L; ++i) {
        auto rec = [&](std::vector<std::shared_ptr<RecordingLinear>>& v, const char* slot) {
            v[i] = std::make_shared<RecordingLinear>(base_.at(layerName(i, slot)));
            model_.setLinear(layerName(i, slot), v[i]);
        };
        rec(attn, "self_attn.q_proj");
        rec(mlp, "mlp.gate_proj");
        rec(o, "self_attn.o_proj");
        rec(down, "mlp.down_proj");
    }
    try {
        runWindows(model_, windows, progress);
    } catch (...) {
        restore();
        throw;
    }
    restore();
    stats_ = ActivationStats{};
    for (size_t i = 0; i < L; ++i) {
        stats_.attn_in.push_back(attn[i]->amax());
        stats_.mlp_in.push_back(mlp[i]->amax());
        stats_.o_in.push_back(o[i]->amax());
        stats_.down_in.push_back(down[i]->amax());
    }
    stats_.sequences = static_cast<int64_t>(windows.size());
    for (const auto& w : windows)
        stats_.tokens += w.numel();
    return stats_;
}

std::vector<std::pair<at::Tensor, at::Tensor>> ModelQuantizer::smoothingFactors(double alpha) const
{
    if (!calibrated())
        throw Error("SmoothQuant: the model has not been calibrated");
    std::vector<std::pair<at::Tensor, at::Tensor>> factors;
    auto factor = [&](const at::Tensor& xmax, std::initializer_list<const char*> slots, size_t i) {
        at::Tensor wmax;
        for (const char* s : slots) {
            const at::Tensor& w = base_.at(layerName(i, s))->weight();
            auto m = std::get<0>(w.abs().max(0)).to(at::kCPU, at::kFloat); // per input channel
            wmax = wmax.defined() ? at::maximum(wmax, m) : m;
        }
        // s_j = max|X_j|^alpha / max|W_j|^(1 - alpha); channels never seen or all-zero keep 1.
        auto s = at::pow(xmax, alpha) / at::pow(wmax, 1.0 - alpha);
        s = at::where((xmax > 0).logical_and(wmax > 0), s, at::ones_like(s));
        return at::clamp_min(s, 1e-5);
    };
    for (size_t i = 0; i < model_.layers.size(); ++i)
        factors.emplace_back(factor(stats_.attn_in[i], {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}, i),
                             factor(stats_.mlp_in[i], {"mlp.gate_proj", "mlp.up_proj"}, i));
    return factors;
}

std::shared_ptr<const DenseLinear> ModelQuantizer::smoothedLinear(const std::string& name,
                                                                  const std::vector<std::pair<at::Tensor, at::Tensor>>& factors) const
{
    const auto& base = base_.at(name);
    size_t layer = 0;
    const int grp = smoothGroup(name, &layer);
    if (grp < 0)
        return base;
    const at::Tensor& s = grp == 0 ? factors.at(layer).first : factors.at(layer).second;
    const at::Tensor& w = base->weight();
    auto sw = (w.to(at::kFloat) * s.to(w.device()).unsqueeze(0)).to(w.scalar_type());
    return std::make_shared<DenseLinear>(sw, base->bias());
}

void ModelQuantizer::setSmoothedNorms(const std::vector<std::pair<at::Tensor, at::Tensor>>& factors)
{
    for (size_t i = 0; i < model_.layers.size(); ++i) {
        auto& L = model_.layers[i];
        const auto& n1 = baseNorms_[i].first;
        const auto& n2 = baseNorms_[i].second;
        L.input_layernorm = (n1.to(at::kFloat) / factors[i].first.to(n1.device())).to(n1.scalar_type());
        L.post_attention_layernorm = (n2.to(at::kFloat) / factors[i].second.to(n2.device())).to(n2.scalar_type());
    }
}

std::vector<std::pair<at::Tensor, at::Tensor>> ModelQuantizer::smooth(double alpha)
{
    auto factors = smoothingFactors(alpha);
    setSmoothedNorms(factors);
    for (const auto& n : names_)
        model_.setLinear(n, smoothedLinear(n, factors));
    return factors;
}

QuantizeReport ModelQuantizer::apply(const QuantScheme& scheme)
{
    if (auto why = scheme.validate(); !why.empty())
        throw Error("scheme " + scheme.name() + ": " + why);
    auto t0 = std::chrono::steady_clock::now();
    restore();
    QuantizeReport r;
    r.scheme = scheme.name();
    r.model_bytes_before = model_.weightBytes();
    for (const auto& n : names_)
        r.linear_bytes_before += base_.at(n)->weightBytes();
    if (scheme.isBaseline()) {
        r.linear_bytes_after = r.linear_bytes_before;
        r.model_bytes_after = r.model_bytes_before;
        return r;
    }
    try {
        // One linear at a time: the smoothed copy of a weight (SmoothQuant) lives only until its
        // quantized op is built, and each op replaces its baseline slot before the next is made.
        std::vector<std::pair<at::Tensor, at::Tensor>> factors;
        if (scheme.smoothing == Smoothing::SmoothQuant) {
            factors = smoothingFactors(scheme.alpha);
            setSmoothedNorms(factors);
        }
        const std::set<std::string> keep(scheme.keep.begin(), scheme.keep.end());
        for (const auto& k : keep)
            if (!base_.count(k))
                throw Error("scheme " + scheme.name() + ": the model has no linear " + k + " to keep (it has " +
                            std::to_string(model_.layers.size()) + " decoder layers)");
        for (const auto& n : names_) {
            auto dense = factors.empty() ? base_.at(n) : smoothedLinear(n, factors);
            // Mixed precision: a kept linear stays dense in the baseline dtype (smoothed when its group
            // is, since the norm before it carries 1/s).
            LinearPtr op = keep.count(n) ? LinearPtr(dense) : LinearPtr(makeQuantLinear(dense, scheme));
            r.linear_bytes_after += op->weightBytes();
            model_.setLinear(n, op);
            ++r.linears;
            // The transients (a float copy to smooth, the unpacked codes) go back every 7 linears (about
            // a decoder layer), or their pages stay resident as free heap and the peak grows with them;
            // per linear would re-fault the same pages 168 times (+2.6 s on Qwen2.5-0.5B).
            if (r.linears % 7 == 0)
                releaseFreeMemory();
        }
        if (scheme.lm_head) { // weight-only, unsmoothed, the scheme's weight format
            QuantScheme wo = scheme;
            wo.activation = ActQuant::None;
            wo.smoothing = Smoothing::None;
            wo.lm_head = false;
            if (wo.granularity != Granularity::PerGroup)
                wo.group_size = 0;
            model_.lm_head_op = makeQuantLinear(baseLmHead_, wo);
        }
    } catch (...) {
        restore();
        throw;
    }
    releaseFreeMemory();
    current_ = scheme;
    r.model_bytes_after = model_.weightBytes();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

std::map<std::string, at::Tensor> captureLinearInputs(LlamaModel& model, const std::vector<at::Tensor>& windows,
                                                      int64_t maxRows, const ProgressFn& progress)
{
    // q/k/v see the same input, and so do gate/up: one capture each (q_proj's, gate_proj's), shared
    // by the others, kept in the model's dtype (the exact values the linears receive).
    auto source = [](const std::string& n) {
        for (const char* s : {"self_attn.k_proj", "self_attn.v_proj"})
            if (n.size() > std::strlen(s) && n.compare(n.size() - std::strlen(s), std::string::npos, s) == 0)
                return n.substr(0, n.size() - std::strlen(s)) + "self_attn.q_proj";
        const char* up = "mlp.up_proj";
        if (n.size() > std::strlen(up) && n.compare(n.size() - std::strlen(up), std::string::npos, up) == 0)
            return n.substr(0, n.size() - std::strlen(up)) + "mlp.gate_proj";
        return n;
    };
    auto names = model.linearNames();
    std::map<std::string, LinearPtr> saved;
    std::map<std::string, std::shared_ptr<CaptureLinear>> caps;
    for (const auto& n : names) {
        saved[n] = model.linear(n);
        if (source(n) != n)
            continue;
        caps[n] = std::make_shared<CaptureLinear>(saved[n], maxRows);
        model.setLinear(n, caps[n]);
    }
    auto putBack = [&] {
        for (const auto& n : names)
            model.setLinear(n, saved[n]);
    };
    try {
        runWindows(model, windows, progress);
    } catch (...) {
        putBack();
        throw;
    }
    putBack();
    std::map<std::string, at::Tensor> out;
    for (const auto& n : names)
        out[n] = caps.at(source(n))->rows();
    return out;
}

MatmulAccuracy matmulAccuracy(ModelQuantizer& q, const QuantScheme& scheme,
                              const std::map<std::string, at::Tensor>& inputs, const ProgressFn& progress)
{
    torch::NoGradGuard noGrad;
    LlamaModel& model = q.model();
    MatmulAccuracy acc;
    acc.scheme = scheme.name();
    std::vector<std::pair<at::Tensor, at::Tensor>> factors;
    if (scheme.smoothing == Smoothing::SmoothQuant)
        factors = q.smoothingFactors(scheme.alpha);
    double errSq = 0, refSq = 0, cosSum = 0, maxAbs = 0, worst = INFINITY;
    const int64_t total = static_cast<int64_t>(inputs.size());
    int64_t done = 0;
    for (const auto& [name, x] : inputs) {
        if (progress && !progress(done, total))
            throw Cancelled();
        ++done;
        if (!x.defined())
            continue;
        auto base = std::dynamic_pointer_cast<const DenseLinear>(model.linear(name));
        if (!base)
            throw Error("matmul accuracy: the model must be in its baseline state");
        auto w = base->weight().to(at::kCPU, at::kFloat).contiguous();
        const at::Tensor bias = base->bias().defined() ? base->bias().to(at::kCPU, at::kFloat) : at::Tensor();
        auto yRef = denseMatmul(x.to(at::kFloat), w, bias); // float32 reference
        at::Tensor xin = x;
        std::shared_ptr<const DenseLinear> src = base;
        size_t layer = 0;
        int grp = smoothGroup(name, &layer);
        if (!factors.empty() && grp >= 0) {
            const auto& s = grp == 0 ? factors[layer].first : factors[layer].second;
            xin = x.to(at::kFloat) / s.unsqueeze(0);
            src = q.smoothedLinear(name, factors);
        }
        // A linear the mixed-precision scheme keeps runs the baseline op (smoothed when its group is).
        const bool kept = std::find(scheme.keep.begin(), scheme.keep.end(), name) != scheme.keep.end();
        LinearPtr op = kept ? LinearPtr(src) : LinearPtr(makeQuantLinear(src, scheme));
        auto yq = op->forward(xin.to(model.device(), model.dtype())).to(at::kCPU, at::kFloat);
        auto diff = yq - yRef;
        LayerAccuracy la;
        la.name = name;
        la.out = w.size(0);
        la.in = w.size(1);
        la.rows = x.size(0);
        double e2 = diff.pow(2).sum().item<double>();
        double r2 = yRef.pow(2).sum().item<double>();
        la.rel_fro_error = r2 > 0 ? std::sqrt(e2 / r2) : 0.0;
        la.sqnr_db = e2 > 0 ? 10.0 * std::log10(r2 / e2) : INFINITY;
        double nq = yq.norm().item<double>(), nr = std::sqrt(r2);
        la.cosine = nq > 0 && nr > 0 ? (yq * yRef).sum().item<double>() / (nq * nr) : 1.0;
        la.max_abs_error = diff.abs().max().item<double>();
        errSq += e2;
        refSq += r2;
        cosSum += la.cosine;
        maxAbs = std::max(maxAbs, la.max_abs_error);
        worst = std::min(worst, la.sqnr_db);
        acc.layers.push_back(la);
    }
    if (!acc.layers.empty()) {
        acc.rel_fro_error = refSq > 0 ? std::sqrt(errSq / refSq) : 0.0;
        acc.sqnr_db = errSq > 0 ? 10.0 * std::log10(refSq / errSq) : INFINITY;
        acc.cosine = cosSum / acc.layers.size();
        acc.max_abs_error = maxAbs;
        acc.sqnr_db_min = worst;
    }
    return acc;
}

} // namespace qb
