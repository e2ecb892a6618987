#include "core/report/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace qb {

void Table::markBest()
{
    for (size_t c = 0; c < columns.size() && c < better.size(); ++c) {
        if (better[c] == Better::None)
            continue;
        std::optional<double> best;
        for (const auto& r : rows)
            if (c < r.size() && r[c].value && std::isfinite(*r[c].value))
                if (!best || (better[c] == Better::Lower ? *r[c].value < *best : *r[c].value > *best))
                    best = r[c].value;
        if (!best)
            continue;
        for (auto& r : rows)
            if (c < r.size() && r[c].value && std::abs(*r[c].value - *best) <= 1e-12 * std::max(1.0, std::abs(*best)))
                r[c].bold = true;
    }
}

static std::string mdEscape(const std::string& s)
{
    std::string o;
    for (char ch : s) {
        if (ch == '|')
            o += "\\|";
        else if (ch == '\n')
            o += ' ';
        else
            o += ch;
    }
    return o;
}

std::string Table::markdown() const
{
    std::ostringstream os;
    os << "### " << title << "\n\n|";
    for (const auto& c : columns)
        os << ' ' << mdEscape(c) << " |";
    os << "\n|";
    for (size_t c = 0; c < columns.size(); ++c)
        os << (c < 2 ? "---|" : "---:|");
    os << '\n';
    for (const auto& r : rows) {
        os << '|';
        for (size_t c = 0; c < columns.size(); ++c) {
            std::string t = c < r.size() ? mdEscape(r[c].text) : "";
            if (c < r.size() && r[c].bold && !t.empty())
                t = "**" + t + "**";
            os << ' ' << t << " |";
        }
        os << '\n';
    }
    for (const auto& n : notes)
        os << "\n" << n << '\n';
    return os.str();
}

std::string csvEscape(const std::string& s)
{
    if (s.find_first_of(",\"\n\r") == std::string::npos)
        return s;
    std::string o = "\"";
    for (char c : s) {
        if (c == '"')
            o += '"';
        o += c;
    }
    return o + "\"";
}

std::string Table::csv() const
{
    // A column whose cells carry an error gets a second column "<name> ±"; its main column then
    // holds the value text alone.
    std::vector<bool> withErr(columns.size(), false);
    for (const auto& r : rows)
        for (size_t c = 0; c < columns.size() && c < r.size(); ++c)
            withErr[c] = withErr[c] || r[c].err.has_value();
    std::ostringstream os;
    for (size_t c = 0; c < columns.size(); ++c) {
        os << (c ? "," : "") << csvEscape(columns[c]);
        if (withErr[c])
            os << ',' << csvEscape(columns[c] + " ±");
    }
    os << '\n';
    for (const auto& r : rows) {
        for (size_t c = 0; c < columns.size(); ++c) {
            std::string t = c < r.size() ? r[c].text : "";
            const bool e = c < r.size() && r[c].err.has_value();
            if (e) {
                // The number alone: "v ± e" and "v (lo–hi)" keep only v.
                if (const size_t pm = std::min(t.find(" ± "), t.find(" (")); pm != std::string::npos)
                    t = t.substr(0, pm);
            }
            os << (c ? "," : "") << csvEscape(t);
            if (withErr[c]) {
                os << ',';
                if (e && std::isfinite(*r[c].err)) {
                    char b[48];
                    std::snprintf(b, sizeof b, "%.6g", *r[c].err);
                    os << b;
                }
            }
        }
        os << '\n';
    }
    return os.str();
}

nlohmann::json Table::toJson() const
{
    nlohmann::json rs = nlohmann::json::array();
    for (const auto& r : rows) {
        nlohmann::json row = nlohmann::json::array();
        for (const auto& c : r) {
            nlohmann::json cell = {{"text", c.text}, {"bold", c.bold}};
            if (c.value && std::isfinite(*c.value))
                cell["value"] = *c.value;
            if (c.err && std::isfinite(*c.err))
                cell["err"] = *c.err;
            row.push_back(cell);
        }
        rs.push_back(row);
    }
    return {{"id", id}, {"title", title}, {"columns", columns}, {"rows", rs}, {"notes", notes}};
}

} // namespace qb
