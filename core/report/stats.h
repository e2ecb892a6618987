#pragma once
// Significance tests used by the report to decide whether a difference is a finding.
#include <cstdint>
#include <string>

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

} // namespace qb
