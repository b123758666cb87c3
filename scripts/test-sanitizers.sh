#!/usr/bin/env bash
# The engine and CLI tests built with AddressSanitizer and UndefinedBehaviorSanitizer
# (a separate build in build-sanitize/, no app, no benchmarks): out-of-bounds reads,
# use-after-free, leaks, signed overflow and misaligned loads fail the test that
# caused them. scripts/test.sh runs it on CI; run it yourself after changing the engine.
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S . -B build-sanitize "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVSCOPE_SANITIZE=ON \
  -DCONVSCOPE_BUILD_GUI=OFF -DCONVSCOPE_BUILD_BENCH=OFF -DCONVSCOPE_WERROR=OFF >/dev/null
cmake --build build-sanitize -j "$(nproc)"
# Leak checking needs ptrace-free LSan; detect_leaks stays on. halt_on_error: the first report fails the test.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" -L "engine|cli" --timeout 900
