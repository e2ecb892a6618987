#pragma once
// RFC 4180 CSV as the MMLU files use it: comma separated, fields optionally in double quotes,
// "" inside quotes is a quote, quoted fields may hold commas and newlines, CRLF or LF line ends.
// Each row remembers the line it starts on so errors and warnings can name it.
#include <cstdint>
#include <string>
#include <vector>

namespace qb {

struct CsvRow {
    std::vector<std::string> fields;
    int64_t line = 0; // 1-based line where the row starts
};

// Throws qb::Error "where:line: ..." for text that is not CSV at all (an unterminated quoted
// field, a quote in the middle of an unquoted field, text after a closing quote).
// Blank lines are skipped.
std::vector<CsvRow> parseCsv(const std::string& text, const std::string& where);

} // namespace qb
