#!/usr/bin/env python3
"""Our kernels against oneDNN on the same layer shapes, measured in the same run.

Runs build/bench/bench_kernels once with repetitions randomly interleaved (so
both sides see the same machine state), pairs each of our benchmarks with the
oneDNN one on the same shape and prints median times and the ratio ours/peer
(below 1: we are faster). The machine is shared and noisy: read the ratios, and
the medians, not single runs.

Usage: scripts/bench_peers.py [--repetitions N] [--min-time S] [--onednn-isa AVX2|default] [--only 1x1|depthwise]
"""
import argparse
import json
import os
import platform
import subprocess
import sys

PAIRS = [("BM_Gemm/", "BM_OneDnn1x1/", "1x1 conv"), ("BM_Depthwise/", "BM_OneDnnDepthwise/", "depthwise")]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.1)
    ap.add_argument("--onednn-isa", default="AVX2",
                    help="cap oneDNN's instruction set (AVX2 matches our kernels; 'default' lets it use AVX-512)")
    ap.add_argument("--only", choices=["1x1", "depthwise"], help="measure one kind of layer only")
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", "build", "bench", "bench_kernels"))
    args = ap.parse_args()

    env = dict(os.environ)
    if args.onednn_isa != "default":
        env["ONEDNN_MAX_CPU_ISA"] = args.onednn_isa
    cmd = [args.binary, "--benchmark_format=json", f"--benchmark_repetitions={args.repetitions}",
           "--benchmark_enable_random_interleaving=true", "--benchmark_report_aggregates_only=true",
           f"--benchmark_min_time={args.min_time}", "--benchmark_filter=" + {None: "", "1x1": "(Gemm|1x1)", "depthwise": "Depthwise"}[args.only] + ".*portable:0"]
    try:
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit(f"bench_peers: {args.binary} not found; build first (bash scripts/build.sh)")
    except subprocess.CalledProcessError as e:
        sys.exit(f"bench_peers: {args.binary} failed:\n{e.stderr}")
    data = json.loads(out)
    median = {}
    label = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        median[name] = b["real_time"] * {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b["time_unit"]]
        label[name] = b.get("label", "")
    if not any(k.startswith("BM_OneDnn") for k in median):
        sys.exit("bench_peers: the benchmark binary was built without oneDNN (apt-get install libdnnl-dev, rebuild)")

    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs; one thread on both sides; "
          f"oneDNN ISA cap: {args.onednn_isa}; {args.repetitions} interleaved repetitions, medians")
    print(f"{'kind':10} {'shape':34} {'ours us':>10} {'oneDNN us':>10} {'ours/peer':>10}  oneDNN kernel")
    ratios = {}
    for ours_prefix, peer_prefix, kind in PAIRS:
        for name, t in median.items():
            if not name.startswith(ours_prefix):
                continue
            shape = name[len(ours_prefix):]
            peer = peer_prefix + shape
            if peer not in median:
                continue
            r = t / median[peer]
            ratios.setdefault(kind, []).append(r)
            print(f"{kind:10} {shape:34} {t:10.1f} {median[peer]:10.1f} {r:10.2f}  {label[peer]}")
    for kind, rs in ratios.items():
        rs = sorted(rs)
        print(f"{kind}: median ratio ours/oneDNN {rs[len(rs) // 2]:.2f} over {len(rs)} shapes "
              f"(best {rs[0]:.2f}, worst {rs[-1]:.2f})")


if __name__ == "__main__":
    main()
