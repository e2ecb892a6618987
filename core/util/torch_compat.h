#pragma once
// The one place where libtorch 1.13 (Debian, CI) and 2.x (official CUDA builds) differ.
// Everything else in core/ calls these instead of version-specific API.
#include <torch/torch.h>
#include <cstdint>
#include <optional>
#include <string>

namespace qb::compat {

std::string torchVersion();        // "1.13.1", "2.5.1", ...
bool torchBuiltWithCuda();
bool cudaAvailable();
std::string cudaDeviceName(int index);
int cudaComputeCapability(int index); // major*10+minor, 0 when unknown
// Device memory: free bytes now (cudaMemGetInfo; 0 without CUDA), the caching allocator's peak
// allocated bytes since the last reset (0 without CUDA), and the reset.
uint64_t cudaFreeBytes(int index);
uint64_t cudaPeakAllocatedBytes(int index);
void cudaResetPeak(int index);
// Throws qb::Error naming `what`, the bytes needed and the bytes free on the device.
void requireDeviceMemory(int index, uint64_t needed, const std::string& what);

// FP8 scalar types exist from libtorch 2.1 (at::kFloat8_e4m3fn / at::kFloat8_e5m2);
// nullopt on older versions, so callers can say "needs libtorch >= 2.1".
std::optional<at::ScalarType> float8E4M3Type();
std::optional<at::ScalarType> float8E5M2Type();

// Whether at::scaled_dot_product_attention with an explicit `scale` exists (libtorch >= 2.1).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
inline constexpr bool kFusedAttention = true;
#else
inline constexpr bool kFusedAttention = false;
#endif

// Attention with an additive float mask (no mask: every key visible).
// q: (B, H, Tq, D), k/v: (B, H, Tk, D), mask broadcastable to (B, H, Tq, Tk).
// Uses fused SDPA where kFusedAttention, an explicit fp32 softmax otherwise; results agree
// within fp32 rounding.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& mask, double scale);

// Inference-only scope: c10::InferenceMode where it is usable, plus NoGradGuard.
class InferenceGuard {
public:
    InferenceGuard() = default;
private:
    torch::NoGradGuard no_grad_;
};

} // namespace qb::compat
