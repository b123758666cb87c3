#!/usr/bin/env bash
# The second of the README's two commands: build (if needed) and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
# Then the file-facing tests again under ASan + UBSan, and a short fuzzing run of
# each loader (about 7 minutes on 2 cores from a cold build; CONVSCOPE_SANITIZE=0 skips it).
if [ "${CONVSCOPE_SANITIZE:-1}" != 0 ]; then
  bash scripts/test-sanitizers.sh --quick
fi
