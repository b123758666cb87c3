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
    for (std::int64_t m0 = row_begin; m0 < row_end; m0 += kMc) {
      const std::int64_t m1 = std::min(m0 + kMc, row_end);
      for (std::int64_t p = p_begin; p < p_end; ++p) {
        const std::int64_t j = p * kNr;
        const std::int64_t nr = std::min(kNr, (g.col_end > 0 ? g.col_end : g.n) - j);
        const float* bias = nullptr;
        if (last && g.bias) {
          for (std::int64_t t = 0; t < kNr; ++t) bias_pad[t] = t < nr ? g.bias[j + t] : 0.f;
          bias = bias_pad;
        }
        const float* bp = g.packed_b + (k0 * panels + p * kc) * kNr;  // see pack_gemm_b
        // The next panel in B's stream, shared out among this panel's tiles:
        // a layer's weights come from L3 or DRAM once per run, and the few
        // tiles of a small layer cannot hide that latency on their own.
        const float* next = bp + kc * kNr;
        const std::int64_t next_lines = std::min(kc * kNr, b_end - next) * 4 / 64;
        const std::int64_t tiles = (m1 - m0 + Micro::kMr - 1) / Micro::kMr;
        const std::int64_t share = next_lines > 0 ? (next_lines + tiles - 1) / tiles : 0;
        // Divided here, once per panel, not in every tile: a 64-bit division
        // takes tens of cycles on some cores, and a shallow GEMM's tile (k =
        // 16, 24) has only that many depth steps.
        const std::int64_t pf_per_step = (share + kc - 1) / kc;
        for (std::int64_t i = m0, t = 0; i < m1; i += Micro::kMr, ++t) {
          const float* arow = g.a + i * g.lda;
          MicroArgs a{kc, arow + k0, g.lda, bp, g.c + i * g.ldc + j, g.ldc, nr, first, bias, g.act, last};
          if (share > 0) {
            a.pf = next + t * share * 16;
            a.pf_lines = std::max<std::int64_t>(0, std::min(share, next_lines - t * share));
            a.pf_per_step = pf_per_step;
          }
          if (g.a_seg > 0) {
            const std::int64_t si = k0 / g.a_seg, within = k0 % g.a_seg;
            a.a = arow + g.a_seg_offsets[si] + within;
            a.seg = g.a_seg;
            a.seg_left = g.a_seg - within;
            a.seg_base = arow;
            a.seg_next = g.a_seg_offsets + si + 1;
          }
          run_micro<Micro>(a, std::min<std::int64_t>(Micro::kMr, m1 - i));
        }
      }
    }
  }
}
