#pragma once
// Checked numbers out of JSON. nlohmann's get<int>() on 1e300, or get<float>() on 1e300, is a
// float-to-integer (or double-to-float) conversion out of range: undefined behaviour, not an
// exception. Every parser that turns a user's JSON number into a C++ integer or float goes
// through jsonNumber(), which says false instead when the value is not a number, is not
// finite, is fractional where an integer is wanted, or does not fit the target type.
// Header-only so that qb_tokenizer and the fuzz targets can use it without qb_core.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace qb {

template <class T> bool jsonNumber(const nlohmann::json& v, T& out)
{
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "jsonNumber is for numbers");
    if constexpr (std::is_integral_v<T>) {
        if (v.is_number_unsigned()) {
            const uint64_t u = v.get<uint64_t>();
            if (u > uint64_t(std::numeric_limits<T>::max()))
                return false;
            out = T(u);
            return true;
        }
        if (v.is_number_integer()) {
            const int64_t i = v.get<int64_t>();
            if constexpr (std::is_unsigned_v<T>) {
                if (i < 0 || uint64_t(i) > uint64_t(std::numeric_limits<T>::max()))
                    return false;
            } else {
                if (i < int64_t(std::numeric_limits<T>::min()) || i > int64_t(std::numeric_limits<T>::max()))
                    return false;
            }
            out = T(i);
            return true;
        }
        if (v.is_number_float()) {
            // 3.0 is accepted as 3 (JSON writers do that); 3.5 and 1e300 are not.
            const double d = v.get<double>();
            if (!std::isfinite(d) || d != std::floor(d))
                return false;
            // Compare in double against bounds that are exactly representable (2^63, 2^64).
            const double lo = std::is_signed_v<T> ? double(std::numeric_limits<T>::min()) : 0.0;
            const double hi = std::ldexp(1.0, std::numeric_limits<T>::digits); // exclusive
            if (d < lo || d >= hi)
                return false;
            out = T(d);
            return true;
        }
        return false;
    } else {
        if (!v.is_number())
            return false;
        const double d = v.get<double>();
        if (!std::isfinite(d) || std::fabs(d) > double(std::numeric_limits<T>::max()))
            return false;
        out = T(d);
        return true;
    }
}

} // namespace qb
