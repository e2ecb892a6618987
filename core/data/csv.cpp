#include "core/data/csv.h"

#include "core/util/error.h"

namespace qb {

std::vector<CsvRow> parseCsv(const std::string& text, const std::string& where)
{
    std::vector<CsvRow> rows;
    CsvRow row;
    std::string field;
    int64_t line = 1;
    size_t i = 0, n = text.size();
    if (n >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0)
        i = 3; // UTF-8 byte order mark
    auto where_ = [&](int64_t l) { return where + ":" + std::to_string(l); };
    bool rowStarted = false;
    row.line = line;
    auto endRow = [&] {
        row.fields.push_back(std::move(field));
        field.clear();
        bool blank = row.fields.size() == 1 && row.fields[0].empty();
        if (!blank)
            rows.push_back(std::move(row));
        row = CsvRow{};
        rowStarted = false;
    };
    while (i < n) {
        if (!rowStarted) {
            row.line = line;
            rowStarted = true;
        }
        char c = text[i];
        if (c == '"' && field.empty()) {
            // quoted field: runs to the matching quote, may span lines
            int64_t startLine = line;
            ++i;
            bool closed = false;
            while (i < n) {
                char q = text[i];
                if (q == '"') {
                    if (i + 1 < n && text[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    closed = true;
                    ++i;
                    break;
                }
                if (q == '\n')
                    ++line;
                field += q;
                ++i;
            }
            if (!closed)
                fail(where_(startLine), "unterminated quoted field (a '\"' opens here and never closes)");
            if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                fail(where_(line), std::string("unexpected character '") + text[i] + "' after a closing quote");
            // the comma ends the field here (a quoted empty field must still count as a field);
            // a field after a trailing comma is added by endRow
            if (i < n && text[i] == ',') {
                row.fields.push_back(std::move(field));
                field.clear();
                ++i;
            }
            continue;
        }
        if (c == ',') {
            row.fields.push_back(std::move(field));
            field.clear();
            ++i;
        } else if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < n && text[i + 1] == '\n')
                ++i;
            ++i;
            endRow();
            ++line;
        } else {
            if (c == '"')
                fail(where_(line), "a '\"' inside an unquoted field (quote the whole field and double the quote)");
            field += c;
            ++i;
        }
    }
    if (rowStarted)
        endRow();
    return rows;
}

} // namespace qb
