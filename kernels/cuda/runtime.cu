// Device discovery and memory helpers behind the nvcc-free header.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_kernels.h"

namespace qb::kernels::cuda {

int device_count()
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) { cudaGetLastError(); return 0; }
    return n;
}

bool available() { return device_count() > 0; }

int compute_capability(int device)
{
    int major = 0, minor = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess
        || cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return major * 10 + minor;
}

void* device_alloc(size_t bytes)
{
    void* p = nullptr;
    detail::check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
}
void device_free(void* p) { if (p) detail::check(cudaFree(p), "cudaFree"); }
void copy_to_device(void* dst, const void* src, size_t bytes) { detail::check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "copy_to_device"); }
void copy_to_host(void* dst, const void* src, size_t bytes) { detail::check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copy_to_host"); }
void synchronize(void* s) { detail::check(cudaStreamSynchronize(detail::stream(s)), "synchronize"); }

} // namespace qb::kernels::cuda
