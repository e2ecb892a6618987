#!/usr/bin/env bash
# Sets up, builds and runs the main job on the bundled demo model (stories260K).
# With a display it opens the QuantBench window with the demo sweep ready to run; without one
# (or with --cli) it runs the same demo headless and prints its results.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/build.sh dev
bin=build/dev/app
if [ "${1:-}" != "--cli" ] && [ -x "$bin/quantbench" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  exec "$bin/quantbench" --demo
fi
echo "== QuantBench headless demo on the bundled stories260K model =="
"$bin/quantbench-cli" info --model resources/demo/stories260k
"$bin/quantbench-cli" generate --model resources/demo/stories260k --prompt "Once upon a time" --max-new 48
if "$bin/quantbench-cli" --help | grep -q '^  sweep '; then
  "$bin/quantbench-cli" sweep --demo --out build/demo-run
  "$bin/quantbench-cli" report build/demo-run
else
  "$bin/quantbench-cli" ppl --model resources/demo/stories260k --text resources/demo/tinystories_sample.txt --ctx 256
fi
