#!/usr/bin/env python3
"""What a broadcast GEMM tile can reach on this core, with no compiler in the loop.

Writes the inner loop of an MR x (NV vectors) AVX-512 tile in assembly (depth
unrolled four times, A's rows from four base registers with the offsets in the
address, A and B in L1), beside a 16-accumulator FMA loop (the core's peak),
builds them with g++ and prints the median GFLOP/s of each on one core.
The GEMM micro-kernel cannot beat its shape's figure here; docs/performance.md
(the Intel Xeon section of 2026-12-07) says what was learnt from it.

    python3 scripts/tile_ceiling.py [--shapes 14x2,12x2,9x3,8x3,6x4] [--depth 128]

Needs AVX-512F; prints a message and exits 2 without it.
"""
import argparse
import os
import subprocess
import sys
import tempfile

ABI = "(const float*, long, const float*, long, float*)"  # a, lda bytes, b, depth, c


def row_address(r):
    """Row r of A: base register r // 4, then + 0, lda, 2 lda, 3 lda (%r9)."""
    base = ["%rdi", "%r10", "%r11", "%r12"][r // 4]
    return [f"({base})", f"({base},%rsi,1)", f"({base},%rsi,2)", f"({base},%r9,1)"][r % 4]


def tile(name, mr, nv, unroll=4):
    acc = mr * nv
    if not 1 <= mr <= 16 or nv < 1:
        raise ValueError(f"{mr}x{nv}: rows must be 1 to 16 (four base registers), vectors at least 1")
    if acc + nv + 1 > 32:
        raise ValueError(f"{mr}x{nv}: {acc} accumulators and {nv} B vectors exceed 32 registers")
    b_regs = [acc + v for v in range(nv)]
    t_regs = list(range(acc + nv, 32))
    out = [f".globl {name}", f"{name}:", "push %rbx", "push %r12", "lea (%rsi,%rsi,2),%r9",
           "lea (%rdi,%rsi,4),%r10", "lea (%r10,%rsi,4),%r11", "lea (%r11,%rsi,4),%r12"]
    out += [f"vpxord %zmm{z},%zmm{z},%zmm{z}" for z in range(acc)]
    out.append(f"{name}_loop:")
    for u in range(unroll):
        out += [f"vmovups {(u * nv + v) * 64}(%rdx),%zmm{b_regs[v]}" for v in range(nv)]
        for r in range(mr):
            t = t_regs[r % len(t_regs)]
            out.append(f"vbroadcastss {u * 4 if u else ''}{row_address(r)},%zmm{t}")
            out += [f"vfmadd231ps %zmm{b_regs[v]},%zmm{t},%zmm{r * nv + v}" for v in range(nv)]
    out += [f"add ${4 * unroll},{reg}" for reg in ("%rdi", "%r10", "%r11", "%r12")]
    out += [f"add ${64 * nv * unroll},%rdx", f"sub ${unroll},%rcx", f"jnz {name}_loop"]
    out += [f"vmovups %zmm{z},{z * 64}(%r8)" for z in range(acc)]
    out += ["pop %r12", "pop %rbx", "vzeroupper", "ret"]
    return "\n".join(out) + "\n"


def peak(name):
    """16 independent FMA chains on registers, 112 FMAs per four depth steps."""
    out = [f".globl {name}", f"{name}:"] + [f"vpxord %zmm{z},%zmm{z},%zmm{z}" for z in range(16)]
    out += ["vbroadcastss (%rdi),%zmm30", "vmovups (%rdx),%zmm28", f"{name}_loop:"]
    out += [f"vfmadd231ps %zmm28,%zmm30,%zmm{z}" for _ in range(7) for z in range(16)]
    out += ["sub $4,%rcx", f"jnz {name}_loop"] + [f"vmovups %zmm{z},{z * 64}(%r8)" for z in range(16)]
    out += ["vzeroupper", "ret"]
    return "\n".join(out) + "\n"


DRIVER = r"""
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>
%(decls)s
using F = void (*)%(abi)s;
// Median GFLOP/s of 7 repetitions; `flops_per_step` per depth step.
static double run(F f, double flops_per_step, long depth) {
  const long lda = depth + 4;  // rows a little more than the depth apart
  std::vector<float> a(lda * 16 + 64, 0.5f), b(depth * 16 * 8 + 64, 0.25f), c(32 * 16);
  std::vector<double> ts;
  for (int rep = 0; rep < 7; ++rep) {
    const long iters = 200000;
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < iters; ++i) f(a.data(), lda * 4, b.data(), depth, c.data());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ts.push_back(flops_per_step * depth * iters / s / 1e9);
  }
  std::sort(ts.begin(), ts.end());
  return ts[3];
}
int main(int, char** argv) {
  const long depth = std::atol(argv[1]);
  const double pk = run(k_peak, 28 * 2 * 16, depth);  // 112 FMAs per four depth steps
  std::printf("FMA peak (16 chains on registers): %%.1f GFLOP/s\n", pk);
%(runs)s
}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="14x2,12x2,9x3,8x3,7x3,6x4,5x5,4x6",
                    help="rows x vectors of 16 columns, comma-separated (default: %(default)s)")
    ap.add_argument("--depth", type=int, default=128, help="depth steps per call, a multiple of 4 (default 128)")
    args = ap.parse_args()
    if args.depth <= 0 or args.depth % 4:
        sys.exit(f"--depth: {args.depth} is not a positive multiple of 4")
    with open("/proc/cpuinfo") as f:
        cpu = f.read()
    if " avx512f" not in cpu:
        print("tile_ceiling: this CPU has no AVX-512F; the harness is written for zmm registers", file=sys.stderr)
        sys.exit(2)
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("model name")), "?")
    shapes = []
    for s in args.shapes.split(","):
        try:
            mr, nv = (int(x) for x in s.lower().split("x"))
        except ValueError:
            sys.exit(f"--shapes: '{s}' is not ROWSxVECTORS")
        shapes.append((mr, nv))
    asm = ".text\n" + peak("k_peak")
    for mr, nv in shapes:
        try:
            asm += tile(f"k_{mr}x{nv}", mr, nv)
        except ValueError as e:
            sys.exit(f"--shapes: {e}")
    asm += '.section .note.GNU-stack,"",@progbits\n'
    names = ["k_peak"] + [f"k_{mr}x{nv}" for mr, nv in shapes]
    decls = 'extern "C" {\n' + "".join(f"void {n}{ABI};\n" for n in names) + "}\n#include <cstdlib>"
    runs = "".join(
        f'  {{ const double g = run(k_{mr}x{nv}, {2 * mr * nv * 16}, depth); '
        f'std::printf("{mr:2d} x {nv * 16:3d} tile: %.1f GFLOP/s (%.0f %% of the peak)\\n", g, 100 * g / pk); }}\n'
        for mr, nv in shapes)
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "tiles.S"), "w").write(asm)
        open(os.path.join(d, "driver.cpp"), "w").write(DRIVER % {"decls": decls, "abi": ABI, "runs": runs})
        exe = os.path.join(d, "tile_ceiling")
        subprocess.run(["g++", "-O2", "-o", exe, os.path.join(d, "driver.cpp"), os.path.join(d, "tiles.S")], check=True)
        print(f"CPU: {model}; one core, A and B in L1, depth {args.depth}, medians of 7")
        sys.stdout.flush()
        subprocess.run([exe, str(args.depth)], check=True)


if __name__ == "__main__":
    main()
