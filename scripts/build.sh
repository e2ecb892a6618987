#!/usr/bin/env bash
# Configures and builds QuantBench with a CMake preset (default: dev) after making sure the
# Debian packages are there. Usage: scripts/build.sh [preset] [extra cmake -D options...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
preset=${1:-dev}
shift || true
bash scripts/setup.sh
jobs=$(nproc)
cmake --preset "$preset" "$@" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
