#pragma once
// Internal to analysis_specs*.cpp: tolerant readers of the analysis records' JSON and number
// formatting (a missing or mistyped field reads as NaN / "" / an empty array, never throws).
#include "ui/analysis_specs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace qb::ui {

namespace analysis_detail {

using nlohmann::json;


inline const json* field(const json& j, const char* key)
{
    if (!j.is_object())
        return nullptr;
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

inline double num(const json& j, const char* key)
{
    const json* p = field(j, key);
    return p && p->is_number() ? p->get<double>() : NAN;
}

inline std::string str(const json& j, const char* key)
{
    const json* p = field(j, key);
    return p && p->is_string() ? p->get<std::string>() : std::string();
}

inline const json& arrayOf(const json& j, const char* key)
{
    static const json empty = json::array();
    const json* p = field(j, key);
    return p && p->is_array() ? *p : empty;
}

inline std::string fmt(double v, const char* f = "%.3g")
{
    if (!std::isfinite(v))
        return "–";
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

inline std::string fmtBytes(double b)
{
    if (!std::isfinite(b) || b < 0)
        return "–";
    if (b >= 1e9)
        return fmt(b / 1e9, "%.3g") + " GB";
    if (b >= 1e6)
        return fmt(b / 1e6, "%.3g") + " MB";
    return fmt(b / 1e3, "%.3g") + " kB";
}

inline std::string signedFmt(double v) { return std::isfinite(v) && v >= 0 ? "+" + fmt(v) : fmt(v); }

inline int slotIndex(const std::string& proj)
{
    const auto& s = projSlots();
    auto it = std::find(s.begin(), s.end(), proj);
    return it == s.end() ? -1 : int(it - s.begin());
}

inline const json& sens(const qb::ResultRecord& r)
{
    static const json none = json::object();
    const json* s = field(r.details, "sensitivity");
    return s && s->is_object() ? *s : none;
}

inline const json& outl(const qb::ResultRecord& r)
{
    static const json none = json::object();
    const json* s = field(r.details, "outliers");
    return s && s->is_object() ? *s : none;
}

inline std::string baselineDtype(const qb::ResultRecord& r)
{
    const std::string d = str(r.scheme, "baseline_dtype");
    return d.empty() ? std::string("the baseline dtype") : d;
}

inline std::string inputWhat(const std::string& input)
{
    if (input == "attn")
        return "attn input (feeds q, k, v)";
    if (input == "o")
        return "o input (attention output)";
    if (input == "mlp")
        return "mlp input (feeds gate, up)";
    if (input == "down")
        return "down input (gate·up product)";
    return input + " input";
}

inline std::string csvField(const std::string& s)
{
    if (s.find_first_of(",\"\n") == std::string::npos)
        return s;
    std::string q = "\"";
    for (char c : s)
        q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + '"';
}

} // namespace analysis_detail

} // namespace qb::ui
