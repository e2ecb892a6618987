#include "core/util/torch_compat.h"

#include "core/util/error.h"
#include "core/util/memory.h"

#include <torch/version.h>
#ifdef QB_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

namespace qb::compat {

std::string torchVersion()
{
    return TORCH_VERSION;
}

bool torchBuiltWithCuda()
{
#ifdef QB_HAVE_CUDA
    return true;
#else
    return torch::cuda::is_available(); // a CUDA libtorch without our kernels still reports it
#endif
}

bool cudaAvailable()
{
    return torch::cuda::is_available();
}

std::string cudaDeviceName(int index)
{
#ifdef QB_HAVE_CUDA
    if (!cudaAvailable())
        return {};
    return at::cuda::getDeviceProperties(index)->name;
#else
    (void)index;
    return cudaAvailable() ? std::string("CUDA device") : std::string();
#endif
}

int cudaComputeCapability(int index)
{
#ifdef QB_HAVE_CUDA
    if (!cudaAvailable())
        return 0;
    auto* p = at::cuda::getDeviceProperties(index);
    return p->major * 10 + p->minor;
#else
    (void)index;
    return 0;
#endif
}

uint64_t cudaFreeBytes(int index)
{
#ifdef QB_HAVE_CUDA
    if (!cudaAvailable())
        return 0;
    int prev = 0;
    cudaGetDevice(&prev);
    cudaSetDevice(index);
    size_t freeB = 0, total = 0;
    const bool ok = cudaMemGetInfo(&freeB, &total) == cudaSuccess;
    cudaSetDevice(prev);
    return ok ? uint64_t(freeB) : 0;
#else
    (void)index;
    return 0;
#endif
}

uint64_t cudaPeakAllocatedBytes(int index)
{
#ifdef QB_HAVE_CUDA
    if (!cudaAvailable())
        return 0;
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
    return uint64_t(stats.allocated_bytes[size_t(c10::cuda::CUDACachingAllocator::StatType::AGGREGATE)].peak);
#else
    (void)index;
    return 0;
#endif
}

void cudaResetPeak(int index)
{
#ifdef QB_HAVE_CUDA
    if (cudaAvailable())
        c10::cuda::CUDACachingAllocator::resetPeakStats(index);
#else
    (void)index;
#endif
}

void requireDeviceMemory(int index, uint64_t needed, const std::string& what)
{
    if (!cudaAvailable())
        return;
    const uint64_t freeB = cudaFreeBytes(index);
    if (freeB > 0 && needed > freeB)
        throw Error(what + " needs " + formatBytes(needed) + " on cuda:" + std::to_string(index) + ", only " +
                    formatBytes(freeB) + " free there");
}

std::optional<at::ScalarType> float8E4M3Type()
{
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
    return at::kFloat8_e4m3fn;
#else
    return std::nullopt;
#endif
}

std::optional<at::ScalarType> float8E5M2Type()
{
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
    return at::kFloat8_e5m2;
#else
    return std::nullopt;
#endif
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& mask, double scale)
{
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
    // Fused kernel (flash / memory-efficient on CUDA). `scale` argument exists from 2.1.
    return at::scaled_dot_product_attention(q, k, v, mask, /*dropout_p=*/0.0, /*is_causal=*/false, scale);
#else
    // (B, H, Tq, Tk) scores in fp32 for stability, softmax, then back to the input dtype.
    auto scores = at::matmul(q.to(at::kFloat), k.to(at::kFloat).transpose(-2, -1)) * scale;
    if (mask.defined())
        scores = scores + mask.to(at::kFloat);
    auto probs = at::softmax(scores, -1);
    return at::matmul(probs, v.to(at::kFloat)).to(q.scalar_type());
#endif
}

} // namespace qb::compat
