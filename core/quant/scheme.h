#pragma once
// A quantization scheme: what is quantized, how, and how it runs. The semantics are those of
// DESIGN.md and are recorded (as JSON) in every result so numbers stay comparable:
//   weight W [out, in]; per-tensor = 1 scale; per-row = 1 scale per output row;
//   per-group G = 1 scale per row per G consecutive input columns (last group may be partial,
//   G >= in is per-row); INT8 symmetric scale = amax / divisor (127 default, 127.5 as torchao),
//   FP8 E4M3FN scale = amax / 448; amax == 0 -> scale 1, codes 0.
// Canonical names follow the report style and parse back:
//   BF16 | FP32                     baseline (no quantization)
//   INT8_Per_Row                    weight-only, real (codes + scales, kernel consumes codes)
//   FP8_Per_Group_128_Fake          weight-only, fake (quantize -> dequantize, baseline dtype)
//   INT8_Per_Row_W8A8               + dynamic per-token activation quantization
//   INT8_Per_Tensor_W8A8_TensorAct  + dynamic per-tensor activation quantization
//   SmoothQuant_INT8_W8A8           SmoothQuant (alpha 0.5), per-row weights, per-token acts
//   SmoothQuant_FP8_W8A8_Alpha0.75_Fake
//   ..._Div127.5                    INT8 with the 127.5 divisor
//   ..._LmHead                      the lm_head (output projection) quantized too, weight-only with
//                                   the scheme's weight format (llama.cpp's quantized output.weight);
//                                   without it the lm_head stays in the baseline dtype (DESIGN.md)
//   INT8_Per_Tensor+keep:L0.down,L3.q  mixed precision: the listed decoder linears stay in the baseline
//                                   dtype (layer index . q|k|v|o|gate|up|down; full names such as
//                                   model.layers.0.mlp.down_proj parse too); the list is sorted
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace qb {

enum class QDType { None, INT8, FP8_E4M3 };
enum class Granularity { PerTensor, PerRow, PerGroup };
enum class ActQuant { None, PerToken, PerTensor };
enum class QuantMode { Fake, Real };
enum class Smoothing { None, SmoothQuant };

struct QuantScheme {
    QDType dtype = QDType::None;       // None = baseline
    Granularity granularity = Granularity::PerRow;
    int group_size = 0;                // > 0 only for PerGroup
    ActQuant activation = ActQuant::None;
    QuantMode mode = QuantMode::Real;
    Smoothing smoothing = Smoothing::None;
    double alpha = 0.5;                // SmoothQuant migration strength
    double int8_divisor = 127.0;       // 127 or 127.5
    std::string baseline_dtype = "BF16"; // name used for the baseline scheme
    bool lm_head = false;              // quantize the lm_head too (weight-only)
    // Decoder linears kept in the baseline dtype (full names, model.layers.N.self_attn.q_proj ...),
    // sorted by layer then q, k, v, o, gate, up, down; empty = every decoder linear is quantized.
    std::vector<std::string> keep;

    bool isBaseline() const { return dtype == QDType::None; }
    std::string name() const;                                   // canonical name
    static QuantScheme parse(const std::string& name);          // throws qb::Error naming the part
    static QuantScheme parseBase(const std::string& name);      // parse() without the +keep: suffix
    static QuantScheme baseline(const std::string& dtypeName);  // "BF16", "FP32", "FP16"
    static QuantScheme smoothQuant(QDType dt, double alpha = 0.5, QuantMode mode = QuantMode::Real);

    nlohmann::json toJson() const;
    static QuantScheme fromJson(const nlohmann::json& j, const std::string& where);
    std::string describe() const; // one sentence for tooltips and reports
    // Empty when the scheme is valid; otherwise why not (e.g. group size 0, W8A8 with per-group
    // activation, SmoothQuant with a granularity other than per-row).
    std::string validate() const;

    bool operator==(const QuantScheme& o) const { return name() == o.name(); }
};

// The seven decoder linears of a layer in model order (slot 0..6): short names q k v o gate up down;
// decoderLinearName(3, 0) = "model.layers.3.self_attn.q_proj"; splitDecoderLinear is its inverse
// (false for any other name).
constexpr int kDecoderSlots = 7;
const char* slotShortName(int slot);
std::string decoderLinearName(int64_t layer, int slot);
bool splitDecoderLinear(const std::string& full, int64_t* layer, int* slot);

// Mixed-precision names: "model.layers.3.self_attn.q_proj" <-> "L3.q". shortLinearName returns the
// name itself when it is not a decoder linear; fullLinearName throws qb::Error naming `where`.
std::string shortLinearName(const std::string& full);
std::string fullLinearName(const std::string& shortOrFull, const std::string& where);
// Sorted, duplicates removed, every entry a full name (throws naming `where` on a bad one).
std::vector<std::string> canonicalKeepList(const std::vector<std::string>& names, const std::string& where);

const char* toString(QDType);
const char* toString(Granularity);
const char* toString(ActQuant);
const char* toString(QuantMode);

// The sweep matrix of DESIGN.md: dtypes x granularities x modes (weight-only), in a stable order
// (baseline first is the caller's job).
std::vector<QuantScheme> schemeMatrix(const std::vector<QDType>& dtypes,
                                      const std::vector<std::pair<Granularity, int>>& granularities,
                                      const std::vector<QuantMode>& modes,
                                      ActQuant act = ActQuant::None, double int8Divisor = 127.0);

} // namespace qb
