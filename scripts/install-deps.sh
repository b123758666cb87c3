#!/usr/bin/env bash
# Installs everything ConvScope needs to build and test, from Debian 12's packages.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  # cpack -G DEB: dpkg-shlibdeps (dpkg-dev) and file, which CPack needs to find the binaries' libraries
  dpkg-dev file
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libexpected-dev libcli11-dev libeigen3-dev
  libonnx-dev libprotobuf-dev
  # oneDNN, the kernel peer in bench_kernels; Debian's CMake package for it needs the OpenCL headers
  # (only recommended by libdnnl-dev, so name them). Optional: a missing peer is skipped at configure.
  libdnnl-dev ocl-icd-opencl-dev opencl-headers
  # XNNPACK, the second kernel peer in bench_kernels (its header includes pthreadpool.h). Optional too.
  libxnnpack-dev libpthreadpool-dev
  python3-torch python3-torchvision libopenblas0-openmp
  # The sanitizer build and the libFuzzer harnesses (scripts/test-sanitizers.sh, scripts/fuzz.sh).
  clang-14 libclang-rt-14-dev
  python3
  # The desktop app: Qt 6 Widgets/Svg, QCustomPlot for the plots, Graphviz for the layout,
  # fonts for text rendering, and Xvfb for screenshots of the app on a headless machine.
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libgraphviz-dev fonts-dejavu-core xvfb xauth
)
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"

# ONNX Runtime (npm onnxruntime-node; its CPU library ships inside the package,
# the install step that fetches GPU binaries is skipped): the peer and the
# checker of exported models in the tests.
if ! command -v npm >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
(cd "$(dirname "$0")/../bench/peers" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error)
