#!/usr/bin/env bash
# GPU check on a machine with an NVIDIA GPU, nvcc and a CUDA build of libtorch 2.x (for example
# the one a pip-installed PyTorch ships), without Qt: builds core + quantbench-cli with the CUDA
# kernels, then runs
#   1. bench gemm-cuda: our CUDA weight-only / INT8 W8A8 / FP8 W8A8 kernels beside cuBLAS, each
#      row with its error against fp32 (a wrong kernel shows an O(1) rel err);
#   2. PPL of the demo model (`run --tasks ppl`), baseline and real INT8/FP8 schemes, on cuda and
#      on cpu: the two must agree to summation order;
#   3. bench forward on cuda.
# Results go to ${OUT:-gpu_check_out}/. Usage: scripts/gpu_check.sh [--quick]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
out=${OUT:-gpu_check_out}
mkdir -p "$out"
quick=${1:-}
prefix=${TORCH_PREFIX:-$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')}
build=build/gpu
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQB_CUDA=ON -DQB_BUILD_UI=OFF -DQB_BUILD_TESTS=OFF \
      -DCMAKE_PREFIX_PATH="$prefix" 2>&1 | tee "$out/configure.log" | grep -E "QuantBench|Error" || true
cmake --build "$build" --target quantbench-cli -j "$(nproc)" > "$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
cli="$build/app/quantbench-cli"
"$cli" info | tee "$out/info.txt"
"$cli" bench gemm-cuda $quick | tee "$out/bench_gemm_cuda.txt"
model=resources/demo/stories260k
text=resources/demo/tinystories_sample.txt
for dev in cuda cpu; do
  for s in FP32 INT8_Per_Row INT8_Per_Group_128 FP8_Per_Row INT8_Per_Row_W8A8 FP8_Per_Row_W8A8 INT8_Per_Row_Fake; do
    rm -rf "$out/run_${dev}_$s"
    "$cli" run --model "$model" --scheme "$s" --tasks ppl --ppl-text "$text" --device "$dev" --out "$out/run_${dev}_$s" \
      --quiet > /dev/null 2>&1 || true
    printf '%-5s %-22s %s\n' "$dev" "$s" "$(grep -o '"ppl":[0-9.e+-]*' "$out/run_${dev}_$s/results.jsonl" 2>/dev/null | tail -1 || echo failed)"
  done
done | tee "$out/ppl.txt"
"$cli" bench forward --model "$model" --device cuda --dtypes f32,bf16 | tee "$out/bench_forward_cuda.txt"
