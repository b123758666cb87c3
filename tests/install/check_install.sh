#!/usr/bin/env bash
# Installs the build into a staging prefix and checks the installed programs as a
# user would run them: from another folder, finding their presets beside them;
# then makes the Debian package and checks what it holds and depends on.
# Usage: check_install.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$(cd "$1" && pwd) work=$2
rm -rf "$work" && mkdir -p "$work"
stage=$work/stage
cmake --install "$build" --prefix "$stage" >/dev/null
cd "$work"
unset CONVSCOPE_PRESETS
cli=$stage/bin/convscope-cli
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -x "$cli" ] || fail "no $cli after cmake --install"
[ -f "$stage/share/convscope/presets/mobilenet_v2.json" ] || fail "presets not installed"
# The installed CLI lists the installed presets, not the source tree's.
"$cli" presets --format json > presets.json
grep -q "\"file\": *\"$stage/share/convscope/presets/mobilenet_v2.json\"" presets.json ||
  fail "presets are not read from the installed copy: $(head -c 300 presets.json)"
"$cli" stats mobilenet_v2 --convention torchvision --format json > stats.json
grep -q '"params": *3504872' stats.json ||
  fail "installed stats mobilenet_v2 does not count 3504872 parameters"
if [ -d "$build/app/gui" ]; then
  [ -x "$stage/bin/convscope" ] || fail "the desktop app is not installed"
  [ -f "$stage/share/applications/convscope.desktop" ] || fail "no desktop entry"
  [ -f "$stage/share/icons/hicolor/scalable/apps/convscope.svg" ] || fail "no icon"
fi

# The Debian package: programs, presets, desktop entry, and dependencies from dpkg-shlibdeps.
if command -v dpkg-shlibdeps >/dev/null && command -v cpack >/dev/null; then
  (cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null)
  deb=$(ls "$work"/deb/convscope_*.deb)
  dpkg-deb -c "$deb" > contents.txt
  for f in ./usr/bin/convscope-cli ./usr/share/convscope/presets/mobilenet_v2.json; do
    grep -q " $f\$" contents.txt || fail "$deb lacks $f"
  done
  depends=$(dpkg-deb -f "$deb" Depends)
  case "$depends" in *libprotobuf*) ;; *) fail "Depends lacks libprotobuf: $depends" ;; esac
  if [ -d "$build/app/gui" ]; then
    case "$depends" in *libqt6widgets6*) ;; *) fail "Depends lacks libqt6widgets6: $depends" ;; esac
  fi
  echo "package $(basename "$deb"): Depends: $depends"
fi
echo "install check passed"
