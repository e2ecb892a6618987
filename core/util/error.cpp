#include "core/util/error.h"

namespace qb {

void fail(const std::string& where, const std::string& what)
{
    if (where.empty())
        throw Error(what);
    throw Error(where + ": " + what);
}

} // namespace qb
