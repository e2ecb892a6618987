#!/usr/bin/env bash
# Installs every Debian package QuantBench needs to build, test and run.
# Idempotent: when everything is present it only checks (about a second).
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread
  nlohmann-json3-dev libpcre2-dev libdnnl-dev
  qt6-base-dev qt6-charts-dev qt6-svg-dev libgl-dev libqt6opengl6-dev
  xvfb xauth
  clang libclang-rt-14-dev libomp-dev   # scripts/fuzz.sh: libFuzzer and ASan runtimes, OpenMP for clang
  slurm-wlm munge   # tst_slurm's real single-node cluster (about 20 s to install)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
