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

Paired pairedDiff(const std::vector<double>& d)
{
    Paired r;
    r.n = int64_t(d.size());
    if (r.n < 2)
        return r;
    double s = 0;
    for (double x : d)
        s += x;
    r.mean = s / double(r.n);
    double ss = 0;
    for (double x : d)
        ss += (x - r.mean) * (x - r.mean);
    r.sd = std::sqrt(ss / double(r.n - 1));
    r.se = r.sd / std::sqrt(double(r.n));
    if (r.se > 0) {
        r.z = r.mean / r.se;
        r.p = std::erfc(std::abs(r.z) / std::sqrt(2.0));
    } else {
        r.z = 0;
        r.p = r.mean == 0 ? 1.0 : 0.0; // every difference the same non-zero value
    }
    r.valid = std::isfinite(r.mean) && std::isfinite(r.se);
    return r;
}

Paired pairedDiff(const std::vector<float>& a, const std::vector<float>& b)
{
    if (a.size() != b.size())
        return {};
    std::vector<double> d(a.size());
    for (size_t i = 0; i < a.size(); ++i)
        d[i] = double(a[i]) - double(b[i]);
    return pairedDiff(d);
}

double percentileSorted(const std::vector<double>& sorted, double q)
{
    if (sorted.empty())
        return NAN;
    const int64_t n = int64_t(sorted.size());
    int64_t idx = int64_t(std::ceil(q * double(n))) - 1;
    idx = std::clamp<int64_t>(idx, 0, n - 1);
    return sorted[size_t(idx)];
}

std::pair<double, double> meanStderr(const std::vector<double>& v)
{
    if (v.empty())
        return {NAN, NAN};
    double s = 0;
    for (double x : v)
        s += x;
    const double m = s / double(v.size());
    if (v.size() < 2)
        return {m, NAN};
    double ss = 0;
    for (double x : v)
        ss += (x - m) * (x - m);
    return {m, std::sqrt(ss / double(v.size() - 1) / double(v.size()))};
}

std::pair<double, double> bootstrapMeanCi(const std::vector<double>& d, int reps, uint64_t seed, double level)
{
    if (d.empty() || reps < 1)
        return {NAN, NAN};
    uint64_t state = seed;
    auto next = [&state] { // splitmix64: fixed output for a fixed seed on every platform
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    const uint64_t n = d.size();
    std::vector<double> means(static_cast<size_t>(reps));
    for (int r = 0; r < reps; ++r) {
        double s = 0;
        for (uint64_t i = 0; i < n; ++i)
            s += d[size_t(next() % n)];
        means[size_t(r)] = s / double(n);
    }
    std::sort(means.begin(), means.end());
    const double tail = (1.0 - level) / 2.0;
    return {percentileSorted(means, tail), percentileSorted(means, 1.0 - tail)};
}

} // namespace qb
