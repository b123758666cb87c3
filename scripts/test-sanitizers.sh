#!/usr/bin/env bash
# The engine and CLI tests, and the libFuzzer harnesses, built with AddressSanitizer
# and UndefinedBehaviorSanitizer in build-sanitize/ (no app, no benchmarks):
# out-of-bounds reads, use-after-free, leaks, signed overflow and misaligned loads
# fail the test or fuzz input that caused them.
#
#   bash scripts/test-sanitizers.sh          every engine and CLI test, then the fuzz corpora
#   bash scripts/test-sanitizers.sh --quick  the file-facing tests (I/O, ONNX import, graph
#                                            files, validation, edits, CLI), the fuzz corpora
#                                            and a short fuzzing run per harness, the SIMD
#                                            kernel tables uninstrumented; what
#                                            scripts/test.sh runs on CI
#
# Clang (clang++-14, installed by scripts/install-deps.sh) builds it, so the same
# instrumented engine serves the tests and the fuzzers; without Clang, g++ builds
# the tests alone. Long fuzzing runs: scripts/fuzz.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
compiler=()
fuzz=OFF
if command -v clang++-14 >/dev/null 2>&1; then
  compiler=(-DCMAKE_CXX_COMPILER=clang++-14)
  fuzz=ON
fi
# --quick leaves the SIMD kernel tables uninstrumented (CONVSCOPE_SANITIZE_KERNELS=OFF): instrumenting
# them is most of the build's time, and the file-facing tests are about parsing and validation.
kernels=ON
[ $quick = 1 ] && kernels=OFF
cmake -S . -B build-sanitize "${generator[@]}" "${compiler[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCONVSCOPE_SANITIZE=ON -DCONVSCOPE_SANITIZE_KERNELS=$kernels -DCONVSCOPE_FUZZ=$fuzz -DCONVSCOPE_BUILD_GUI=OFF -DCONVSCOPE_BUILD_BENCH=OFF \
  -DCONVSCOPE_WERROR=OFF >/dev/null

# --quick builds the file-facing tests and the fuzzers only (target file_tests, tests/CMakeLists.txt).
if [ $quick = 1 ]; then
  cmake --build build-sanitize -j "$(nproc)" --target file_tests
else
  cmake --build build-sanitize -j "$(nproc)"
fi

# halt_on_error: the first report fails the test. detect_leaks needs ptrace-free LSan.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if [ $quick = 1 ]; then
  # Left out here (the full run has them): whole networks run against PyTorch and the
  # profiler, which exercise the kernels rather than the files (minutes under ASan).
  ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" -L "files|fuzz_corpus" --timeout 900 \
    -E "RunMatchesTorch|PytorchExport|Cli.ProfileJsonHasNetworkAndLayers"
  # Fuzzing, one harness at a time (each uses one core; RUN_SERIAL).
  [ $fuzz = ON ] && ctest --test-dir build-sanitize --output-on-failure -L fuzz_run --timeout 900
else
  ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" -L "engine|cli|fuzz_corpus" --timeout 900
fi
