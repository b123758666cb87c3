#!/usr/bin/env python3
"""Issue 12's resource target for untrusted files: every hostile input in
tests/data is refused by `convscope-cli` within 1 s and 200 MB: `validate`, and
for graph files (whose hostile part may be what they cost to run) `export --to
onnx` too, which makes the weights.

    python3 scripts/check_hostile.py [path to convscope-cli]

Prints one line per file (exit code, wall seconds, peak resident MB) and the
worst of each, and exits 1 when a file is accepted, crashes (exit code other
than 1 or 2) or goes past a limit. Timing is wall-clock on whatever machine
runs it: read the figures with the machine beside them."""
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT_S, LIMIT_MB = 1.0, 200.0


def run(argv):
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execv(argv[0], argv)
    start = time.perf_counter()
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return code, wall, usage.ru_maxrss / 1024.0  # ru_maxrss is in KiB on Linux


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/app/cli/convscope-cli")
    files = []
    for sub in ("hostile_onnx", "hostile_json"):
        d = os.path.join(ROOT, "tests/data", sub)
        files += [os.path.join(d, f) for f in sorted(os.listdir(d))]
    bad = 0
    worst_s = worst_mb = 0.0
    out = os.path.join("/tmp", f"check_hostile_{os.getpid()}.onnx")
    for f in files:
        commands = [[cli, "validate", f]]
        if f.endswith(".json"):
            commands.append([cli, "export", f, "--to", "onnx", "--out", out])
        results = [run(c) for c in commands]
        codes = [r[0] for r in results]
        wall, mb = max(r[1] for r in results), max(r[2] for r in results)
        worst_s, worst_mb = max(worst_s, wall), max(worst_mb, mb)
        # Refused by some command, crashed in none, within the limits in all.
        ok = any(c in (1, 2) for c in codes) and all(c in (0, 1, 2) for c in codes)
        ok = ok and wall <= LIMIT_S and mb <= LIMIT_MB
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} exit {','.join(map(str, codes)):5s} {wall:6.3f} s  {mb:7.1f} MB  "
              f"{os.path.relpath(f, ROOT)}")
    if os.path.exists(out):
        os.remove(out)
    print(f"{len(files)} files, {bad} over a limit or not refused; worst {worst_s:.3f} s, {worst_mb:.1f} MB "
          f"(limits {LIMIT_S} s, {LIMIT_MB} MB)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
