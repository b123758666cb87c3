#pragma once
/// The cache-blocking loops around a GEMM micro-kernel, shared by every ISA.
/// Included by each ISA's translation unit inside its own namespace, so the
/// compiler builds it with that unit's instruction set.
///
/// Micro must provide:
///   static constexpr std::int64_t kMr;   // rows per call (columns are kGemmNr)
///   template <int MR> static void run(const MicroArgs&);

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
};

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
          MicroArgs a{kc, g.a + i * g.lda + k0, g.lda, bp, g.c + i * g.ldc + j, g.ldc, nr, first, bias, g.act, last};
          switch (std::min<std::int64_t>(Micro::kMr, m1 - i)) {
            case 1:
              Micro::template run<1>(a);
              break;
            case 2:
              Micro::template run<2>(a);
              break;
            case 3:
              Micro::template run<3>(a);
              break;
            case 4:
              Micro::template run<4>(a);
              break;
            case 5:
              Micro::template run<5>(a);
              break;
            default:
              Micro::template run<Micro::kMr>(a);
              break;
          }
        }
      }
    }
  }
}
