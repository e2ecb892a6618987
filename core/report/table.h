#pragma once
// A report table: plain cells with an optional numeric value, so "best per column" can be
// decided on numbers and the same table renders as Markdown, CSV or JSON.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace qb {

enum class Better { None, Lower, Higher };

struct Cell {
    std::string text;
    std::optional<double> value; // what "best" compares; absent = not a candidate
    bool bold = false;
    // Standard error or CI half-width of `value`: Markdown shows it in the text ("v ± e"), CSV in
    // a separate "<column> ±" column, JSON as "err".
    std::optional<double> err;
};

struct Table {
    std::string id;    // "accuracy", "throughput", ...
    std::string title;
    std::vector<std::string> columns;
    std::vector<Better> better; // per column
    std::vector<std::vector<Cell>> rows;
    std::vector<std::string> notes;

    // Marks the best value of every column with a Better direction in bold (ties: all).
    void markBest();
    std::string markdown() const;
    std::string csv() const;
    nlohmann::json toJson() const;
};

std::string csvEscape(const std::string& s);

} // namespace qb
