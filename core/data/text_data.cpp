#include "core/data/text_data.h"

#include "core/data/sha256.h"
#include "core/util/error.h"
#include "core/util/read_file.h"

#include <fstream>
#include <sstream>

namespace qb {

TextDataset loadText(const std::filesystem::path& p)
{
    TextDataset t;
    t.path = p;
    t.text = readFileBounded(p, kTextCap, "text dataset"); // a regular file of at most 1 GiB
    if (t.text.empty())
        fail(p.string(), "text dataset is empty");
    t.sha256 = sha256Hex(t.text);
    t.bytes = t.text.size();
    return t;
}

} // namespace qb
