#include "core/util/error.h"

#include <new>

namespace qb {

void fail(const std::string& where, const std::string& what)
{
    if (where.empty())
        throw Error(what);
    throw Error(where + ": " + what);
}

bool isOutOfMemory(const std::exception& e)
{
    if (dynamic_cast<const std::bad_alloc*>(&e))
        return true;
    const std::string w = e.what();
    return w.find("can't allocate memory") != std::string::npos || w.find("CUDA out of memory") != std::string::npos ||
           w.find("CUDA error: out of memory") != std::string::npos;
}

std::string describeException(const std::exception& e)
{
    std::string w = e.what();
    // c10::Error appends its backtrace after the message: "\nframe #0: ..." or "\nException raised from".
    for (const char* cut : {"\nframe #", "\nException raised from"})
        if (const size_t at = w.find(cut); at != std::string::npos)
            w.erase(at);
    while (!w.empty() && (w.back() == '\n' || w.back() == ' '))
        w.pop_back();
    if (dynamic_cast<const std::bad_alloc*>(&e))
        return "out of memory (std::bad_alloc)";
    if (isOutOfMemory(e))
        return "out of memory: " + w;
    return w;
}

} // namespace qb
