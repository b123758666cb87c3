#!/usr/bin/env bash
# Starts the desktop app under Xvfb with a design (default: MobileNetV2), profiles
# it, and saves a screenshot: bash scripts/screenshot.sh [OUT.png] [FILE|PRESET] [extra convscope options]
# Needs the build (scripts/build.sh) and xvfb (scripts/install-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-docs/screenshot.png}"
DESIGN="${2:-mobilenet_v2}"
shift $(( $# > 2 ? 2 : $# ))
if ! command -v xvfb-run >/dev/null 2>&1; then
  echo "screenshot.sh: xvfb-run not found (apt-get install xvfb xauth)" >&2
  exit 2
fi
mkdir -p "$(dirname "$OUT")"
xvfb-run -a -s "-screen 0 1920x1200x24" build/app/gui/convscope "$DESIGN" \
  --screenshot "$OUT" --profile --select ir7 --plot 1 --size 1700x1050 "$@"
echo "screenshot: $OUT"
