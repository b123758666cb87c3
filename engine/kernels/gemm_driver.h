#pragma once
/// The cache-blocking loops around a GEMM micro-kernel, shared by every ISA.
/// Included by each ISA's translation unit inside its own namespace, so the
/// compiler builds it with that unit's instruction set.
///
/// Micro must provide:
///   static constexpr std::int64_t kMr, kNr, kKc;  // rows per call, columns per packed panel, depth per block
///   template <int MR, bool kSeg> static void run(const MicroArgs&);  // kSeg: A read in segments
/// B is packed for kNr and kKc (pack_gemm_b with the table that holds this micro-kernel).

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "kernels/kernels.h"

struct MicroArgs {
  std::int64_t kc;  // depth of this block
  const float* a;   // first row, at column kc0
  std::int64_t lda;
  const float* b;  // packed panel at row kc0: kc x kNr
  float* c;
  std::int64_t ldc;
  std::int64_t nr;    // valid columns (<= kNr)
  bool first;         // overwrite C (else accumulate)
  const float* bias;  // kNr values (zero padded) when this is the last block, else null
  convscope::ir::Activation act;
  bool last;
  // Segmented A (GemmArgs::a_seg), else seg == 0: `a` is row 0 at the block's
  // first depth, seg_left depths remain in its segment, the next segment starts
  // at seg_base + *seg_next (seg_base: row 0's start).
  std::int64_t seg = 0, seg_left = 0;
  const float* seg_base = nullptr;
  const std::int64_t* seg_next = nullptr;
  // Lines of packed B to bring towards L2 while this tile runs (the tile's
  // share of the next panel), spread over its depth steps; pf_lines == 0: none.
  const float* pf = nullptr;
  std::int64_t pf_lines = 0;
  std::int64_t pf_per_step = 0;  // lines per depth step: the panel's share / kc, rounded up
};

/// One micro-kernel call for `rows` (1 <= rows <= Micro::kMr) rows: every row
/// count has its own instantiation, so a tail of any height up to kMr runs
/// with exactly its rows.
template <class Micro>
void run_micro(const MicroArgs& a, std::int64_t rows) {
  using Fn = void (*)(const MicroArgs&);
  static constexpr auto kTable = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<std::array<Fn, 2>, sizeof...(I)>{
        {{&Micro::template run<static_cast<int>(I) + 1, false>, &Micro::template run<static_cast<int>(I) + 1, true>}...}};
  }(std::make_index_sequence<static_cast<std::size_t>(Micro::kMr)>{});
  kTable[static_cast<std::size_t>(rows - 1)][a.seg > 0 ? 1 : 0](a);
}

/// Blocks of packed B up to this size run row tile by row tile (see gemm_rows):
/// half of the smallest L1 data cache of the x86 cores measured (32 KiB: Zen 3
/// and Zen 4; 48 KiB on Zen 5 and Intel's server cores), the rest for A and C.
inline constexpr std::int64_t kTilesOuterBytes = 16 * 1024;

template <class Micro>
void gemm_rows(const convscope::kernels::GemmArgs& g, std::int64_t row_begin, std::int64_t row_end) {
  constexpr std::int64_t kKc = Micro::kKc, kNr = Micro::kNr;
  constexpr std::int64_t kMc = Micro::kMr * 12;
  const std::int64_t panels = (g.n + kNr - 1) / kNr;
  const float* const b_end = g.packed_b + panels * kNr * g.k;
  const std::int64_t p_begin = g.col_begin / kNr, p_end = g.col_end > 0 ? (g.col_end + kNr - 1) / kNr : panels;
  alignas(64) float bias_pad[kNr];
  for (std::int64_t k0 = 0; k0 < g.k; k0 += kKc) {
    const std::int64_t kc = std::min(kKc, g.k - k0);
    const bool first = k0 == 0 && !g.accumulate, last = k0 + kc == g.k;
    // A block of B this small stays in L1 whole (MobileNetV1's first pointwise
    // layer, 32 x 64; MobileNetV2's expansions of 16 and 24 channels): each row
    // tile then runs every panel while its rows of A are in L1, instead of
    // every row tile running one panel while that panel is (on an Intel Xeon
    // with AVX-512: 4-18 % faster on those shapes; with larger blocks of B,
    // mixed, docs/performance.md). Its first tile brings in the next panel.
    const bool tiles_outer = kc * (p_end - p_begin) * kNr * 4 <= kTilesOuterBytes;
    for (std::int64_t m0 = row_begin; m0 < row_end; m0 += kMc) {
      const std::int64_t m1 = std::min(m0 + kMc, row_end);
      const std::int64_t tiles = (m1 - m0 + Micro::kMr - 1) / Micro::kMr;
      // Each tile's share of the next panel's lines and the lines per depth
      // step, divided here once per row block, not per tile: a 64-bit division
      // takes tens of cycles on some cores, and a shallow GEMM's tile (k = 16,
      // 24) has only that many depth steps.
      const std::int64_t sharers = tiles_outer ? 1 : tiles;
      const std::int64_t share = (kc * kNr * 4 / 64 + sharers - 1) / sharers;
      const std::int64_t pf_per_step = (share + kc - 1) / kc;
      // Row tile t (rows from i) over panel p.
      auto run_tile = [&](std::int64_t p, std::int64_t i, std::int64_t t) {
        const std::int64_t j = p * kNr;
        const std::int64_t nr = std::min(kNr, (g.col_end > 0 ? g.col_end : g.n) - j);
        // The tile reads whole vectors of bias: a partial panel's come zero-padded.
        const float* bias = nullptr;
        if (last && g.bias && nr == kNr) {
          bias = g.bias + j;
        } else if (last && g.bias) {
          for (std::int64_t q = 0; q < kNr; ++q) bias_pad[q] = q < nr ? g.bias[j + q] : 0.f;
          bias = bias_pad;
        }
        const float* bp = g.packed_b + (k0 * panels + p * kc) * kNr;  // see pack_gemm_b
        // The next panel in B's stream, shared out among this panel's tiles:
        // a layer's weights come from L3 or DRAM once per run, and the few
        // tiles of a small layer cannot hide that latency on their own.
        const float* next = bp + kc * kNr;
        const std::int64_t next_lines = std::min(kc * kNr, b_end - next) * 4 / 64;
        MicroArgs a{kc, g.a + i * g.lda + k0, g.lda, bp, g.c + i * g.ldc + j, g.ldc, nr, first, bias, g.act, last};
        if (next_lines > 0 && t < sharers) {
          a.pf = next + t * share * 16;
          a.pf_lines = std::max<std::int64_t>(0, std::min(share, next_lines - t * share));
          a.pf_per_step = pf_per_step;
        }
        if (g.a_seg > 0) {
          const float* arow = g.a + i * g.lda;
          const std::int64_t si = k0 / g.a_seg, within = k0 % g.a_seg;
          a.a = arow + g.a_seg_offsets[si] + within;
          a.seg = g.a_seg;
          a.seg_left = g.a_seg - within;
          a.seg_base = arow;
          a.seg_next = g.a_seg_offsets + si + 1;
        }
        // The C lines of the tile two row tiles on, brought in for writing:
        // a shallow GEMM's tile (MobileNets' first convolution, k = 27; a fire
        // module's expand, k = 16) takes about a memory latency, and its
        // stores into lines that left the cache (a network's large outputs)
        // otherwise wait on them in the store buffer. On an Intel Xeon
        // (AVX-512), one thread, in the network: MobileNetV1's first
        // convolution 298-304 us without, 251-271 two tiles ahead (246-264 one
        // ahead, 269-286 four), its first fused block 623-637 -> 581-599;
        // SqueezeNet 1.1's expands 14 % faster (docs/performance.md).
        if (last) {
          const std::int64_t r0 = i + 2 * Micro::kMr, r1 = std::min(r0 + Micro::kMr, row_end);
          for (std::int64_t r = r0; r < r1; ++r)
            for (std::int64_t q = 0; q < nr; q += 16) __builtin_prefetch(g.c + r * g.ldc + j + q, 1, 3);
        }
        run_micro<Micro>(a, std::min<std::int64_t>(Micro::kMr, m1 - i));
      };
      if (tiles_outer) {
        for (std::int64_t i = m0, t = 0; i < m1; i += Micro::kMr, ++t)
          for (std::int64_t p = p_begin; p < p_end; ++p) run_tile(p, i, t);
      } else {
        for (std::int64_t p = p_begin; p < p_end; ++p)
          for (std::int64_t i = m0, t = 0; i < m1; i += Micro::kMr, ++t) run_tile(p, i, t);
      }
    }
  }
}
