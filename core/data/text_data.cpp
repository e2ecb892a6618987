#include "core/data/text_data.h"

#include "core/data/sha256.h"
#include "core/util/error.h"

#include <fstream>
#include <sstream>

namespace qb {

TextDataset loadText(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in)
        fail(p.string(), "cannot open text dataset");
    std::ostringstream ss;
    ss << in.rdbuf();
    TextDataset t;
    t.path = p;
    t.text = ss.str();
    if (t.text.empty())
        fail(p.string(), "text dataset is empty");
    t.sha256 = sha256Hex(t.text);
    t.bytes = t.text.size();
    return t;
}

} // namespace qb
