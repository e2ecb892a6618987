// AVX-VNNI (256-bit vpdpbusd) W8A8 micro-kernel: see gemm_int8_avx2_impl.h.
#define QB_I8_VNNI 1
#define QB_I8_NS avxvnni
#include "kernels/gemm_int8_avx2_impl.h"
