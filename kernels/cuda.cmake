# CUDA kernels (qb_kernels_cuda, built when the top level enables CUDA). Architectures 80;89;90:
# sm_89 is the first with FP8 tensor cores (cuBLASLt E4M3).
set(_qb_kc ${CMAKE_CURRENT_LIST_DIR}/cuda)
list(APPEND QB_KERNEL_CUDA_SOURCES
  ${_qb_kc}/runtime.cu
  ${_qb_kc}/quant.cu
  ${_qb_kc}/gemm_wo.cu
  ${_qb_kc}/gemm_int8.cu
  ${_qb_kc}/gemm_fp8.cu)
