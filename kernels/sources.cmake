# CPU kernels. The *_avx512.cpp / *_avx2.cpp / *_avxvnni.cpp files get their ISA flags and are
# only entered after a runtime CPU check (cpu.cpp), so the library still runs on any x86-64 CPU.
set(_qb_k ${CMAKE_CURRENT_LIST_DIR})
list(APPEND QB_KERNEL_SOURCES
  ${_qb_k}/cpu.cpp
  ${_qb_k}/scratch.cpp
  ${_qb_k}/fp8.cpp
  ${_qb_k}/quant.cpp
  ${_qb_k}/quant_avx512.cpp
  ${_qb_k}/gemm_int8.cpp
  ${_qb_k}/gemm_int8_avx512.cpp
  ${_qb_k}/gemm_int8_avx2.cpp
  ${_qb_k}/gemm_int8_avx2sign.cpp
  ${_qb_k}/gemm_int8_avxvnni.cpp
  ${_qb_k}/gemm_int8_onednn.cpp
  ${_qb_k}/gemm_wo.cpp
  ${_qb_k}/gemm_wo_avx512.cpp
  ${_qb_k}/gemm_wo_onednn.cpp
  ${_qb_k}/gemm_wo_avx2.cpp
  ${_qb_k}/gemm_panel_avx2.cpp
  ${_qb_k}/gemm_dense.cpp
  ${_qb_k}/gemm_dense_avx512.cpp
  ${_qb_k}/gemm_fp8.cpp
  ${_qb_k}/gemv_batch.cpp
  ${_qb_k}/act.cpp
  ${_qb_k}/act_avx512.cpp
  ${_qb_k}/attn.cpp
  ${_qb_k}/attn_avx512.cpp)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set_source_files_properties(
    ${_qb_k}/quant_avx512.cpp ${_qb_k}/gemm_int8_avx512.cpp ${_qb_k}/gemm_wo_avx512.cpp ${_qb_k}/gemm_dense_avx512.cpp
    ${_qb_k}/act_avx512.cpp ${_qb_k}/attn_avx512.cpp
    PROPERTIES COMPILE_OPTIONS "-O3;-mavx512f;-mavx512bw;-mavx512vl;-mavx512vnni;-mf16c;-mfma;-Wno-uninitialized;-Wno-maybe-uninitialized")
  # AVX512_BF16 (vdpbf16ps) only in functions marked target("avx512bf16") inside gemm_wo_avx512.cpp and
  # gemm_dense_avx512.cpp.
  set_source_files_properties(${_qb_k}/gemm_int8_avx2.cpp ${_qb_k}/gemm_int8_avx2sign.cpp ${_qb_k}/gemm_wo_avx2.cpp ${_qb_k}/gemm_panel_avx2.cpp
    PROPERTIES COMPILE_OPTIONS "-O3;-mavx2;-mfma;-mf16c;-Wno-uninitialized;-Wno-maybe-uninitialized")
  set_source_files_properties(${_qb_k}/gemm_int8_avxvnni.cpp
    PROPERTIES COMPILE_OPTIONS "-O3;-mavx2;-mfma;-mf16c;-mavxvnni;-Wno-uninitialized;-Wno-maybe-uninitialized")
  # -O3: full unrolling of the register-tile loops (at -O2 GCC keeps the tiles on the stack).
  # (GCC 12 flags its own _mm512_undefined_* helpers as uninitialized: a known false positive.)
endif()
