#!/usr/bin/env bash
# The second of the README's two commands: build (if needed) and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
