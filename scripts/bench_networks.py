#!/usr/bin/python3
"""Whole networks: ConvScope's backend against ONNX Runtime's CPU provider, on
the same architectures, in one time window.

The peer models are torchvision's (MobileNetV1 written out from the paper)
with random weights, exported to ONNX with Debian's python3-torch; their
parameter counts are checked against ConvScope's presets first, so both sides
run the same network. Rounds alternate ours and the peer, and the ratio is
taken from the medians over rounds (the machine is shared and noisy). Beside
it, the ratio of each side's fastest round and the spread of the rounds
(slowest / fastest, the worse side's): on a machine whose speed switches
between states (another tenant on the same core's SIMD units), the fastest
rounds compare the two in the quiet state and the spread says how much the
median ratio can be trusted.

Needs: apt-get install python3-torch python3-torchvision libopenblas0-openmp nodejs npm
       (cd bench/peers && ONNXRUNTIME_NODE_INSTALL=skip npm install)   # done by this script if missing
Usage: /usr/bin/python3 scripts/bench_networks.py [--threads 1,2] [--rounds 3] [--min-time 1.0]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PEERS = os.path.join(ROOT, "bench", "peers")
CLI = os.path.join(ROOT, "build", "app", "cli", "convscope-cli")
# Every preset torchvision has (and MobileNetV1).
NETWORKS = ["mobilenet_v2", "mobilenet_v1", "mobilenet_v3_large", "mobilenet_v3_small", "squeezenet1_0",
            "squeezenet1_1", "shufflenet_v2_x1_0", "googlenet", "efficientnet_b0"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def ensure_peer():
    if not os.path.isdir(os.path.join(PEERS, "node_modules", "onnxruntime-node")):
        env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
        print("installing onnxruntime-node (npm) ...", file=sys.stderr)
        run(["npm", "install", "--no-audit", "--no-fund"], cwd=PEERS, env=env)
    out_dir = os.path.join(ROOT, "build", "peers")
    if not all(os.path.exists(os.path.join(out_dir, n + ".onnx")) for n in NETWORKS):
        print("exporting the torchvision models to ONNX ...", file=sys.stderr)
        run(["/usr/bin/python3", os.path.join(PEERS, "export_torchvision.py"), out_dir])
    return out_dir


def check_same_network(name, onnx_dir):
    # The exporter printed parameter counts; recompute ours under torchvision's convention.
    ours = json.loads(run([CLI, "stats", name, "--convention", "torchvision", "--format", "json"]))["totals"]["params"]
    return ours


def ours_ms(name, threads, min_time, isa):
    out = json.loads(run([CLI, "profile", name, "--threads", str(threads), "--json", "--min-time", str(min_time),
                          "--isa", isa]))
    return out["network"]["median_ms"], out["machine"]["isa"]


def peer_ms(path, threads, min_time):
    out = run(["node", os.path.join(PEERS, "ort_bench.js"), path, str(threads), str(min_time)], cwd=PEERS)
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--networks", default=",".join(NETWORKS))
    ap.add_argument("--isa", default="auto", help="our kernel table: auto, avx512, avx2, portable")
    args = ap.parse_args()
    if not os.path.exists(CLI):
        sys.exit("bench_networks: build first (bash scripts/build.sh)")
    onnx_dir = ensure_peer()
    exported = run(["/usr/bin/python3", os.path.join(PEERS, "export_torchvision.py"), onnx_dir])
    torch_params = {line.split()[0]: int(line.split()[1]) for line in exported.splitlines() if line.strip()}
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    print(f"machine: {cpu}, {os.cpu_count()} logical CPUs; {args.rounds} alternating rounds, "
          f"median of round medians (fastest: each side's fastest round; spread: slowest / fastest round); batch 1, 224x224, fp32; ONNX Runtime's MLAS picks its own kernels "
          f"from CPUID (AVX-512 ones where the CPU has AVX512F)")
    flags = open("/proc/cpuinfo").read()
    print("CPU ISA: " + ", ".join(f for f in ("avx2", "fma", "avx512f", "avx512vl", "avx512bw", "avx512_vnni",
                                                "avx512_bf16") if " " + f + " " in flags))
    print(f"{'network':20} {'threads':>7} {'ours ms':>9} {'ORT ms':>9} {'ours/ORT':>9} {'fastest':>8} {'spread':>7}"
          f"  {'our ISA':8} params (same on both sides)")
    for name in args.networks.split(","):
        ours_params = check_same_network(name, onnx_dir)
        if torch_params.get(name) != ours_params:
            sys.exit(f"bench_networks: {name}: torchvision has {torch_params.get(name)} parameters, "
                     f"ConvScope's preset {ours_params}: not the same network")
        for t in [int(x) for x in args.threads.split(",")]:
            ours, peer = [], []
            version = "?"
            isa = "?"
            for _ in range(args.rounds):
                ms, isa = ours_ms(name, t, args.min_time, args.isa)
                ours.append(ms)
                p = peer_ms(os.path.join(onnx_dir, name + ".onnx"), t, args.min_time)
                peer.append(p["median_ms"])
                version = p["ort_version"]
            o, q = statistics.median(ours), statistics.median(peer)
            fastest = min(ours) / min(peer)
            spread = max(max(ours) / min(ours), max(peer) / min(peer))
            print(f"{name:20} {t:7d} {o:9.3f} {q:9.3f} {o / q:9.2f} {fastest:8.2f} {spread:7.2f}  {isa:8} "
                  f"{ours_params:,}  (ONNX Runtime {version})", flush=True)


if __name__ == "__main__":
    main()
