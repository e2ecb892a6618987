#pragma once
// Per-token NLL of a PPL run, kept beside results.jsonl so a later report can compare two runs
// token by token (paired ΔNLL) instead of by their unpaired standard errors.
// File: "<config>.nll.<sha12>.f32" in the results file's folder, the raw float32 values in
// little-endian order (the hosts we build for), written atomically (core/util/atomic_write.h).
// The record's details.nll_sidecar = {"file", "sha256", "count", "dtype": "float32-le"}; the name
// carries the hash, so a resumed run never overwrites a file an older record points to.
#include "core/results/record.h"

#include <filesystem>
#include <string>
#include <vector>

namespace qb {

// Writes the sidecar of `rec.nll` in `dir` and sets rec.details["nll_sidecar"]. No-op when empty.
void writeNllSidecar(const std::filesystem::path& dir, ResultRecord& rec);

// Reads the sidecar a record references, relative to the folder of rec.source. Empty with `why`
// set when there is none, it is missing, its size or sha256 does not match the record.
std::vector<float> loadNllSidecar(const ResultRecord& rec, std::string* why);

} // namespace qb
