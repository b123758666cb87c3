#!/usr/bin/env bash
# The first of the README's two commands: install dependencies, build, and run
# the main job (the presets' totals and MobileNetV2's per-block table).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
echo
build/app/cli/convscope-cli presets
echo
build/app/cli/convscope-cli stats presets/mobilenet_v2.json
