#pragma once
// "a,b,,c" -> {"a", "b", "c"}: the comma lists of CLI options (--tasks, --schemes, --dtypes).
#include <sstream>
#include <string>
#include <vector>

namespace qb::cli {

inline std::vector<std::string> splitComma(const std::string& s)
{
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string x;
    while (std::getline(ss, x, ','))
        if (!x.empty())
            out.push_back(x);
    return out;
}

} // namespace qb::cli
