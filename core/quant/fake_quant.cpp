#include "core/quant/fake_quant.h"

#include "core/util/error.h"
#include "kernels/quant.h"

namespace qb {

namespace {

constexpr double kFp8Max = 448.0;

double qmaxOf(QDType dt, double int8Divisor) { return dt == QDType::INT8 ? int8Divisor : kFp8Max; }

// amax -> scale with the zero guard.
at::Tensor scaleFromAmax(const at::Tensor& amax, double qmax)
{
    auto s = amax / static_cast<float>(qmax);
    return at::where(amax > 0, s, at::ones_like(s));
}

// Pads W [out, in] with zeros to a multiple of G columns and views it as [out, ngroups, G].
at::Tensor groupView(const at::Tensor& w, int G)
{
    int64_t in = w.size(1);
    int64_t ng = (in + G - 1) / G;
    at::Tensor p = w;
    if (ng * G != in)
        p = at::constant_pad_nd(w, {0, ng * G - in}, 0);
    return p.view({w.size(0), ng, G});
}

at::Tensor codesFromScaled(const at::Tensor& v, QDType dt, double int8Divisor)
{
    if (dt == QDType::INT8) {
        double lo = int8Divisor == 127.5 ? -128.0 : -127.0;
        return at::clamp(at::round(v), lo, 127.0); // at::round is round-half-even
    }
    return roundToE4M3(v);
}

// quantize -> dequantize of rows of a CPU float32/bfloat16 tensor [rows, cols] with the raw-pointer
// kernels (vectorized, threaded; bit-identical to the libtorch formulation below, which
// tst_quant holds them to). Returns an undefined tensor where the kernels do not apply.
at::Tensor fakeQuantKernels(const at::Tensor& x2d, QDType dt, kernels::Gran g, int64_t group, double int8Divisor)
{
    namespace k = qb::kernels;
    const auto st = x2d.scalar_type();
    if (!x2d.device().is_cpu() || (st != at::kFloat && st != at::kBFloat16) || x2d.dim() != 2 || x2d.numel() == 0)
        return {};
    const at::Tensor x = x2d.contiguous();
    const int64_t rows = x.size(0), cols = x.size(1);
    const k::DType kt = st == at::kFloat ? k::DType::F32 : k::DType::BF16;
    const k::QuantSpec spec{dt == QDType::INT8 ? k::QType::INT8 : k::QType::FP8_E4M3, g, g == k::Gran::Group ? group : 0,
                            float(int8Divisor)};
    at::Tensor out = at::empty({rows, cols}, x.options());
    k::fake_quantize(x.data_ptr(), kt, rows, cols, cols, spec, out.data_ptr(), kt, cols);
    return out;
}

} // namespace

at::Tensor roundToE4M3(const at::Tensor& vIn)
{
    // On the E4M3 grid, |v| in [2^e, 2^(e+1)) has spacing 2^(e-3) for e >= -6; below 2^-6 the
    // subnormal spacing 2^-9 applies. Dividing by a power of two is exact, and at::round is
    // round-half-even, so this is RNE on the grid. frexp gives e exactly (no log2 rounding).
    auto v = vIn.to(at::kFloat);
    auto fr = at::frexp(v);                       // v = m * 2^ex, |m| in [0.5, 1)
    auto e = std::get<1>(fr).to(at::kFloat) - 1;  // |v| in [2^e, 2^(e+1))
    e = at::clamp_min(e, -6.0);
    auto quantum = at::pow(2.0, e - 3);
    auto r = at::round(v / quantum) * quantum;
    r = at::clamp(r, -kFp8Max, kFp8Max);
    return at::where(at::isnan(v), v, r);
}

at::Tensor weightScales(const at::Tensor& wIn, QDType dt, Granularity g, int groupSize, double int8Divisor)
{
    if (wIn.dim() != 2)
        throw Error("weightScales: expected a 2-D weight [out, in]");
    auto w = wIn.to(at::kFloat);
    double qmax = qmaxOf(dt, int8Divisor);
    switch (g) {
    case Granularity::PerTensor:
        return scaleFromAmax(w.abs().max().view({1, 1}), qmax);
    case Granularity::PerRow:
        return scaleFromAmax(std::get<0>(w.abs().max(1, /*keepdim=*/true)), qmax);
    case Granularity::PerGroup: {
        if (groupSize <= 0)
            throw Error("weightScales: group size must be > 0");
        if (groupSize >= w.size(1))
            return scaleFromAmax(std::get<0>(w.abs().max(1, true)), qmax);
        auto gv = groupView(w.abs(), groupSize);       // (out, ngroups, G)
        return scaleFromAmax(std::get<0>(gv.max(2)), qmax); // (out, ngroups)
    }
    }
    throw Error("weightScales: unknown granularity");
}

at::Tensor quantizeCodes(const at::Tensor& wIn, const at::Tensor& scales, QDType dt, Granularity g,
                         int groupSize, double int8Divisor)
{
    auto w = wIn.to(at::kFloat);
    if (g == Granularity::PerGroup && groupSize < w.size(1)) {
        int64_t in = w.size(1);
        auto gv = groupView(w, groupSize);                   // (out, ng, G)
        auto codes = codesFromScaled(gv / scales.unsqueeze(2), dt, int8Divisor);
        return codes.view({w.size(0), -1}).narrow(1, 0, in).contiguous();
    }
    return codesFromScaled(w / scales, dt, int8Divisor);
}

at::Tensor fakeQuantWeight(const at::Tensor& w, QDType dt, Granularity g, int groupSize, double int8Divisor)
{
    if (w.dim() == 2 && (g != Granularity::PerGroup || groupSize > 0)) {
        const auto kg = g == Granularity::PerTensor ? kernels::Gran::Tensor
                        : g == Granularity::PerRow || groupSize >= w.size(1) ? kernels::Gran::Row
                                                                             : kernels::Gran::Group;
        at::Tensor r = fakeQuantKernels(w, dt, kg, groupSize, int8Divisor);
        if (r.defined())
            return r;
    }
    return fakeQuantWeightTorch(w, dt, g, groupSize, int8Divisor);
}

at::Tensor fakeQuantWeightTorch(const at::Tensor& w, QDType dt, Granularity g, int groupSize, double int8Divisor)
{
    auto scales = weightScales(w, dt, g, groupSize, int8Divisor);
    auto codes = quantizeCodes(w, scales, dt, g, groupSize, int8Divisor);
    at::Tensor deq;
    if (g == Granularity::PerGroup && groupSize < w.size(1)) {
        auto full = scales.repeat_interleave(groupSize, 1).narrow(1, 0, w.size(1));
        deq = codes * full;
    } else {
        deq = codes * scales;
    }
    return deq.to(w.scalar_type());
}

at::Tensor fakeQuantActivation(const at::Tensor& x, QDType dt, ActQuant a, double int8Divisor)
{
    if (a == ActQuant::None)
        return x;
    if (x.dim() >= 1 && x.size(-1) > 0) {
        const at::Tensor x2d = x.reshape({-1, x.size(-1)});
        at::Tensor r = fakeQuantKernels(x2d, dt, a == ActQuant::PerToken ? kernels::Gran::Row : kernels::Gran::Tensor, 0,
                                        int8Divisor);
        if (r.defined())
            return r.view(x.sizes());
    }
    return fakeQuantActivationTorch(x, dt, a, int8Divisor);
}

at::Tensor fakeQuantActivationTorch(const at::Tensor& x, QDType dt, ActQuant a, double int8Divisor)
{
    if (a == ActQuant::None)
        return x;
    auto xf = x.to(at::kFloat);
    double qmax = qmaxOf(dt, int8Divisor);
    at::Tensor amax = a == ActQuant::PerToken ? std::get<0>(xf.abs().max(-1, /*keepdim=*/true))
                                              : xf.abs().max();
    auto scale = scaleFromAmax(amax, qmax);
    auto codes = codesFromScaled(xf / scale, dt, int8Divisor);
    return (codes * scale).to(x.scalar_type());
}

} // namespace qb
