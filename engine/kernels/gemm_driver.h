#pragma once
/// The cache-blocking loops around a GEMM micro-kernel, shared by every ISA.
/// Included by each ISA's translation unit inside its own namespace, so the
/// compiler builds it with that unit's instruction set.
///
/// Micro must provide:
///   static constexpr std::int64_t kMr;   // rows per call (columns are kGemmNr)
///   template <int MR, bool kSeg> static void run(const MicroArgs&);  // kSeg: A read in segments

#include <algorithm>
#include <cstdint>

#include "kernels/kernels.h"

struct MicroArgs {
  std::int64_t kc;  // depth of this block
  const float* a;   // first row, at column kc0
  std::int64_t lda;
  const float* b;  // packed panel at row kc0: kc x kGemmNr
  float* c;
  std::int64_t ldc;
  std::int64_t nr;    // valid columns (<= kGemmNr)
  bool first;         // overwrite C (else accumulate)
  const float* bias;  // kGemmNr values (zero padded) when this is the last block, else null
  convscope::ir::Activation act;
  bool last;
  // Segmented A (GemmArgs::a_seg), else seg == 0: `a` is row 0 at the block's
  // first depth, seg_left depths remain in its segment, the next segment starts
  // at seg_base + *seg_next (seg_base: row 0's start).
  std::int64_t seg = 0, seg_left = 0;
  const float* seg_base = nullptr;
  const std::int64_t* seg_next = nullptr;
};

/// One micro-kernel call for `rows` (<= kMr) rows.
template <class Micro>
void run_micro(const MicroArgs& a, std::int64_t rows) {
  auto go = [&]<int MR>() {
    if (a.seg > 0)
      Micro::template run<MR, true>(a);
    else
      Micro::template run<MR, false>(a);
  };
  switch (rows) {
    case 1:
      return go.template operator()<1>();
    case 2:
      return go.template operator()<2>();
    case 3:
      return go.template operator()<3>();
    case 4:
      return go.template operator()<4>();
    case 5:
      return go.template operator()<5>();
    default:
      return go.template operator()<Micro::kMr>();
  }
}

template <class Micro>
void gemm_rows(const convscope::kernels::GemmArgs& g, std::int64_t row_begin, std::int64_t row_end) {
  using convscope::kernels::kGemmKc;
  using convscope::kernels::kGemmNr;
  constexpr std::int64_t kMc = Micro::kMr * 12;
  const std::int64_t panels = (g.n + kGemmNr - 1) / kGemmNr;
  alignas(32) float bias_pad[kGemmNr];
  for (std::int64_t k0 = 0; k0 < g.k; k0 += kGemmKc) {
    const std::int64_t kc = std::min(kGemmKc, g.k - k0);
    const bool first = k0 == 0 && !g.accumulate, last = k0 + kc == g.k;
    for (std::int64_t m0 = row_begin; m0 < row_end; m0 += kMc) {
      const std::int64_t m1 = std::min(m0 + kMc, row_end);
      for (std::int64_t p = 0; p < panels; ++p) {
        const std::int64_t j = p * kGemmNr;
        const std::int64_t nr = std::min(kGemmNr, g.n - j);
        const float* bias = nullptr;
        if (last && g.bias) {
          for (std::int64_t t = 0; t < kGemmNr; ++t) bias_pad[t] = t < nr ? g.bias[j + t] : 0.f;
          bias = bias_pad;
        }
        const float* bp = g.packed_b + (k0 * panels + p * kc) * kGemmNr;  // see pack_gemm_b
        for (std::int64_t i = m0; i < m1; i += Micro::kMr) {
          const float* arow = g.a + i * g.lda;
          MicroArgs a{kc, arow + k0, g.lda, bp, g.c + i * g.ldc + j, g.ldc, nr, first, bias, g.act, last};
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
