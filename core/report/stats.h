#pragma once
// Significance tests used by the report to decide whether a difference is a finding.
#include <cstdint>
#include <string>
#include <vector>

namespace qb {

// Paired comparison of two per-question correctness strings ('1'/'0', same questions, same order).
struct McNemar {
    int64_t n = 0;         // questions compared
    int64_t b = 0;         // a right, b wrong
    int64_t c = 0;         // a wrong, b right
    double p = 1.0;        // two-sided
    std::string method;    // "exact binomial" (b + c < 25) or "chi-square, continuity corrected"
    bool valid = false;    // false when the strings differ in length or are empty
};

McNemar mcnemar(const std::string& a, const std::string& b);
// From discordant counts: exact two-sided binomial (p = min(1, 2 * P[X <= min(b,c)]),
// X ~ Bin(b + c, 1/2)) when b + c < 25, else chi2 = (|b - c| - 1)^2 / (b + c), 1 dof.
double mcnemarP(int64_t b, int64_t c, std::string* method = nullptr);

// Two independent estimates with standard errors: z = (x - y) / sqrt(sx^2 + sy^2) and its
// two-sided normal p-value. PPL windows are the same tokens for both, so this is conservative.
struct ZTest {
    double z = 0, p = 1;
    bool valid = false;
};
ZTest zTest(double x, double sx, double y, double sy);

// Unpaired two-proportion test (used when per-question data is missing).
ZTest twoProportions(double p1, double n1, double p2, double n2);

// Paired comparison of two per-item vectors of the same items (per-token NLL, per-question
// correctness): d_i = a_i - b_i, mean, sample sd, stderr = sd / sqrt(n), z = mean / stderr and
// its two-sided normal p-value. Invalid when the lengths differ or n < 2.
struct Paired {
    int64_t n = 0;
    double mean = 0, sd = 0, se = 0, z = 0, p = 1;
    bool valid = false;
};
Paired pairedDiff(const std::vector<float>& a, const std::vector<float>& b);
Paired pairedDiff(const std::vector<double>& d); // the differences themselves

// Percentile by nearest rank: the ceil(q * n)-th smallest value (q in [0, 1]; q = 0 -> min).
// `sorted` must be ascending.
double percentileSorted(const std::vector<double>& sorted, double q);

// Mean and standard error (sd / sqrt(n), sample sd) of a vector.
std::pair<double, double> meanStderr(const std::vector<double>& v);

// Seeded percentile bootstrap of the mean of `d` (resample n items with replacement, `reps`
// times, a splitmix64 stream from `seed` so the same seed gives the same interval on every
// platform). Returns {lo, hi} of the central `level` interval.
std::pair<double, double> bootstrapMeanCi(const std::vector<double>& d, int reps, uint64_t seed, double level = 0.95);

// Minimum detectable effect of a two-sided z-test at alpha = 0.05 with 80 % power for a test
// whose standard error is `se`: (1.96 + 0.8416) * se.
inline double minimumDetectableEffect(double se) { return (1.959964 + 0.841621) * se; }

} // namespace qb
