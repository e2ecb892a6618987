#include "core/quant/quant_linear.h"

#include "core/model/dense_gemm.h"
#include "core/quant/fake_quant.h"
#include "core/util/error.h"
#include "kernels/fp8.h"
#include "kernels/gemm_int8.h"
#include "kernels/gemm_int8_onednn.h"
#include "kernels/gemm_wo.h"
#include "kernels/quant.h"
#ifdef QB_HAVE_CUDA_KERNELS
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace qb {

namespace k = qb::kernels;

namespace {

k::Gran toKernel(Granularity g)
{
    switch (g) {
    case Granularity::PerTensor: return k::Gran::Tensor;
    case Granularity::PerRow: return k::Gran::Row;
    case Granularity::PerGroup: return k::Gran::Group;
    }
    return k::Gran::Row;
}

k::DType kernelDType(at::ScalarType t)
{
    if (t == at::kFloat)
        return k::DType::F32;
    if (t == at::kBFloat16)
        return k::DType::BF16;
    throw Error("quantized linear: activations must be float32 or bfloat16");
}

// Group size as the kernels see it: G >= in is per row.
int64_t effectiveGroup(const QuantScheme& s, int64_t in)
{
    return s.granularity == Granularity::PerGroup && s.group_size < in ? s.group_size : 0;
}

Granularity effectiveGranularity(const QuantScheme& s, int64_t in)
{
    if (s.granularity == Granularity::PerGroup && s.group_size >= in)
        return Granularity::PerRow;
    return s.granularity;
}

// Granularity of stored scales: (1,1) per tensor, (out,1) per row, (out, ngroups) per group.
k::Gran storedGran(const at::Tensor& scales)
{
    return scales.size(1) > 1 ? k::Gran::Group : (scales.size(0) == 1 ? k::Gran::Tensor : k::Gran::Row);
}

// Weight-only GEMM arguments for x2d (M, in) -> y (M, out) over the stored codes, CPU or CUDA
// pointers alike; x and y share one dtype (float32 or bfloat16).
k::WoGemmArgs woArgs(const QuantScheme& scheme, const at::Tensor& codes, const at::Tensor& scales, const at::Tensor& bias,
                     const at::Tensor& x2d, const at::Tensor& y)
{
    k::WoGemmArgs a;
    a.M = x2d.size(0);
    a.N = codes.size(0);
    a.K = codes.size(1);
    a.x = x2d.data_ptr();
    a.x_type = kernelDType(x2d.scalar_type());
    a.ldx = a.K;
    a.w = codes.data_ptr();
    a.w_type = scheme.dtype == QDType::INT8 ? k::QType::INT8 : k::QType::FP8_E4M3;
    a.ldw = a.K;
    a.w_scales = scales.data_ptr<float>();
    a.w_gran = storedGran(scales);
    a.group = a.w_gran == k::Gran::Group ? scheme.group_size : 0;
    a.bias = bias.defined() ? bias.data_ptr<float>() : nullptr;
    a.y = y.data_ptr();
    a.y_type = kernelDType(y.scalar_type());
    a.ldy = a.N;
    return a;
}

} // namespace

// ---------------------------------------------------------------------------------- fake

namespace {

// The kernels' quantization spec of a scheme for a weight with `in` columns.
k::QuantSpec weightSpec(const QuantScheme& scheme, int64_t in)
{
    k::QuantSpec spec;
    spec.qtype = scheme.dtype == QDType::INT8 ? k::QType::INT8 : k::QType::FP8_E4M3;
    spec.gran = toKernel(effectiveGranularity(scheme, in));
    spec.group = effectiveGroup(scheme, in);
    if (spec.gran == k::Gran::Group && spec.group == 0)
        spec.gran = k::Gran::Row;
    spec.int8_divisor = float(scheme.int8_divisor);
    return spec;
}

} // namespace

FakeQuantLinear::FakeQuantLinear(const DenseLinear& base, const QuantScheme& scheme)
    : scheme_(scheme), out_(base.outFeatures()), in_(base.inFeatures()), dtype_(base.weight().scalar_type()),
      bias_(base.bias())
{
    const at::Tensor& w = base.weight();
    const bool kernelPath = w.device().is_cpu() && (dtype_ == at::kFloat || dtype_ == at::kBFloat16) &&
                            (scheme.granularity != Granularity::PerGroup || scheme.group_size > 0);
    if (!kernelPath) {
        weight_ = fakeQuantWeight(w, scheme.dtype, scheme.granularity, scheme.group_size, scheme.int8_divisor);
        return;
    }
    const k::QuantSpec spec = weightSpec(scheme, in_);
    const at::Tensor wc = w.contiguous();
    codes_ = at::empty({out_, in_}, scheme.dtype == QDType::INT8 ? at::kChar : at::kByte);
    scales_ = at::empty({k::num_scales(spec, out_, in_)}, at::kFloat);
    k::quantize(wc.data_ptr(), kernelDType(dtype_), out_, in_, in_, spec, codes_.data_ptr(), in_, scales_.data_ptr<float>());
    if (bias_.defined())
        biasF32_ = bias_.to(at::kFloat).contiguous();
}

void FakeQuantLinear::dequantizeInto(at::Tensor& out) const
{
    k::dequantize(codes_.data_ptr(), out_, in_, in_, weightSpec(scheme_, in_), scales_.data_ptr<float>(), out.data_ptr(),
                  kernelDType(dtype_), in_);
}

at::Tensor FakeQuantLinear::weight() const
{
    if (weight_.defined())
        return weight_;
    at::Tensor w = at::empty({out_, in_}, at::TensorOptions().dtype(dtype_));
    dequantizeInto(w);
    return w;
}

at::Tensor FakeQuantLinear::forward(const at::Tensor& x) const
{
    at::Tensor xin = fakeQuantActivation(x, scheme_.dtype, scheme_.activation, scheme_.int8_divisor);
    if (weight_.defined())
        return denseMatmul(xin, weight_, bias_);
    // One buffer per thread, reused by every fake linear: grows to the largest weight, never shrinks.
    static thread_local at::Tensor buffer;
    if (!buffer.defined() || buffer.scalar_type() != dtype_ || buffer.numel() < out_ * in_)
        buffer = at::empty({out_ * in_}, at::TensorOptions().dtype(dtype_));
    at::Tensor w = buffer.narrow(0, 0, out_ * in_).view({out_, in_});
    dequantizeInto(w);
    return denseMatmul(xin, w, bias_, biasF32_);
}

uint64_t FakeQuantLinear::weightBytes() const
{
    uint64_t b = weight_.defined() ? weight_.numel() * weight_.element_size() : codes_.numel() + scales_.numel() * 4;
    if (bias_.defined())
        b += bias_.numel() * bias_.element_size();
    return b;
}

std::string FakeQuantLinear::describe() const { return scheme_.name() + " (fake)"; }

// ---------------------------------------------------------------------------------- real

struct RealQuantLinear::Packed {
    k::OnednnInt8WeightPtr onednn; // oneDNN's blocked layout where it has a fast int8 kernel, else
    k::PackedInt8Weight w;         // our VNNI layout
};

RealQuantLinear::RealQuantLinear(const DenseLinear& base, const QuantScheme& scheme)
    : scheme_(scheme), out_(base.outFeatures()), in_(base.inFeatures())
{
    if (scheme.isBaseline())
        throw Error("RealQuantLinear: baseline scheme has nothing to quantize");
    // Quantize on the CPU with the kernels (the reference semantics), then move to the device. CPU
    // float32 / bfloat16 weights are read in place (widening bf16 is exact): no float copy.
    at::Tensor w = base.weight();
    if (!w.device().is_cpu() || (w.scalar_type() != at::kFloat && w.scalar_type() != at::kBFloat16))
        w = w.to(at::kCPU, at::kFloat);
    w = w.contiguous();
    const k::QuantSpec spec = weightSpec(scheme, in_);
    int64_t nScales = k::num_scales(spec, out_, in_);
    codes_ = at::empty({out_, in_}, scheme.dtype == QDType::INT8 ? at::kChar : at::kByte);
    at::Tensor flatScales = at::empty({nScales}, at::kFloat);
    k::quantize(w.data_ptr(), kernelDType(w.scalar_type()), out_, in_, in_, spec, codes_.data_ptr(), in_,
                flatScales.data_ptr<float>());
    if (spec.gran == k::Gran::Tensor)
        scales_ = flatScales.view({1, 1});
    else if (spec.gran == k::Gran::Row)
        scales_ = flatScales.view({out_, 1});
    else
        scales_ = flatScales.view({out_, nScales / out_});
    if (base.bias().defined())
        bias_ = base.bias().to(at::kCPU, at::kFloat).contiguous();

    torch::Device dev = base.weight().device();
    if (dev.is_cpu() && scheme.dtype == QDType::INT8 && scheme.activation != ActQuant::None) {
        packed_ = std::make_unique<Packed>();
        packed_->onednn = k::onednn_pack_int8(codes_.data_ptr<int8_t>(), out_, in_, in_, scales_.data_ptr<float>(), spec.gran);
        if (!packed_->onednn)
            packed_->w = k::pack_int8_weight(codes_.data_ptr<int8_t>(), out_, in_, in_, scales_.data_ptr<float>(),
                                             spec.gran, spec.group);
        codes_ = at::Tensor(); // the packed copy is what the kernel reads; keep memory honest
    } else if (!dev.is_cpu()) {
        codes_ = codes_.to(dev);
        scales_ = scales_.to(dev);
        if (bias_.defined())
            bias_ = bias_.to(dev);
    }
}

RealQuantLinear::~RealQuantLinear() = default;

uint64_t RealQuantLinear::weightBytes() const
{
    uint64_t b = 0;
    if (packed_)
        b += packed_->onednn ? k::onednn_weight_bytes(*packed_->onednn) : packed_->w.bytes();
    if (codes_.defined())
        b += codes_.numel();
    if (scales_.defined() && !packed_)
        b += scales_.numel() * 4;
    if (bias_.defined())
        b += bias_.numel() * 4;
    return b;
}

std::string RealQuantLinear::describe() const { return scheme_.name() + " (real)"; }

at::Tensor RealQuantLinear::dequantizedWeight() const
{
    if (packed_) // the VNNI layout is the only copy kept; matmul accuracy goes through forward()
        throw Error("dequantizedWeight: not available for prepacked INT8 W8A8 weights");
    at::Tensor codes = codes_.to(at::kCPU);
    at::Tensor f;
    if (scheme_.dtype == QDType::INT8) {
        f = codes.to(at::kFloat);
    } else {
        auto table = torch::from_blob(const_cast<float*>(k::fp8e4m3_table()), {256}, at::kFloat);
        f = table.index({codes.to(at::kLong)});
    }
    at::Tensor s = scales_.to(at::kCPU);
    if (s.size(1) > 1) // per group
        s = s.repeat_interleave(scheme_.group_size, 1).narrow(1, 0, in_);
    return f * s;
}

at::Tensor RealQuantLinear::forward(const at::Tensor& x) const
{
    TORCH_CHECK(x.size(-1) == in_, "RealQuantLinear: input has ", x.size(-1), " features, expected ", in_);
    auto lead = x.sizes().vec();
    lead.pop_back();
    at::Tensor x2d = x.reshape({-1, in_}).contiguous();
    at::Tensor y;
    if (x.device().is_cpu())
        y = forwardCpu(x2d);
#ifdef QB_HAVE_CUDA_KERNELS
    else if (x.device().is_cuda())
        y = forwardCuda(x2d);
#endif
    else
        y = forwardFallback(x2d);
    lead.push_back(out_);
    return y.view(lead);
}

at::Tensor RealQuantLinear::forwardCpu(const at::Tensor& x2d) const
{
    const int64_t M = x2d.size(0);
    const at::ScalarType dt = x2d.scalar_type();
    if (packed_) {
        // INT8 W8A8: dynamic activation quantization, then int8 x int8 -> int32 GEMM.
        at::Tensor xq = at::empty({M, in_}, at::kChar);
        at::Tensor xs;
        bool perTensor = scheme_.activation == ActQuant::PerTensor;
        if (perTensor) {
            xs = at::empty({1}, at::kFloat);
            k::QuantSpec spec{k::QType::INT8, k::Gran::Tensor, 0, float(scheme_.int8_divisor)};
            k::quantize(x2d.data_ptr(), kernelDType(dt), M, in_, in_, spec, xq.data_ptr(), in_, xs.data_ptr<float>());
        } else {
            xs = at::empty({M}, at::kFloat);
            k::quantize_rows_int8(x2d.data_ptr(), kernelDType(dt), M, in_, in_, float(scheme_.int8_divisor),
                                  xq.data_ptr<int8_t>(), in_, xs.data_ptr<float>());
        }
        k::Int8GemmArgs a;
        a.M = M;
        a.N = out_;
        a.K = in_;
        a.x = xq.data_ptr<int8_t>();
        a.ldx = in_;
        a.x_scales = xs.data_ptr<float>();
        a.x_per_tensor = perTensor;
        a.bias = bias_.defined() ? bias_.data_ptr<float>() : nullptr;
        if (packed_->onednn) {
            // The epilogue writes the output dtype (float32 / bfloat16, as quantize_rows_int8 took) directly.
            at::Tensor y = at::empty({M, out_}, x2d.options());
            k::gemm_int8_onednn(*packed_->onednn, a, y.data_ptr(), kernelDType(dt), out_);
            return y;
        }
        at::Tensor y = at::empty({M, out_}, at::kFloat);
        a.y = y.data_ptr<float>();
        a.ldy = out_;
        k::gemm_int8_packed(packed_->w, a);
        return dt == at::kFloat ? y : y.to(dt);
    }
    // Weight-only (and FP8 W8A8 with activations rounded to E4M3 first).
    at::Tensor xin = x2d;
    if (scheme_.activation != ActQuant::None)
        xin = fakeQuantActivation(x2d, scheme_.dtype, scheme_.activation, scheme_.int8_divisor).contiguous();
    at::Tensor y = at::empty({M, out_}, x2d.options());
    k::gemm_wo(woArgs(scheme_, codes_, scales_, bias_, xin, y));
    return y;
}

bool RealQuantLinear::prepareGemv(const at::Tensor& x2d, const at::Tensor& y, GemvCall& call) const
{
    // Weight-only on the CPU: forwardCpu is exactly one gemm_wo on (x2d, y).
    if (packed_ || scheme_.activation != ActQuant::None || !codes_.defined() || !codes_.device().is_cpu())
        return false;
    call.wo = woArgs(scheme_, codes_, scales_, bias_, x2d, y);
    call.job = {&call.wo, nullptr};
    return true;
}

#ifdef QB_HAVE_CUDA_KERNELS
// The CUDA path of forwardCpu, on device pointers and the default stream (libtorch's current
// stream unless a caller changes it): weight-only -> cuda::gemm_wo; INT8 W8A8 -> per-token (or
// per-tensor) int8 activations on the device, then cuda::gemm_int8 (dp4a, int32 per group);
// FP8 W8A8 with per-row/per-tensor weights -> E4M3 activations, then cuda::gemm_fp8 (cuBLASLt on
// sm_89+). FP8 with per-group weights keeps the CPU formulation (E4M3-rounded activations into
// the weight-only kernel), which Fp8GemmArgs has no scales for. fp16 activations run in float.
at::Tensor RealQuantLinear::forwardCuda(const at::Tensor& x2d) const
{
    namespace kc = k::cuda;
    const at::ScalarType dt = x2d.scalar_type();
    const at::Tensor x = dt == at::kFloat || dt == at::kBFloat16 ? x2d : x2d.to(at::kFloat).contiguous();
    const int64_t M = x.size(0);
    const k::DType xt = kernelDType(x.scalar_type());
    const k::Gran wGran = storedGran(scales_);
    const int64_t group = wGran == k::Gran::Group ? scheme_.group_size : 0;
    const float* bias = bias_.defined() ? bias_.data_ptr<float>() : nullptr;
    const bool int8 = scheme_.dtype == QDType::INT8;
    if (scheme_.activation != ActQuant::None && (int8 || wGran != k::Gran::Group)) {
        const bool perTensor = scheme_.activation == ActQuant::PerTensor;
        const k::QuantSpec spec{int8 ? k::QType::INT8 : k::QType::FP8_E4M3, perTensor ? k::Gran::Tensor : k::Gran::Row, 0,
                                float(scheme_.int8_divisor)};
        at::Tensor xq = at::empty({M, in_}, x.options().dtype(int8 ? at::kChar : at::kByte));
        at::Tensor xs = at::empty({perTensor ? 1 : M}, x.options().dtype(at::kFloat));
        if (perTensor) {
            kc::quantize(x.data_ptr(), xt, M, in_, in_, spec, xq.data_ptr(), in_, xs.data_ptr<float>());
        } else {
            constexpr int64_t kRows = 32768;                   // one launch handles < 65536 rows
            const int64_t xb = x.element_size();
            for (int64_t m0 = 0; m0 < M; m0 += kRows)
                kc::quantize(static_cast<const char*>(x.data_ptr()) + m0 * in_ * xb, xt, std::min(kRows, M - m0), in_, in_, spec,
                             static_cast<char*>(xq.data_ptr()) + m0 * in_, in_, xs.data_ptr<float>() + m0);
        }
        at::Tensor y = at::empty({M, out_}, x.options().dtype(at::kFloat));
        if (int8) {
            k::Int8GemmArgs a;
            a.M = M; a.N = out_; a.K = in_;
            a.x = xq.data_ptr<int8_t>(); a.ldx = in_; a.x_scales = xs.data_ptr<float>(); a.x_per_tensor = perTensor;
            a.w = codes_.data_ptr<int8_t>(); a.ldw = in_; a.w_scales = scales_.data_ptr<float>(); a.w_gran = wGran; a.group = group;
            a.bias = bias; a.y = y.data_ptr<float>(); a.ldy = out_;
            kc::gemm_int8(a);
        } else {
            k::Fp8GemmArgs a;
            a.M = M; a.N = out_; a.K = in_;
            a.x = xq.data_ptr<uint8_t>(); a.ldx = in_; a.x_scales = xs.data_ptr<float>(); a.x_per_tensor = perTensor;
            a.w = codes_.data_ptr<uint8_t>(); a.ldw = in_; a.w_scales = scales_.data_ptr<float>(); a.w_per_tensor = wGran == k::Gran::Tensor;
            a.bias = bias; a.y = y.data_ptr<float>(); a.ldy = out_;
            kc::gemm_fp8(a);
        }
        return y.to(dt);
    }
    const at::Tensor xin = scheme_.activation == ActQuant::None
                               ? x
                               : fakeQuantActivation(x, scheme_.dtype, scheme_.activation, scheme_.int8_divisor).contiguous();
    at::Tensor y = at::empty({M, out_}, x.options());
    kc::gemm_wo(woArgs(scheme_, codes_, scales_, bias_, xin, y));
    return y.scalar_type() == dt ? y : y.to(dt);
}
#endif

at::Tensor RealQuantLinear::forwardFallback(const at::Tensor& x2d) const
{
    // Devices without our kernels: decode the codes per call (memory at rest stays 8-bit).
    at::Tensor w;
    if (scheme_.dtype == QDType::INT8) {
        w = codes_.to(at::kFloat);
    } else {
        auto table = torch::from_blob(const_cast<float*>(k::fp8e4m3_table()), {256}, at::kFloat).to(codes_.device());
        w = table.index({codes_.to(at::kLong)});
    }
    at::Tensor s = scales_;
    if (s.size(1) > 1)
        s = s.repeat_interleave(scheme_.group_size, 1).narrow(1, 0, in_);
    w = (w * s).to(x2d.scalar_type());
    at::Tensor xin = fakeQuantActivation(x2d, scheme_.dtype, scheme_.activation, scheme_.int8_divisor);
    at::Tensor b = bias_.defined() ? bias_.to(x2d.scalar_type()) : at::Tensor();
    return at::linear(xin, w, b);
}

LinearPtr makeQuantLinear(const std::shared_ptr<const DenseLinear>& base, const QuantScheme& scheme)
{
    if (scheme.isBaseline())
        return base;
    if (scheme.mode == QuantMode::Fake)
        return std::make_shared<FakeQuantLinear>(*base, scheme);
    return std::make_shared<RealQuantLinear>(*base, scheme);
}

} // namespace qb
