#!/usr/bin/env bash
# Long fuzzing runs of the loaders (libFuzzer, ASan + UBSan; Clang):
#
#   bash scripts/fuzz.sh [graph_json|onnx_import|all] [seconds per harness, default 600] [jobs, default 1]
#
# Builds the harnesses in build-sanitize/ (as scripts/test-sanitizers.sh does), then
# fuzzes from tests/fuzz/corpus/<name>, the presets and the hostile files in
# tests/data. New inputs collect in build-sanitize/fuzz-corpus/<name> (kept between
# runs; add the interesting ones to the seed corpus by hand). A finding stops the
# run and leaves build-sanitize/fuzz-<name>-crash-* (or -leak-, -timeout-, -oom-):
# reproduce with build-sanitize/tests/fuzz/fuzz_<name> FILE, then add FILE to
# tests/data/ with a test that refuses it.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
seconds=${2:-600}
jobs=${3:-1}
if ! command -v clang++-14 >/dev/null 2>&1; then
  echo "fuzz.sh: needs clang++-14 and libclang-rt-14-dev (bash scripts/install-deps.sh installs them)" >&2
  exit 2
fi
case $which in graph_json|onnx_import|all) ;; *)
  echo "fuzz.sh: unknown harness '$which' (graph_json, onnx_import or all)" >&2; exit 2 ;;
esac
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S . -B build-sanitize "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCONVSCOPE_SANITIZE=ON -DCONVSCOPE_FUZZ=ON -DCONVSCOPE_BUILD_GUI=OFF -DCONVSCOPE_BUILD_BENCH=OFF \
  -DCONVSCOPE_WERROR=OFF >/dev/null
cmake --build build-sanitize -j "$(nproc)" --target fuzz_graph_json fuzz_onnx_import
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# run NAME [more seed folders...]: new inputs go to the first folder given to libFuzzer.
run() {
  local name=$1; shift
  local found=build-sanitize/fuzz-corpus/$name
  local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1
                 -artifact_prefix=build-sanitize/fuzz-"$name"-)
  [ -f tests/fuzz/"$name".dict ] && options+=(-dict=tests/fuzz/"$name".dict)
  # -jobs forks workers that log to fuzz-N.log; one job runs in this process.
  [ "$jobs" -gt 1 ] && options+=(-jobs="$jobs" -workers="$jobs")
  mkdir -p "$found"
  echo "== fuzz_$name for $seconds s, $jobs job(s)"
  build-sanitize/tests/fuzz/fuzz_"$name" "${options[@]}" "$found" tests/fuzz/corpus/"$name" "$@"
}
if [ "$which" = graph_json ] || [ "$which" = all ]; then
  run graph_json presets tests/data/hostile_json
fi
if [ "$which" = onnx_import ] || [ "$which" = all ]; then
  run onnx_import tests/data/hostile_onnx
fi
