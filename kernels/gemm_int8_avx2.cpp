// AVX2 (no VNNI) W8A8 micro-kernel: see gemm_int8_avx2_impl.h.
#define QB_I8_VNNI 0
#define QB_I8_NS avx2
#include "kernels/gemm_int8_avx2_impl.h"
