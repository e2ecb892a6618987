#pragma once
// Output files written whole or not at all. The bytes go to a temporary file in the target's
// own folder (so the rename cannot cross file systems); every write, the fsync and the close
// are checked, and only then is the temporary renamed over the target. A full disk or a failed
// write leaves the old file (or none) and throws qb::Error naming the file and the errno text;
// nothing half-written is ever left under the target's name.
//
// A target that resolves (through symlinks) to something that is not a regular file, such as
// /dev/stdout or /dev/full, cannot be replaced by a rename: it is written in place, with the
// same checks, so a failing device is still an error.
#include <filesystem>
#include <string>

namespace qb {

void writeFileAtomic(const std::filesystem::path& target, const std::string& bytes, const std::string& what);

} // namespace qb
