#include "core/model/dense_gemm.h"

#include "kernels/gemm_dense.h"
#include "kernels/gemm_int8_onednn.h"
#include "kernels/gemm_wo.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace qb {

namespace k = qb::kernels;

namespace {

std::atomic<int> g_forced{-1}; // -1: not read yet, 0: none, 1: torch, 2: kernels

int forced()
{
    int f = g_forced.load(std::memory_order_relaxed);
    if (f < 0) {
        const char* e = std::getenv("QB_DENSE");
        f = e && std::strcmp(e, "torch") == 0 ? 1 : e && std::strcmp(e, "kernels") == 0 ? 2 : 0;
        g_forced = f;
    }
    return f;
}

} // namespace

void forceDensePath(std::optional<DensePath> p)
{
    g_forced = !p ? 0 : *p == DensePath::Torch ? 1 : 2;
}

bool libtorchHasFastBf16()
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const bool ok = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                           __builtin_cpu_supports("avx512dq");
    return ok;
#else
    return false;
#endif
}

DensePath densePath(at::ScalarType dtype, int64_t rows)
{
    if ((dtype != at::kFloat && dtype != at::kBFloat16) || k::isa() < k::Isa::Avx2)
        return DensePath::Torch;
    if (const int f = forced())
        return f == 1 ? DensePath::Torch : DensePath::Kernels;
    if (dtype == at::kBFloat16 && rows > k::gemm_dense_gemv_rows() && libtorchHasFastBf16())
        return DensePath::Torch;
    return DensePath::Kernels;
}

std::string densePolicy()
{
    auto name = [](DensePath p) { return p == DensePath::Kernels ? "kernels" : "libtorch"; };
    return std::string("fp32: ") + name(densePath(at::kFloat, 512)) + ", bf16: " + name(densePath(at::kBFloat16, 512)) +
           " (GEMV: " + name(densePath(at::kBFloat16, 1)) + "), kernels ISA " + k::isa_name(k::isa()) +
           "; INT8 W8A8 per-row/tensor: " + (k::onednn_int8_available() ? k::onednn_info() : std::string("kernels")) +
           "; weight-only prefill (bf16 X): " + (k::wo_prefill_onednn() ? "oneDNN bf16 on decoded blocks" : "kernels");
}

k::DenseGemmArgs denseArgs(const at::Tensor& x2d, const at::Tensor& w, const at::Tensor& biasF32, const at::Tensor& y)
{
    const k::DType dt = w.scalar_type() == at::kFloat ? k::DType::F32 : k::DType::BF16;
    k::DenseGemmArgs a;
    a.M = x2d.size(0);
    a.N = w.size(0);
    a.K = w.size(1);
    a.x = x2d.data_ptr();
    a.x_type = dt;
    a.ldx = a.K;
    a.w = w.data_ptr();
    a.w_type = dt;
    a.ldw = a.K;
    a.bias = biasF32.defined() ? biasF32.data_ptr<float>() : nullptr;
    a.y = y.data_ptr();
    a.y_type = dt;
    a.ldy = a.N;
    return a;
}

at::Tensor denseMatmul(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias, const at::Tensor& biasF32)
{
    const int64_t in = w.size(1), out = w.size(0);
    const bool usable = x.device().is_cpu() && w.device().is_cpu() && x.scalar_type() == w.scalar_type() &&
                        x.size(-1) == in && w.is_contiguous() && x.numel() > 0;
    if (!usable)
        return at::linear(x, w, bias);
    const int64_t rows = x.numel() / in;
    if (densePath(w.scalar_type(), rows) == DensePath::Torch)
        return at::linear(x, w, bias);
    const at::Tensor x2d = x.reshape({rows, in}).contiguous();
    at::Tensor b32 = biasF32;
    if (bias.defined() && !b32.defined())
        b32 = bias.to(at::kFloat).contiguous();
    at::Tensor y = at::empty({rows, out}, x.options());
    const k::DenseGemmArgs a = denseArgs(x2d, w, b32, y);
    k::gemm_dense(a);
    auto shape = x.sizes().vec();
    shape.back() = out;
    return y.view(shape);
}

} // namespace qb
