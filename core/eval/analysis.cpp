#include "core/eval/analysis.h"

#include "core/eval/ppl.h"
#include "core/eval/ppl_ref.h"
#include "core/model/linear.h"
#include "core/model/llama.h"
#include "core/quant/model_quantizer.h"
#include "core/quant/quant_linear.h"
#include "core/quant/scheme.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace qb {

using nlohmann::json;

namespace {

// (layer, slot) of a decoder linear name; slot -1 when it is not one.
std::pair<int64_t, int> parseLinear(const std::string& n)
{
    int64_t layer = 0;
    int slot = -1;
    return splitDecoderLinear(n, &layer, &slot) ? std::make_pair(layer, slot) : std::make_pair(int64_t(0), -1);
}

double roundSig(double v, int digits = 4)
{
    if (v == 0 || !std::isfinite(v))
        return v;
    const double e = std::floor(std::log10(std::fabs(v)));
    const double scale = std::pow(10.0, double(digits - 1) - e);
    return std::round(v * scale) / scale;
}

json roundedArray(const at::Tensor& t)
{
    auto c = t.to(at::kCPU, at::kFloat).contiguous();
    const float* p = c.data_ptr<float>();
    json a = json::array();
    for (int64_t i = 0; i < c.numel(); ++i)
        a.push_back(roundSig(p[i]));
    return a;
}

std::vector<float> toVector(const at::Tensor& t)
{
    auto c = t.to(at::kCPU, at::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

double finiteOr(double v, double d) { return std::isfinite(v) ? v : d; }

// The kurtosis E[(x - mean)^4] / var^2 of all values (3 for a Gaussian).
double kurtosis(const at::Tensor& x)
{
    auto d = x.to(at::kDouble).reshape({-1});
    if (d.numel() < 2)
        return 0;
    auto c = d - d.mean();
    double var = c.pow(2).mean().item<double>();
    return var > 0 ? c.pow(4).mean().item<double>() / (var * var) : 0.0;
}

// A quantized linear that sees x / s: the SmoothQuant form of one linear alone (the norm before it
// stays the baseline's, so swapping one unit never touches the others).
class ScaledInputLinear final : public LinearOp {
public:
    ScaledInputLinear(LinearPtr inner, at::Tensor s) : inner_(std::move(inner)), s_(std::move(s)) {}
    at::Tensor forward(const at::Tensor& x) const override
    {
        if (!sDev_.defined() || sDev_.device() != x.device())
            sDev_ = s_.to(x.device(), at::kFloat);
        return inner_->forward((x.to(at::kFloat) / sDev_).to(x.scalar_type()));
    }
    int64_t inFeatures() const override { return inner_->inFeatures(); }
    int64_t outFeatures() const override { return inner_->outFeatures(); }
    uint64_t weightBytes() const override { return inner_->weightBytes(); }
    std::string describe() const override { return "smoothed-input " + inner_->describe(); }

private:
    LinearPtr inner_;
    at::Tensor s_;
    mutable at::Tensor sDev_;
};

struct Score {
    double kl = 0, kl_p99 = 0, top1 = 1, nll = 0, ppl = 0;
};

} // namespace

json UnitSensitivity::toJson() const
{
    return {{"name", name},
            {"short", proj == "layer" ? "L" + std::to_string(layer) : shortLinearName(name)},
            {"layer", layer},
            {"proj", proj},
            {"linears", linears},
            {"kl", kl},
            {"kl_p99", kl_p99},
            {"top1", top1},
            {"dnll", dnll},
            {"sqnr_db", finiteOr(sqnr_db, 999.0)},
            {"w_absmax", w_absmax},
            {"w_kurtosis", w_kurtosis},
            {"x_absmax", x_absmax},
            {"x_kurtosis", x_kurtosis},
            {"x_outlier_frac", x_outlier_frac},
            {"bytes_base", bytes_base},
            {"bytes_quant", bytes_quant}};
}

UnitSensitivity UnitSensitivity::fromJson(const json& j)
{
    UnitSensitivity u;
    try {
        u.name = j.at("name").get<std::string>();
        u.layer = j.at("layer").get<int64_t>();
        u.proj = j.at("proj").get<std::string>();
        u.linears = j.at("linears").get<std::vector<std::string>>();
        u.kl = j.at("kl").get<double>();
        u.kl_p99 = j.at("kl_p99").get<double>();
        u.top1 = j.at("top1").get<double>();
        u.dnll = j.at("dnll").get<double>();
        u.sqnr_db = j.at("sqnr_db").get<double>();
        u.w_absmax = j.at("w_absmax").get<double>();
        u.w_kurtosis = j.at("w_kurtosis").get<double>();
        u.x_absmax = j.at("x_absmax").get<double>();
        u.x_kurtosis = j.at("x_kurtosis").get<double>();
        u.x_outlier_frac = j.at("x_outlier_frac").get<double>();
        u.bytes_base = j.at("bytes_base").get<uint64_t>();
        u.bytes_quant = j.at("bytes_quant").get<uint64_t>();
    } catch (const json::exception& e) {
        throw Error(std::string("sensitivity checkpoint: malformed unit: ") + e.what());
    }
    return u;
}

json CurvePoint::toJson() const
{
    return {{"k", k}, {"kl", kl}, {"ppl", ppl}, {"dppl", dppl}, {"nll", nll},
            {"linear_bytes", linear_bytes}, {"scheme", scheme}, {"refined", refined}};
}

json SensitivityResult::toJson() const
{
    json u = json::array(), r = json::array(), c = json::array(), keepShort = json::array();
    for (const auto& x : units)
        u.push_back(x.toJson());
    for (size_t i : ranking)
        r.push_back(units[i].name);
    for (const auto& p : curve)
        c.push_back(p.toJson());
    for (const auto& k : recommendedKeep)
        keepShort.push_back(shortLinearName(k));
    json rec = recommended.toJson();
    rec["keep"] = keepShort;
    rec["met"] = met;
    return {{"mode", mode},          {"windows", windows}, {"len", len},     {"tokens", tokens},
            {"base_nll", base_nll},  {"base_ppl", base_ppl}, {"baseline_linear_bytes", base_linear_bytes},
            {"units", u},            {"ranking", r},       {"curve", c},
            {"budget", {{"kl", budget_kl}, {"dppl", budget_dppl}}},
            {"recommended", rec}};
}

std::vector<UnitSensitivity> sensitivityUnits(const std::vector<std::string>& linearNames, const std::string& mode)
{
    std::vector<std::pair<std::pair<int64_t, int>, std::string>> sorted;
    for (const auto& n : linearNames) {
        auto ls = parseLinear(n);
        if (ls.second >= 0)
            sorted.push_back({ls, n});
    }
    std::sort(sorted.begin(), sorted.end());
    std::vector<UnitSensitivity> out;
    for (const auto& [ls, n] : sorted) {
        if (mode == "layer") {
            if (out.empty() || out.back().layer != ls.first) {
                UnitSensitivity u;
                u.name = "model.layers." + std::to_string(ls.first);
                u.layer = ls.first;
                u.proj = "layer";
                out.push_back(u);
            }
            out.back().linears.push_back(n);
        } else {
            UnitSensitivity u;
            u.name = n;
            u.layer = ls.first;
            u.proj = slotShortName(ls.second);
            u.linears = {n};
            out.push_back(u);
        }
    }
    return out;
}

SensitivityResult analyzeSensitivity(ModelQuantizer& q, const QuantScheme& scheme, const std::vector<int32_t>& tokens,
                                     const SensitivityTaskSettings& st, const EvalHooks& hooks,
                                     const std::vector<UnitSensitivity>& resumed,
                                     const std::function<void(const UnitSensitivity&)>& onUnit)
{
    torch::NoGradGuard noGrad;
    if (scheme.isBaseline())
        throw Error("sensitivity: the baseline has nothing to analyse");
    if (st.mode != "linear" && st.mode != "layer")
        throw Error("sensitivity: mode must be linear or layer, not " + st.mode);
    LlamaModel& model = q.model();
    q.restore();
    SensitivityResult res;
    res.mode = st.mode;
    res.budget_kl = st.budget_kl;
    res.budget_dppl = st.budget_dppl;
    QuantScheme unitScheme = scheme; // units are single linears; the scheme's keep list is the curve's business
    unitScheme.keep.clear();
    unitScheme.lm_head = false;

    const int64_t len = std::min<int64_t>(st.len, model.config().max_position_embeddings);
    res.len = len;
    const auto windows = tokenWindows(tokens, st.windows, len);
    res.windows = int64_t(windows.size());
    for (const auto& w : windows)
        res.tokens += w.numel();

    res.units = sensitivityUnits(model.linearNames(), st.mode);
    const int64_t N = int64_t(res.units.size());
    if (N == 0)
        throw Error("sensitivity: the model has no decoder linears");
    std::vector<int64_t> ks;
    for (int64_t k = 0; k < N; k = k == 0 ? 1 : k * 2)
        ks.push_back(k);
    ks.push_back(N);
    const int64_t total = N + int64_t(ks.size()) + int64_t(std::ceil(std::log2(double(N) + 1)));
    int64_t done = 0;
    auto step = [&] {
        ++done;
        if (hooks.progress)
            hooks.progress(std::min(done, total), total);
        hooks.check();
    };
    auto cont = [&](int64_t, int64_t) { return !hooks.cancelled(); };

    try {
        // The baseline reference on the windows; its NLL is the mean -log p_base of the correct tokens
        // the reference already holds (no second baseline pass).
        const PplReference ref = makePplReference(model, tokens, len, res.windows, st.topk, hooks);
        const bool exact = st.topk >= model.config().vocab_size;
        {
            double sum = 0;
            int64_t n = 0;
            for (const auto& t : ref.targetLogp) {
                sum -= t.to(at::kDouble).sum().item<double>();
                n += t.numel();
            }
            res.base_nll = n > 0 ? sum / double(n) : 0.0;
            res.base_ppl = std::exp(res.base_nll);
        }
        PplOptions po;
        po.ctx = len;
        po.maxWindows = res.windows;
        po.reference = &ref;
        auto score = [&]() {
            PplResult p = perplexity(model, tokens, po, cont);
            KlResult k = klSummary(p.klPerToken, p.top1Match, exact);
            return Score{k.mean_kl, k.p99_kl, k.top1_agreement, p.meanNll, p.ppl};
        };
        for (const auto& n : model.linearNames())
            res.base_linear_bytes += q.baseLinear(n)->weightBytes();

        // Matmul SQNR of every linear and the statistics on captured activations.
        const auto inputs = captureLinearInputs(model, windows, st.max_rows, cont);
        const MatmulAccuracy acc = matmulAccuracy(q, unitScheme, inputs, cont);
        std::map<std::string, double> sqnr;
        for (const auto& l : acc.layers)
            sqnr[l.name] = l.sqnr_db;

        std::vector<std::pair<at::Tensor, at::Tensor>> factors;
        if (scheme.smoothing == Smoothing::SmoothQuant)
            factors = q.smoothingFactors(scheme.alpha);
        std::map<std::string, const UnitSensitivity*> have;
        for (const auto& u : resumed)
            have[u.name] = &u;

        for (auto& u : res.units) {
            if (auto it = have.find(u.name); it != have.end() && it->second->linears == u.linears) {
                u = *it->second;
                step();
                continue;
            }
            bool first = true;
            for (const auto& n : u.linears) {
                auto base = q.baseLinear(n);
                const at::Tensor w = base->weight().to(at::kCPU, at::kFloat);
                double wmax = w.abs().max().item<double>(), wk = kurtosis(w);
                double xmax = 0, xk = 0, xfrac = 0;
                if (auto it = inputs.find(n); it != inputs.end() && it->second.defined() && it->second.numel() > 0) {
                    const at::Tensor x = it->second.to(at::kFloat);
                    xmax = x.abs().max().item<double>();
                    xk = kurtosis(x);
                    const double sigma = x.std().item<double>();
                    auto chan = std::get<0>(x.abs().max(0));
                    xfrac = sigma > 0 ? (chan > 6.0 * sigma).to(at::kFloat).mean().item<double>() : 0.0;
                }
                const double s = sqnr.count(n) ? sqnr[n] : INFINITY;
                u.sqnr_db = first ? s : std::min(u.sqnr_db, s);
                u.w_absmax = first ? wmax : std::max(u.w_absmax, wmax);
                u.w_kurtosis = first ? wk : std::max(u.w_kurtosis, wk);
                u.x_absmax = first ? xmax : std::max(u.x_absmax, xmax);
                u.x_kurtosis = first ? xk : std::max(u.x_kurtosis, xk);
                u.x_outlier_frac = first ? xfrac : std::max(u.x_outlier_frac, xfrac);
                first = false;
            }
            // Swap the unit's slots only, score, put the baseline back.
            u.bytes_base = u.bytes_quant = 0;
            for (const auto& n : u.linears) {
                auto base = q.baseLinear(n);
                u.bytes_base += base->weightBytes();
                LinearPtr op;
                if (!factors.empty()) {
                    auto sm = q.smoothedLinear(n, factors);
                    auto qop = makeQuantLinear(sm, unitScheme);
                    u.bytes_quant += qop->weightBytes();
                    op = sm == base ? LinearPtr(qop) : LinearPtr(std::make_shared<ScaledInputLinear>(qop, [&] {
                        auto ls = parseLinear(n);
                        return ls.second <= 2 ? factors[size_t(ls.first)].first : factors[size_t(ls.first)].second;
                    }()));
                } else {
                    op = makeQuantLinear(base, unitScheme);
                    u.bytes_quant += op->weightBytes();
                }
                model.setLinear(n, op);
            }
            Score sc = score();
            for (const auto& n : u.linears)
                model.setLinear(n, q.baseLinear(n));
            u.kl = sc.kl;
            u.kl_p99 = sc.kl_p99;
            u.top1 = sc.top1;
            u.dnll = sc.nll - res.base_nll;
            if (onUnit)
                onUnit(u);
            step();
        }

        // Ranking: KL first, ΔNLL breaks ties (units with no measurable KL keep model order).
        res.ranking.resize(res.units.size());
        for (size_t i = 0; i < res.ranking.size(); ++i)
            res.ranking[i] = i;
        std::stable_sort(res.ranking.begin(), res.ranking.end(), [&](size_t a, size_t b) {
            if (res.units[a].kl != res.units[b].kl)
                return res.units[a].kl > res.units[b].kl;
            return res.units[a].dnll > res.units[b].dnll;
        });

        // The curve, measured with the whole scheme applied (real mode honours the keep list).
        auto keepOf = [&](int64_t k) {
            std::vector<std::string> keep = scheme.keep;
            for (int64_t i = 0; i < k; ++i)
                for (const auto& n : res.units[res.ranking[size_t(i)]].linears)
                    keep.push_back(n);
            return canonicalKeepList(keep, "sensitivity");
        };
        auto measure = [&](int64_t k, bool refined) {
            QuantScheme s = scheme;
            s.keep = keepOf(k);
            QuantizeReport qr = q.apply(s);
            Score sc = score();
            q.restore();
            CurvePoint p;
            p.k = k;
            p.kl = sc.kl;
            p.nll = sc.nll;
            p.ppl = sc.ppl;
            p.dppl = sc.ppl - res.base_ppl;
            p.linear_bytes = qr.linear_bytes_after;
            p.scheme = s.name();
            p.refined = refined;
            res.curve.push_back(p);
            step();
            return p;
        };
        auto meets = [&](const CurvePoint& p) {
            return (st.budget_kl < 0 || p.kl <= st.budget_kl) && (st.budget_dppl < 0 || p.dppl <= st.budget_dppl);
        };
        for (int64_t k : ks)
            measure(k, false);
        // The first measured k that meets the budget, then bisection towards the previous one.
        int64_t hi = -1, lo = -1;
        for (size_t i = 0; i < res.curve.size(); ++i)
            if (meets(res.curve[i])) {
                hi = res.curve[i].k;
                lo = i > 0 ? res.curve[i - 1].k : -1;
                break;
            }
        while (hi >= 0 && lo >= 0 && hi - lo > 1) {
            const int64_t mid = (lo + hi) / 2;
            if (meets(measure(mid, true)))
                hi = mid;
            else
                lo = mid;
        }
        std::sort(res.curve.begin(), res.curve.end(), [](const CurvePoint& a, const CurvePoint& b) { return a.k < b.k; });
        res.met = hi >= 0;
        const int64_t pick = res.met ? hi : N;
        for (const auto& p : res.curve)
            if (p.k == pick)
                res.recommended = p;
        res.recommendedKeep = keepOf(pick);
    } catch (...) {
        q.restore();
        throw;
    }
    q.restore();
    // The bisection is budgeted at its worst case; a shorter one still ends the bar at 100 %.
    if (hooks.progress && done < total)
        hooks.progress(total, total);
    return res;
}

double maxOverMedian(const std::vector<float>& v)
{
    if (v.empty())
        return 1;
    std::vector<float> s = v;
    std::nth_element(s.begin(), s.begin() + s.size() / 2, s.end());
    const double med = s[s.size() / 2];
    const double mx = *std::max_element(v.begin(), v.end());
    return med > 0 ? mx / med : 1.0;
}

json outlierReport(const ModelQuantizer& q, std::optional<double> alpha)
{
    if (!q.calibrated())
        throw Error("outliers: the model has not been calibrated");
    const ActivationStats& st = q.stats();
    std::vector<std::pair<at::Tensor, at::Tensor>> factors;
    if (alpha)
        factors = q.smoothingFactors(*alpha);
    json layers = json::array(), heat = json::array();
    std::vector<double> ratios, ratiosSmoothable, ratiosSmoothed; // all inputs; attn + mlp before / after
    double worst = 0;
    int64_t worstLayer = 0;
    const size_t L = st.attn_in.size();
    for (size_t i = 0; i < L; ++i) {
        auto colMax = [&](int slot) {
            return std::get<0>(q.baseLinear(decoderLinearName(int64_t(i), slot))->weight().to(at::kCPU, at::kFloat).abs().max(0));
        };
        std::vector<at::Tensor> wcol(kDecoderSlots);
        for (int s = 0; s < kDecoderSlots; ++s)
            wcol[size_t(s)] = colMax(s);
        struct Input {
            const char* name;
            at::Tensor act;
            std::vector<int> slots;
            int group; // smoothing group: 0 attn, 1 mlp, -1 none
        };
        const Input inputs[] = {{"attn", st.attn_in[i], {0, 1, 2}, 0},
                                {"o", i < st.o_in.size() ? st.o_in[i] : at::Tensor(), {3}, -1},
                                {"mlp", st.mlp_in[i], {4, 5}, 1},
                                {"down", i < st.down_in.size() ? st.down_in[i] : at::Tensor(), {6}, -1}};
        json layer = {{"layer", i}};
        for (const auto& in : inputs) {
            if (!in.act.defined())
                continue;
            at::Tensor w;
            for (int s : in.slots)
                w = w.defined() ? at::maximum(w, wcol[size_t(s)]) : wcol[size_t(s)];
            json e = {{"act", roundedArray(in.act)}, {"w", roundedArray(w)}};
            const double ar = maxOverMedian(toVector(in.act));
            double ars = NAN;
            at::Tensor sfac;
            if (!factors.empty() && in.group >= 0) {
                sfac = in.group == 0 ? factors[i].first : factors[i].second;
                auto as = in.act / sfac;
                e["act_smoothed"] = roundedArray(as);
                e["w_smoothed"] = roundedArray(w * sfac);
                ars = maxOverMedian(toVector(as));
            }
            layer[in.name] = e;
            ratios.push_back(ar);
            if (in.group >= 0)
                ratiosSmoothable.push_back(ar);
            if (std::isfinite(ars))
                ratiosSmoothed.push_back(ars); // o and down are not smoothed: not part of the comparison
            if (ar > worst) {
                worst = ar;
                worstLayer = int64_t(i);
            }
            for (int s : in.slots) {
                json h = {{"layer", i},
                          {"proj", slotShortName(s)},
                          {"input", in.name},
                          {"act_ratio", roundSig(ar)},
                          {"act_max", roundSig(in.act.max().item<double>())},
                          {"w_ratio", roundSig(maxOverMedian(toVector(wcol[size_t(s)])))}};
                if (sfac.defined()) {
                    h["act_ratio_smoothed"] = roundSig(ars);
                    h["w_ratio_smoothed"] = roundSig(maxOverMedian(toVector(wcol[size_t(s)] * sfac)));
                }
                heat.push_back(h);
            }
        }
        layers.push_back(layer);
    }
    auto median = [](std::vector<double> v) {
        if (v.empty())
            return 0.0;
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
    };
    json out = {{"alpha", alpha ? json(*alpha) : json(nullptr)},
                {"sequences", st.sequences},
                {"tokens", st.tokens},
                {"layers", layers},
                {"heat", heat},
                {"act_ratio_max", ratios.empty() ? 0.0 : *std::max_element(ratios.begin(), ratios.end())},
                {"act_ratio_median", median(ratios)},
                {"worst_layer", worstLayer}};
    if (!ratiosSmoothable.empty())
        out["act_ratio_max_smoothable"] = *std::max_element(ratiosSmoothable.begin(), ratiosSmoothable.end());
    if (!ratiosSmoothed.empty())
        out["act_ratio_max_smoothed"] = *std::max_element(ratiosSmoothed.begin(), ratiosSmoothed.end());
    return out;
}

} // namespace qb
