#!/usr/bin/env bash
# Configures and builds ConvScope (Release) into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCONVSCOPE_WERROR=ON
fi
cmake --build build -j "$(nproc)"
