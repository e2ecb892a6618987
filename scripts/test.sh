#!/usr/bin/env bash
# Sets up, builds and runs every test (CTest). Tests that need the real data in ../shared/data
# skip with a message when it is absent.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
preset=${1:-dev}
bash scripts/build.sh "$preset"
export QT_QPA_PLATFORM=offscreen
ctest --preset "$preset" -j 1 --output-on-failure
