#pragma once
// Progress of a long call: progress(done, total) after each step; returning false cancels
// (the call then throws qb::Cancelled). Shared by PPL, calibration and matmul accuracy.
#include <cstdint>
#include <functional>

namespace qb {

using ProgressFn = std::function<bool(int64_t done, int64_t total)>;

} // namespace qb
