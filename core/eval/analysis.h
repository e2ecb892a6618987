#pragma once
// Why a scheme loses accuracy (docs/analysis.md):
// - sensitivity: one unit (decoder linear or layer) quantized at a time from the in-memory baseline,
//   KL / ΔNLL vs the baseline on a few windows, matmul SQNR and the weight / activation statistics
//   that predict it, then the measured mixed-precision curve and the smallest keep-set that meets a
//   budget;
// - outliers: per-channel activation max (from SmoothQuant's calibration pass) and weight per-column
//   max, before and after smoothing, with the max/median ratio per layer x projection.
#include "core/eval/tasks.h"
#include "core/quant/scheme.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace qb {

class ModelQuantizer;

struct UnitSensitivity {
    std::string name;                 // the linear, or "model.layers.N" in layer mode
    int64_t layer = 0;
    std::string proj;                 // q k v o gate up down, or "layer"
    std::vector<std::string> linears; // what the unit quantizes
    double kl = 0, kl_p99 = 0, top1 = 1, dnll = 0;
    double sqnr_db = 0; // layer mode: the worst linear
    double w_absmax = 0, w_kurtosis = 0, x_absmax = 0, x_kurtosis = 0, x_outlier_frac = 0;
    uint64_t bytes_base = 0, bytes_quant = 0;

    nlohmann::json toJson() const;
    static UnitSensitivity fromJson(const nlohmann::json& j); // checkpoint lines (throws on a bad one)
};

struct CurvePoint {
    int64_t k = 0;
    double kl = 0, ppl = 0, dppl = 0, nll = 0;
    uint64_t linear_bytes = 0;
    std::string scheme;
    bool refined = false; // added by the bisection
    nlohmann::json toJson() const;
};

struct SensitivityResult {
    std::string mode;
    int64_t windows = 0, len = 0, tokens = 0;
    double base_nll = 0, base_ppl = 0;
    uint64_t base_linear_bytes = 0;
    std::vector<UnitSensitivity> units; // model order
    std::vector<size_t> ranking;        // indices into units, most sensitive first
    std::vector<CurvePoint> curve;      // sorted by k
    CurvePoint recommended;
    std::vector<std::string> recommendedKeep; // full linear names
    bool met = false;
    double budget_kl = -1, budget_dppl = -1;
    nlohmann::json toJson() const;
};

// The units of a mode, in model order ("linear": every decoder linear; "layer": one per layer).
std::vector<UnitSensitivity> sensitivityUnits(const std::vector<std::string>& linearNames, const std::string& mode);

// `q` must hold the baseline (it is restored on return, also on error or cancel). `tokens` is the
// calibration text. Units already in `resumed` (by name, same settings) are not measured again;
// `onUnit` is called after each newly measured unit (the checkpoint).
SensitivityResult analyzeSensitivity(ModelQuantizer& q, const QuantScheme& scheme, const std::vector<int32_t>& tokens,
                                     const SensitivityTaskSettings& settings, const EvalHooks& hooks,
                                     const std::vector<UnitSensitivity>& resumed = {},
                                     const std::function<void(const UnitSensitivity&)>& onUnit = {});

// Needs q.calibrated(). alpha: the SmoothQuant alpha whose smoothed values are added (none: before only).
nlohmann::json outlierReport(const ModelQuantizer& q, std::optional<double> alpha);

// max / median of a per-channel max vector (1 when the median is 0).
double maxOverMedian(const std::vector<float>& v);

} // namespace qb
