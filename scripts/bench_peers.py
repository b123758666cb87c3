#!/usr/bin/env python3
"""Our kernels against oneDNN and XNNPACK on the same layer shapes, measured in the same run.

Runs build/bench/bench_kernels once with repetitions randomly interleaved (so
every side sees the same machine state), pairs each of our benchmarks with the
oneDNN and XNNPACK ones on the same shape (each peer only when bench_kernels
was built with it) and prints median times and the ratios ours/peer (below 1:
we are faster). The machine is shared and noisy: read the ratios, and
the medians, not single runs.

Usage: scripts/bench_peers.py [--repetitions N] [--min-time S] [--onednn-isa AVX2|default] [--only 1x1|depthwise]
"""
import argparse
import json
import os
import platform
import subprocess
import sys

KINDS = [("BM_Gemm/", "1x1 conv", {"oneDNN": "BM_OneDnn1x1/", "XNNPACK": "BM_Xnnpack1x1/"}),
         ("BM_Depthwise/", "depthwise", {"oneDNN": "BM_OneDnnDepthwise/", "XNNPACK": "BM_XnnpackDepthwise/"})]


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
    peers = [p for p in ("oneDNN", "XNNPACK")
             if any(k.startswith(prefixes[p]) for _, _, prefixes in KINDS for k in median)]
    if not peers:
        sys.exit("bench_peers: the benchmark binary was built without a peer "
                 "(apt-get install libdnnl-dev libxnnpack-dev libpthreadpool-dev, rebuild)")

    isa = label.get(next((k for k in median if k.startswith(("BM_Gemm/", "BM_Depthwise/"))), ""), "?")
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs; one thread on every side; our kernels: {isa}; "
          f"oneDNN ISA cap: {args.onednn_isa}; {args.repetitions} interleaved repetitions, medians")
    print(f"{'kind':10} {'shape':34} {'ours us':>9} " + " ".join(f"{p + ' us':>11} {'ours/' + p:>14}" for p in peers)
          + "  oneDNN kernel")
    ratios = {}
    for ours_prefix, kind, prefixes in KINDS:
        for name, t in median.items():
            if not name.startswith(ours_prefix):
                continue
            shape = name[len(ours_prefix):]
            cells, kernel = [], ""
            for p in peers:
                peer = prefixes[p] + shape
                if peer in median:
                    r = t / median[peer]
                    ratios.setdefault((kind, p), []).append(r)
                    cells.append(f"{median[peer]:11.1f} {r:14.2f}")
                    if p == "oneDNN":
                        kernel = label[peer]
                else:
                    cells.append(f"{'-':>11} {'-':>14}")
            print(f"{kind:10} {shape:34} {t:9.1f} " + " ".join(cells) + f"  {kernel}")
    for (kind, p), rs in ratios.items():
        rs = sorted(rs)
        print(f"{kind}: median ratio ours/{p} {rs[len(rs) // 2]:.2f} over {len(rs)} shapes "
              f"(best {rs[0]:.2f}, worst {rs[-1]:.2f})")


if __name__ == "__main__":
    main()
