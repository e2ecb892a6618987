#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`: clang, ASan + UBSan) and runs each one for a
# bounded time on its committed seed corpus (fuzz/corpus/<target>; inputs it finds go to
# build/fuzz/corpus/<target>, never into the tree). Fails on the first crash, sanitizer report,
# leak, timeout (-timeout) or OOM (-rss_limit_mb); the reproducer is build/fuzz/artifacts/<target>-*
# (replay: build/fuzz/fuzz/fuzz_<target> FILE). Prints runs and execs/s per target.
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors_header config_json tokenizer_json sweep_file result_jsonl mmlu_csv)
bash scripts/setup.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
bin=build/fuzz/fuzz
art=build/fuzz/artifacts
mkdir -p "$art" build/fuzz/logs
# Leak checking stays on: our parsers must not leak. UBSan findings abort (-fno-sanitize-recover).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export OMP_NUM_THREADS=1
status=0
for t in "${targets[@]}"; do
  work=build/fuzz/corpus/$t
  mkdir -p "$work"
  log=build/fuzz/logs/$t.log
  if "$bin/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="$art/$t-" "$work" "fuzz/corpus/$t" > "$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    printf 'fuzz %-20s ok  %ss  %s runs  %s exec/s\n' "$t" "$secs" "${runs:-?}" "${rate:-?}"
  else
    printf 'fuzz %-20s FAILED (log: %s)\n' "$t" "$log"
    grep -E 'runtime error|ERROR|SUMMARY|Test unit written|==[0-9]+==' "$log" | head -20 || true
    # The CI machine's build folder is gone afterwards: print the reproducer so it can be
    # rebuilt from the log (base64 -d > crash; then replay it as above).
    for a in "$art/$t-"*; do
      [ -f "$a" ] || continue
      echo "reproducer $(basename "$a") ($(stat -c %s "$a") bytes), base64:"
      head -c 4096 "$a" | base64 -w 100
    done
    status=1
  fi
done
exit $status
