#include "core/report/stats.h"

#include <algorithm>
#include <cmath>

namespace qb {

double mcnemarP(int64_t b, int64_t c, std::string* method)
{
    int64_t n = b + c;
    if (n == 0) {
        if (method)
            *method = "exact binomial";
        return 1.0;
    }
    if (n < 25) {
        if (method)
            *method = "exact binomial";
        int64_t k = std::min(b, c);
        double sum = 0;
        for (int64_t i = 0; i <= k; ++i)
            sum += std::exp(std::lgamma(double(n + 1)) - std::lgamma(double(i + 1)) - std::lgamma(double(n - i + 1)) -
                            double(n) * std::log(2.0));
        return std::min(1.0, 2.0 * sum);
    }
    if (method)
        *method = "chi-square, continuity corrected";
    double d = std::max(0.0, std::abs(double(b - c)) - 1.0);
    double chi2 = d * d / double(n);
    return std::erfc(std::sqrt(chi2 / 2.0));
}

McNemar mcnemar(const std::string& a, const std::string& b)
{
    McNemar m;
    if (a.empty() || a.size() != b.size())
        return m;
    m.n = int64_t(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
        bool ra = a[i] == '1', rb = b[i] == '1';
        if (ra && !rb)
            ++m.b;
        else if (!ra && rb)
            ++m.c;
    }
    m.p = mcnemarP(m.b, m.c, &m.method);
    m.valid = true;
    return m;
}

ZTest zTest(double x, double sx, double y, double sy)
{
    ZTest t;
    double s = std::sqrt(sx * sx + sy * sy);
    if (!(s > 0) || !std::isfinite(s) || !std::isfinite(x) || !std::isfinite(y))
        return t;
    t.z = (x - y) / s;
    t.p = std::erfc(std::abs(t.z) / std::sqrt(2.0));
    t.valid = true;
    return t;
}

ZTest twoProportions(double p1, double n1, double p2, double n2)
{
    if (!(n1 > 0) || !(n2 > 0))
        return {};
    double p = (p1 * n1 + p2 * n2) / (n1 + n2);
    double s = std::sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
    ZTest t;
    if (!(s > 0))
        return t;
    t.z = (p1 - p2) / s;
    t.p = std::erfc(std::abs(t.z) / std::sqrt(2.0));
    t.valid = true;
    return t;
}

} // namespace qb
