#pragma once
// Internal (built with oneDNN only): the CPU engine and checks shared by the oneDNN paths
// (gemm_int8_onednn.cpp, gemm_wo_onednn.cpp). Defined in gemm_int8_onednn.cpp.
#include <oneapi/dnnl/dnnl.hpp>

namespace qb::kernels::onednn {
dnnl::engine& engine();
// oneDNN's reference kernels are ~1000x slower than its JIT ones: the paths run only on "brg" impls.
bool fast_impl(const dnnl::matmul::primitive_desc& pd);
// The OpenMP threads oneDNN's calls use follow the calling thread's setting: make it ours.
void use_kernel_threads();
} // namespace qb::kernels::onednn
