#pragma once
/// The SIMD kernels, written once over a vector type and compiled once per
/// instruction set: avx2.cpp and avx512.cpp each define `struct V` (the
/// register and mask types, their operations and the tile sizes that suit the
/// register file) and include this file inside their own namespace, so every
/// function here is built with that unit's ISA flags and inlines V's intrinsics.
///
/// V provides:
///   using R (a register of kLanes floats), M (a lane mask);
///   kLanes; kGemmMr, kGemmNv (GEMM tile: kGemmMr rows x kGemmNv vectors), kGemmKc;
///   kFmaChains (independent chains in the calibration loop);
///   zero, set1, loadu, storeu, load_mask, store_mask, fmadd, add, mul, div, min, max,
///   round (to nearest), scale2(a, n) = a * 2^n (n integral in [-126, 127]), tail_mask(n < kLanes).
/// min(a, b) and max(a, b) return b when either is NaN (as x86's minps/maxps do).

#include <cstdint>

#include "kernels/elementwise_impl.h"
#include "kernels/gemm_driver.h"
#include "kernels/kernels.h"

using convscope::ir::Activation;
using convscope::kernels::DwArgs;
using convscope::kernels::GemmArgs;
using convscope::kernels::KernelTable;
using R = V::R;
using M = V::M;
constexpr int L = V::kLanes;

/// e^x to within a few ulp over the normal range: e^x = 2^n * e^r with n the
/// nearest integer to x / ln 2 and |r| <= ln 2 / 2 (r computed with ln 2 split
/// in two, so n * ln 2 subtracts exactly), e^r by its Taylor series to r^7
/// (truncation below 1e-8 relative for |r| <= 0.35). x is clamped so that
/// 2^n stays a normal float; sigmoid and swish only need that range.
inline R vector_exp(R x) {
  x = V::min(V::max(x, V::set1(-87.0f)), V::set1(88.0f));
  const R n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  R r = V::fmadd(n, V::set1(-0.693145751953125f), x);      // ln 2, high part: 16 significant bits
  r = V::fmadd(n, V::set1(-1.42860682030941723e-06f), r);  // ln 2 - the high part
  R p = V::set1(1.f / 5040.f);
  p = V::fmadd(p, r, V::set1(1.f / 720.f));
  p = V::fmadd(p, r, V::set1(1.f / 120.f));
  p = V::fmadd(p, r, V::set1(1.f / 24.f));
  p = V::fmadd(p, r, V::set1(1.f / 6.f));
  p = V::fmadd(p, r, V::set1(0.5f));
  p = V::fmadd(p, r, V::set1(1.f));
  p = V::fmadd(p, r, V::set1(1.f));
  return V::scale2(p, n);
}

/// 1 / (1 + e^-v).
inline R vector_sigmoid(R v) {
  const R one = V::set1(1.f);
  return V::div(one, V::add(one, vector_exp(V::mul(v, V::set1(-1.f)))));
}

/// Every activation in vector form (the epilogue of GEMM, depthwise and the element-wise loops).
inline R vector_act(R v, Activation act) {
  const R zero = V::zero(), six = V::set1(6.f);
  switch (act) {
    case Activation::None:
      return v;
    case Activation::ReLU:
      return V::max(v, zero);
    case Activation::ReLU6:
      return V::min(V::max(v, zero), six);
    case Activation::HSigmoid:
      return V::mul(V::min(V::max(V::add(v, V::set1(3.f)), zero), six), V::set1(1.f / 6.f));
    case Activation::HSwish:
      return V::mul(v, V::mul(V::min(V::max(V::add(v, V::set1(3.f)), zero), six), V::set1(1.f / 6.f)));
    case Activation::Sigmoid:
      return vector_sigmoid(v);
    case Activation::Swish:
      return V::mul(v, vector_sigmoid(v));
  }
  return v;
}

template <bool kMasked>
inline R load(const float* p, M mask) {
  if constexpr (kMasked)
    return V::load_mask(p, mask);
  else
    return V::loadu(p);
}

template <bool kMasked>
inline void store(float* p, R v, M mask) {
  if constexpr (kMasked)
    V::store_mask(p, mask, v);
  else
    V::storeu(p, v);
}

/// Stores one vector of results through the activation.
template <bool kMasked>
inline void store_act(float* y, R v, Activation act, M mask) {
  store<kMasked>(y, vector_act(v, act), mask);
}

/// The activation over n contiguous values, in place.
inline void activation_simd(float* y, std::int64_t n, Activation act) {
  if (act == Activation::None) return;
  std::int64_t i = 0;
  for (; i + L <= n; i += L) V::storeu(y + i, vector_act(V::loadu(y + i), act));
  if (i < n) {
    const M m = V::tail_mask(n - i);
    V::store_mask(y + i, m, vector_act(V::load_mask(y + i, m), act));
  }
}

/// y = act(a + b) over n values.
inline void add_simd(const float* a, const float* b, float* y, std::int64_t n, Activation act) {
  std::int64_t i = 0;
  for (; i + L <= n; i += L) V::storeu(y + i, vector_act(V::add(V::loadu(a + i), V::loadu(b + i)), act));
  if (i < n) {
    const M m = V::tail_mask(n - i);
    V::store_mask(y + i, m, vector_act(V::add(V::load_mask(a + i, m), V::load_mask(b + i, m)), act));
  }
}

// ---------------------------------------------------------------------------
// GEMM

/// Register-blocked micro-kernel: up to kGemmMr rows x kGemmNv vectors of
/// accumulators; per depth step NV loads of B and one broadcast of A per row.
/// A panel whose valid columns fit fewer vectors (the last one of a 24-channel
/// layer, say) runs with fewer, so no FMA is spent on padding.
struct Micro {
  static constexpr std::int64_t kMr = V::kGemmMr;
  static constexpr std::int64_t kNr = V::kGemmNv * L;
  static constexpr std::int64_t kKc = V::kGemmKc;

  template <int MR, bool kSeg>
  static void run(const MicroArgs& m) {
    const std::int64_t nv = (m.nr + L - 1) / L;
    // A last vector with few valid columns (24 = 16 + 8) runs half-width where the table has that.
    if constexpr (V::kHalfLanes > 0)
      if (m.nr - (nv - 1) * L <= V::kHalfLanes) return run_nv<MR, kSeg, true>(m, nv);
    run_nv<MR, kSeg, false>(m, nv);
  }
  template <int MR, bool kSeg, bool kHalf>
  static void run_nv(const MicroArgs& m, std::int64_t nv) {
    if constexpr (V::kGemmNv > 1)
      if (nv == 1) return tile<MR, 1, kSeg, kHalf>(m);
    if constexpr (V::kGemmNv > 2)
      if (nv == 2) return tile<MR, 2, kSeg, kHalf>(m);
    if constexpr (V::kGemmNv > 3)
      if (nv == 3) return tile<MR, 3, kSeg, kHalf>(m);
    tile<MR, V::kGemmNv, kSeg, kHalf>(m);
  }

  /// Packed B is read front to back, one stream (pack_gemm_b); a layer's
  /// weights come from L3 or DRAM once per run, and a tile of one or two rows
  /// (a fully connected layer) has too few FMAs per line of B to hide that
  /// latency, so it prefetches the line(s) of B kBAhead depth steps ahead, past
  /// the panel's end into the next one. (Prefetching in the wider tiles too was
  /// measured: mixed, 0.89-1.15x on MobileNet's 1x1 shapes, so they do not.)
  static constexpr std::int64_t kBAhead = 24;
  static void prefetch_b(const float* b) {
    static_assert(kNr * 4 % 64 == 0, "B rows are whole cache lines");
#pragma GCC unroll 4
    for (std::int64_t l = 0; l < kNr * 4 / 64; ++l) __builtin_prefetch(b + kBAhead * kNr + l * 16, 0, 3);
  }

  /// kHalf: the last vector's valid columns fit V::kHalfLanes, and its loads of
  /// B and its FMAs run half-width (the upper lanes stay zero).
  template <int MR, int NV, bool kSeg, bool kHalf>
  static void tile(const MicroArgs& m) {
    auto load_b = [](const float* p, int v) { return kHalf && v == NV - 1 ? V::loadu_half(p) : V::loadu(p); };
    auto fma = [](int v, R a, R b, R c) { return kHalf && v == NV - 1 ? V::fmadd_half(a, b, c) : V::fmadd(a, b, c); };
    R acc[MR][NV];
    // Lanes of the last vector that hold valid columns (all of them on a full panel).
    const std::int64_t last_lanes = m.nr - (NV - 1) * L;
    const bool full = last_lanes == L;
    const M mask = full ? V::tail_mask(0) : V::tail_mask(last_lanes);
    auto load_c = [&](int r, int v) {
      const float* p = m.c + r * m.ldc + v * L;
      return (v == NV - 1 && !full) ? V::load_mask(p, mask) : V::loadu(p);
    };
    // A GEMM of one depth block starts from its bias (no adds in the epilogue).
    const bool bias_first = m.first && m.last && m.bias;
    if (bias_first) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        const R bb = V::loadu(m.bias + v * L);
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) acc[r][v] = bb;
      }
    } else if (m.first) {
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
    } else {
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = load_c(r, v);
    }
    const float* a = m.a;
    const float* b = m.b;
    std::int64_t k = 0;
    if constexpr (MR <= 2 && !kSeg) {
      // Few rows (a fully connected layer, a tail): NV chains per row would be
      // bound by the FMA latency, so split k over four partial sums.
      R p[3][MR][NV];
#pragma GCC unroll 3
      for (int u = 0; u < 3; ++u)
#pragma GCC unroll 2
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) p[u][r][v] = V::zero();
      for (; k + 4 <= m.kc; k += 4, b += 4 * kNr) {
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) prefetch_b(b + u * kNr);
#pragma GCC unroll 2
        for (int r = 0; r < MR; ++r) {
          const float* ar = a + r * m.lda + k;
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[r][v] = fma(v, V::set1(ar[0]), load_b(b + v * L, v), acc[r][v]);
#pragma GCC unroll 3
          for (int u = 0; u < 3; ++u) {
            const R av = V::set1(ar[u + 1]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; ++v) p[u][r][v] = fma(v, av, load_b(b + (u + 1) * kNr + v * L, v), p[u][r][v]);
          }
        }
      }
#pragma GCC unroll 2
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = V::add(V::add(acc[r][v], p[0][r][v]), V::add(p[1][r][v], p[2][r][v]));
    }
    // One depth step j: NV vectors of B, one broadcast of A per row. Row r
    // is read from base[r / 3] at (r % 3) * lda + j: one pointer per three
    // rows, the stride scaled in the address (base + index * 4 or 8), so the
    // addresses take a few registers. With one offset per row the 14 x 32
    // AVX-512 tile ran out of registers: GCC reloaded three offsets from the
    // stack and one from a vector register in every depth step (on an Intel
    // Xeon with AVX-512 the tile in L1 ran 8 % slower that way,
    // docs/performance.md).
    constexpr int kGroups = (MR + 2) / 3;
    const std::int64_t lda = m.lda;
    auto depth_step = [&](const float* const* base, std::int64_t j, const float* bk) {
      R bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = load_b(bk + v * L, v);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const R av = V::set1(base[r / 3][(r % 3) * lda + j]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = fma(v, av, bv[v], acc[r][v]);
      }
    };
    // The next panel's lines, a few per depth step (see MicroArgs::pf).
    const float* pf = m.pf;
    std::int64_t pf_left = m.pf_lines;
    const std::int64_t pf_per_step = m.pf_per_step;
    auto prefetch_next = [&](std::int64_t lines) {
      for (; lines > 0 && pf_left > 0; --lines, --pf_left, pf += 16) __builtin_prefetch(pf, 0, 2);
    };
    // n depth steps from `ak` (row 0) on. The prefetches go out four steps
    // worth at a time, so the loop that does the FMAs holds nothing else: with
    // the prefetch loop inside every step the AVX2 6 x 16 tile's loop carried
    // about 35 instructions and several branches per 12 FMAs, now 25 and one
    // (docs/performance.md, the Zen 3 section). Not unrolled: four steps
    // unrolled made GCC spill accumulators.
    auto depths = [&](const float* ak, std::int64_t n) {
      const float* base[kGroups];
#pragma GCC unroll 8
      for (int g = 0; g < kGroups; ++g) base[g] = ak + 3 * g * lda;
      std::int64_t j = 0;
      while (pf_left > 0 && j < n) {
        const std::int64_t steps = std::min<std::int64_t>(4, n - j);
        prefetch_next(steps * pf_per_step);
#pragma GCC unroll 1
        for (const std::int64_t end = j + steps; j < end; ++j, b += kNr) depth_step(base, j, b);
      }
#pragma GCC unroll 1
      for (; j < n; ++j, b += kNr) depth_step(base, j, b);
    };
    if constexpr (kSeg) {
      // A in segments (an implicit im2col): each segment's depths in a loop of
      // the same shape as the plain one below, then on to the next segment
      // (stepping the segment inside the depth loop cost GCC a register: it
      // spilled an accumulator).
      const float* ak = a;
      std::int64_t left = m.seg_left;
      const std::int64_t* next = m.seg_next;
      while (k < m.kc) {
        const std::int64_t n = std::min(left, m.kc - k);
        depths(ak, n);
        k += n;
        ak = m.seg_base + *next++;
        left = m.seg;
      }
    }
    if (k < m.kc) depths(a + k, m.kc - k);
    if (m.last) {
      if (m.bias && !bias_first) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          const R bb = V::loadu(m.bias + v * L);
#pragma GCC unroll 16
          for (int r = 0; r < MR; ++r) acc[r][v] = V::add(acc[r][v], bb);
        }
      }
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = vector_act(acc[r][v], m.act);
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        float* p = m.c + r * m.ldc + v * L;
        if (v == NV - 1 && !full)
          V::store_mask(p, mask, acc[r][v]);
        else
          V::storeu(p, acc[r][v]);
      }
  }
};

inline void gemm(const GemmArgs& g, std::int64_t row_begin, std::int64_t row_end) {
  gemm_rows<Micro>(g, row_begin, row_end);
}

// ---------------------------------------------------------------------------
// Depthwise convolution

/// What a depthwise tile does to its results before storing them: a clamp to
/// [lo, hi], which is the identity, ReLU or ReLU6 (other activations are
/// applied to each finished row afterwards, see dw_rows).
struct DwClamp {
  R lo, hi;
  static bool covers(Activation act) {
    return act == Activation::None || act == Activation::ReLU || act == Activation::ReLU6;
  }
  explicit DwClamp(Activation act)
      : lo(V::set1(act == Activation::None ? -__builtin_inff() : 0.f)),
        hi(V::set1(act == Activation::ReLU6 ? 6.f : __builtin_inff())) {}
};

/// The depthwise tiles are unrolled into their row walkers in optimised builds
/// (their accumulators and weights must stay in registers). Sanitizer builds
/// (clang, ASan + UBSan) keep each tile a function of its own: inlined, the
/// instrumented column-order tiles took clang over 50 minutes to compile.
#if defined(__SANITIZE_ADDRESS__)
#define CONVSCOPE_DW_INLINE __attribute__((noinline))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONVSCOPE_DW_INLINE __attribute__((noinline))
#endif
#endif
#ifndef CONVSCOPE_DW_INLINE
#define CONVSCOPE_DW_INLINE __attribute__((always_inline)) inline
#endif

/// One kernel row of a depthwise tile: the kSpan input pixels under T output
/// pixels, NV channel vectors each, against that row's K weights. Each input
/// vector is loaded once and feeds every output pixel whose window covers it
/// (a sliding window in registers). With kClip, input columns outside
/// [0, in_w) are skipped (border tiles); the first kSkipL and last kSkipR
/// input columns are skipped with no test at run time. kPin keeps each input
/// load a load of its own: without it GCC folds the load into each of the K
/// multiply-adds that use it, which made the column-order tile load-bound (in
/// pixel-major order it measured no better).
template <int K, int S, int T, int NV, bool kMasked, bool kClip, bool kPin, int kSkipL = 0, int kSkipR = 0>
CONVSCOPE_DW_INLINE void dw_tap_row(const float* r, std::int64_t in_px, std::int64_t ix0, std::int64_t in_w,
                                    const R (&wv)[K][NV], R (&acc)[T][NV], M mask) {
  constexpr int kSpan = (T - 1) * S + K;  // input pixels of one kernel row under the tile
#pragma GCC unroll 32
  for (int i = kSkipL; i < kSpan - kSkipR; ++i) {
    if (kClip && (ix0 + i < 0 || ix0 + i >= in_w)) continue;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      R xv = load<kMasked>(r + i * in_px + L * v, mask);
      if constexpr (kPin) __asm__("" : "+v"(xv));
#pragma GCC unroll 7
      for (int kx = 0; kx < K; ++kx) {
        const int p = i - kx;  // output pixel p / S reads input i through kernel column kx
        if (p >= 0 && p % S == 0 && p / S < T) acc[p / S][v] = V::fmadd(xv, wv[kx][v], acc[p / S][v]);
      }
    }
  }
}

/// Depthwise tile: T neighbouring output pixels of one row, NV vectors of L
/// channels at a time over the channel range [ch, ch_end), kernel K x K at
/// stride S (no dilation). Each input pixel of a kernel row is loaded once and
/// feeds every output pixel whose window covers it (a sliding window in
/// registers): for 3x3/1, T = 4 and NV = 2 that is 12 input and 6 weight loads
/// for 24 FMAs per kernel row, against 2 loads per FMA for a per-tap loop;
/// T x NV accumulators hide the FMA latency.
/// `x` points at the tile's first input pixel (column ix0, kernel row 0, channel
/// 0); kernel rows outside [ky_lo, ky_hi) fall in the padding and are skipped.
/// With kClip, input columns outside [0, in.w) are skipped too (border tiles).
/// Returns the first channel not done.
template <int K, int S, int T, int NV, bool kMasked, bool kClip>
std::int64_t dw_tile(const DwArgs& d, const float* x, std::int64_t ix0, float* y, std::int64_t ky_lo,
                     std::int64_t ky_hi, std::int64_t ch, std::int64_t ch_end, const DwClamp& clamp, M mask) {
  const std::int64_t ws = d.w_stride, in_px = d.in.stride, in_row = d.in.w * d.in.stride, out_px = d.out.stride;
  for (; ch + L * NV <= ch_end; ch += L * NV) {
    const float* w = d.weights + ch;
    R acc[T][NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const R b = d.bias ? load<kMasked>(d.bias + ch + L * v, mask) : V::zero();
#pragma GCC unroll 8
      for (int px = 0; px < T; ++px) acc[px][v] = b;
    }
    for (std::int64_t ky = ky_lo; ky < ky_hi; ++ky) {
      R wv[K][NV];
#pragma GCC unroll 7
      for (int kx = 0; kx < K; ++kx)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) wv[kx][v] = load<kMasked>(w + (ky * K + kx) * ws + L * v, mask);
      dw_tap_row<K, S, T, NV, kMasked, kClip, false>(x + ky * in_row + ch, in_px, ix0, d.in.w, wv, acc, mask);
    }
#pragma GCC unroll 8
    for (int px = 0; px < T; ++px)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        // Operand order: a NaN result stays NaN (max/min return their second operand on NaN).
        store<kMasked>(y + px * out_px + ch + L * v, V::min(clamp.hi, V::max(clamp.lo, acc[px][v])), mask);
  }
  return ch;
}

/// Channel vectors per tile of T pixels, and the widest tile (V::dw_vectors,
/// V::dw_max_tile: what its register file holds).
template <int K, int T>
inline constexpr int kDwVectors = V::dw_vectors(K, T);

/// Output pixels [ox, ox + T) of row oy, every channel.
template <int K, int S, int T, bool kClip>
void dw_tiles(const DwArgs& d, std::int64_t oy, std::int64_t ox, std::int64_t ky_lo, std::int64_t ky_hi,
              const DwClamp& clamp) {
  constexpr int NV = kDwVectors<K, T>;
  const std::int64_t c = d.in.c, cv = c / L * L;
  const M mask = V::tail_mask(c - cv);
  const std::int64_t ix0 = ox * S - d.pad;
  const float* x = d.in.data + ((oy * S - d.pad) * d.in.w + ix0) * d.in.stride;
  float* y = d.out.px(oy, ox);
  std::int64_t ch = dw_tile<K, S, T, NV, false, kClip>(d, x, ix0, y, ky_lo, ky_hi, 0, cv, clamp, mask);
  if constexpr (NV > 1) ch = dw_tile<K, S, T, 1, false, kClip>(d, x, ix0, y, ky_lo, ky_hi, ch, cv, clamp, mask);
  if (ch < c) dw_tile<K, S, T, 1, true, kClip>(d, x, ix0, y, ky_lo, ky_hi, ch, ch + L, clamp, mask);
}

/// One output row's tiles of width T from ox on, while they fit in the row;
/// tiles reaching into the left or right padding take the clipped variant.
template <int K, int S, int T>
void dw_row(const DwArgs& d, std::int64_t oy, std::int64_t x_lo, std::int64_t x_hi, std::int64_t ky_lo,
            std::int64_t ky_hi, const DwClamp& clamp, std::int64_t& ox) {
  for (; ox + T <= d.out.w; ox += T) {
    if (ox >= x_lo && ox + T <= x_hi)
      dw_tiles<K, S, T, false>(d, oy, ox, ky_lo, ky_hi, clamp);
    else
      dw_tiles<K, S, T, true>(d, oy, ox, ky_lo, ky_hi, clamp);
  }
}

/// A channel vector's depthwise weights in column order: 3 x 3 held in nine
/// registers for the whole column; 5 x 5 and 7 x 7 (25 or 49 would not leave
/// room for a tile) one kernel row at a time from L1, K loads per tile row.
template <int K, bool kMasked>
struct DwColumnWeights {
  static constexpr bool kHeld = K == 3;
  R held[kHeld ? K * K : 1];
  const float* w;
  std::int64_t stride;
  M mask;
  DwColumnWeights(const DwArgs& d, std::int64_t ch, M m) : w(d.weights + ch), stride(d.w_stride), mask(m) {
    if constexpr (kHeld)
#pragma GCC unroll 9
      for (int t = 0; t < K * K; ++t) held[t] = load<kMasked>(w + t * stride, mask);
  }
  [[gnu::always_inline]] void row(int ky, R (&out)[K][1]) const {
#pragma GCC unroll 7
    for (int kx = 0; kx < K; ++kx)
      out[kx][0] = kHeld ? held[ky * K + kx] : load<kMasked>(w + (ky * K + kx) * stride, mask);
  }
};

/// Column order (register files of 32, V::kDwColumns): one channel vector at a
/// time over every output row of the range, its bias (and 3 x 3 weights) held
/// in registers the whole way. Against dw_tile's pixel-major order the 3 x 3
/// weights are loaded once per channel vector instead of once per tile and
/// kernel row, and the K input rows a vector reads (K x W x 64 bytes) stay in
/// L1 from one output row to the next instead of being fetched again from L2
/// for each of the K rows that read them. Registers: T accumulators, the
/// weights (K x K or K), the bias, the clamp and the input.
template <int K, int S, int T, bool kMasked, bool kClip, int kSkipL = 0, int kSkipR = 0>
CONVSCOPE_DW_INLINE void dw_column_tile(const DwArgs& d, const float* x, std::int64_t ix0, float* y, std::int64_t ky_lo,
                                        std::int64_t ky_hi, const DwColumnWeights<K, kMasked>& wts, R b,
                                        const DwClamp& clamp, bool clamp_only, M mask) {
  const std::int64_t in_row = d.in.w * d.in.stride, out_px = d.out.stride;
  R acc[T][1];
#pragma GCC unroll 8
  for (int px = 0; px < T; ++px) acc[px][0] = b;
#pragma GCC unroll 7
  for (int ky = 0; ky < K; ++ky) {
    if (ky < ky_lo || ky >= ky_hi) continue;
    R wv[K][1];
    wts.row(ky, wv);
    dw_tap_row<K, S, T, 1, kMasked, kClip, true, kSkipL, kSkipR>(x + ky * in_row, d.in.stride, ix0, d.in.w, wv, acc,
                                                                 mask);
  }
  if (clamp_only) {
#pragma GCC unroll 8
    for (int px = 0; px < T; ++px)
      store<kMasked>(y + px * out_px, V::min(clamp.hi, V::max(clamp.lo, acc[px][0])), mask);
  } else {
#pragma GCC unroll 8
    for (int px = 0; px < T; ++px) store_act<kMasked>(y + px * out_px, acc[px][0], d.act, mask);
  }
}

/// One row's tiles of width T from ox on, for the channel vector at ch.
template <int K, int S, int T, bool kMasked>
CONVSCOPE_DW_INLINE void dw_column_row(const DwArgs& d, std::int64_t oy, std::int64_t ch, std::int64_t x_lo,
                                       std::int64_t x_hi, std::int64_t ky_lo, std::int64_t ky_hi,
                                       const DwColumnWeights<K, kMasked>& wts, R b, const DwClamp& clamp,
                                       bool clamp_only, M mask, std::int64_t& ox) {
  for (; ox + T <= d.out.w; ox += T) {
    const std::int64_t ix0 = ox * S - d.pad;
    const float* x = d.in.data + ((oy * S - d.pad) * d.in.w + ix0) * d.in.stride + ch;
    float* y = d.out.px(oy, ox) + ch;
    if (ox >= x_lo && ox + T <= x_hi) {
      dw_column_tile<K, S, T, kMasked, false>(d, x, ix0, y, ky_lo, ky_hi, wts, b, clamp, clamp_only, mask);
      continue;
    }
    if constexpr (T == 7) {
      // Rows of 7 and 14 are all border tiles; with the usual padding of K / 2
      // their clipped columns are known when compiling.
      constexpr int P = K / 2, kSpan = (T - 1) * S + K;
      const std::int64_t left = -ix0, right = ix0 + kSpan - d.in.w;
      if (left == P && right <= 0) {
        dw_column_tile<K, S, T, kMasked, false, P, 0>(d, x, ix0, y, ky_lo, ky_hi, wts, b, clamp, clamp_only, mask);
        continue;
      }
      if (left <= 0 && right == P) {
        dw_column_tile<K, S, T, kMasked, false, 0, P>(d, x, ix0, y, ky_lo, ky_hi, wts, b, clamp, clamp_only, mask);
        continue;
      }
      if (left == P && right == P) {
        dw_column_tile<K, S, T, kMasked, false, P, P>(d, x, ix0, y, ky_lo, ky_hi, wts, b, clamp, clamp_only, mask);
        continue;
      }
    }
    dw_column_tile<K, S, T, kMasked, true>(d, x, ix0, y, ky_lo, ky_hi, wts, b, clamp, clamp_only, mask);
  }
}

/// Every output row of the range for the channel vector at ch: tiles of 8
/// pixels (of 7 where `sevens`: DwRowWalk), then 4, 2, 1.
template <int K, int S, bool kMasked>
void dw_column(const DwArgs& d, std::int64_t ch, M mask, std::int64_t x_lo, std::int64_t x_hi, const DwClamp& clamp,
               bool clamp_only, bool sevens) {
  const DwColumnWeights<K, kMasked> wts(d, ch, mask);
  // The next vector's 25 or 49 weight lines, a tap row apart (a stride the
  // prefetchers do not follow): in a network they come from L3 or DRAM.
  // MobileNetV3-Large's 7 x 7 x 960 5x5 steps 52-54 -> 43 us; for 3x3 (nine
  // lines) no gain was measured.
  if constexpr (K > 3)
    if (ch + L < d.in.c)
      for (int t = 0; t < K * K; ++t) __builtin_prefetch(d.weights + t * d.w_stride + ch + L, 0, 3);
  const R b = d.bias ? load<kMasked>(d.bias + ch, mask) : V::zero();
  for (std::int64_t oy = d.y_begin; oy < d.y_end; ++oy) {
    const std::int64_t iy0 = oy * S - d.pad;
    const std::int64_t ky_lo = std::clamp<std::int64_t>(-iy0, 0, K);
    const std::int64_t ky_hi = std::clamp<std::int64_t>(d.in.h - iy0, ky_lo, K);
    std::int64_t ox = 0;
    if (sevens)
      dw_column_row<K, S, 7, kMasked>(d, oy, ch, x_lo, x_hi, ky_lo, ky_hi, wts, b, clamp, clamp_only, mask, ox);
    dw_column_row<K, S, 8, kMasked>(d, oy, ch, x_lo, x_hi, ky_lo, ky_hi, wts, b, clamp, clamp_only, mask, ox);
    dw_column_row<K, S, 4, kMasked>(d, oy, ch, x_lo, x_hi, ky_lo, ky_hi, wts, b, clamp, clamp_only, mask, ox);
    dw_column_row<K, S, 2, kMasked>(d, oy, ch, x_lo, x_hi, ky_lo, ky_hi, wts, b, clamp, clamp_only, mask, ox);
    dw_column_row<K, S, 1, kMasked>(d, oy, ch, x_lo, x_hi, ky_lo, ky_hi, wts, b, clamp, clamp_only, mask, ox);
  }
}

/// Column order runs over bands of output rows whose input fits this (a
/// quarter of a 1 MiB L2), every channel vector band by band: a vector's
/// input pixels are a pixel stride apart, a pattern the prefetchers do not
/// follow, so the first vector of a band fetches them from L3 or DRAM and
/// the others find them in L2. Unbanded, MobileNet-seg's 224 x 224 x 35
/// depthwise ran 1.33 -> 1.83 ms (pixel-major -> column order); banded 1.33.
inline constexpr std::int64_t kDwColumnBandBytes = 256 << 10;

template <int K, int S>
void dw_columns(const DwArgs& d, std::int64_t x_lo, std::int64_t x_hi, bool sevens) {
  const bool clamp_only = DwClamp::covers(d.act);
  const DwClamp clamp(clamp_only ? d.act : Activation::None);
  const std::int64_t c = d.in.c, cv = c / L * L;
  const std::int64_t row_bytes = S * d.in.w * d.in.stride * 4;
  const std::int64_t band = std::max<std::int64_t>(1, kDwColumnBandBytes / row_bytes);
  DwArgs b = d;
  for (b.y_begin = d.y_begin; b.y_begin < d.y_end; b.y_begin = b.y_end) {
    b.y_end = std::min(d.y_end, b.y_begin + band);
    for (std::int64_t ch = 0; ch < cv; ch += L)
      dw_column<K, S, false>(b, ch, M{}, x_lo, x_hi, clamp, clamp_only, sevens);
    if (cv < c) dw_column<K, S, true>(b, cv, V::tail_mask(c - cv), x_lo, x_hi, clamp, clamp_only, sevens);
  }
}

/// Rows [y_begin, y_end) of a K x K, stride S depthwise convolution: tiles of
/// the widest width that fits L1, then narrower ones for the rest of the row.
/// Activations beyond a clamp (h-swish, ...) run over each finished row while
/// it is still in cache.
template <int K, int S>
void dw_rows(const DwArgs& d, std::int64_t x_lo, std::int64_t x_hi) {
  const DwRowWalk walk = dw_row_walk(V::kDwColumns, K, S, d.in.w, d.in.stride, d.out.w, V::dw_max_tile(K));
  if constexpr (V::kDwColumns)
    if (walk.columns) return dw_columns<K, S>(d, x_lo, x_hi, walk.sevens);
  const int t = walk.widest;
  const bool clamp_only = DwClamp::covers(d.act);
  const DwClamp clamp(clamp_only ? d.act : Activation::None);
  for (std::int64_t oy = d.y_begin; oy < d.y_end; ++oy) {
    const std::int64_t iy0 = oy * S - d.pad;
    const std::int64_t ky_lo = std::clamp<std::int64_t>(-iy0, 0, K);
    const std::int64_t ky_hi = std::clamp<std::int64_t>(d.in.h - iy0, ky_lo, K);
    std::int64_t ox = 0;
    if (t >= 8) dw_row<K, S, 8>(d, oy, x_lo, x_hi, ky_lo, ky_hi, clamp, ox);
    if (t >= 4) dw_row<K, S, 4>(d, oy, x_lo, x_hi, ky_lo, ky_hi, clamp, ox);
    if (t >= 2) dw_row<K, S, 2>(d, oy, x_lo, x_hi, ky_lo, ky_hi, clamp, ox);
    dw_row<K, S, 1>(d, oy, x_lo, x_hi, ky_lo, ky_hi, clamp, ox);
    if (!clamp_only)
      for (std::int64_t px = 0; px < d.out.w; ++px) activation_simd(d.out.px(oy, px), d.out.c, d.act);
  }
}

/// One output pixel with its kernel clipped to the input, for the shapes the
/// tiles do not cover (dilation, stride > 2, kernels other than 3, 5, 7).
/// Four channel vectors at a time, so four FMA chains are in flight.
inline void dw_pixel(const DwArgs& d, std::int64_t oy, std::int64_t ox, std::int64_t ky_lo, std::int64_t ky_hi) {
  const std::int64_t c = d.in.c, cv = c / L * L, k = d.k;
  const M mask = V::tail_mask(c - cv);
  const std::int64_t iy0 = oy * d.stride - d.pad, ix0 = ox * d.stride - d.pad;
  std::int64_t kx_lo = 0, kx_hi = k;
  while (kx_lo < k && ix0 + kx_lo * d.dilation < 0) ++kx_lo;
  while (kx_hi > kx_lo && ix0 + (kx_hi - 1) * d.dilation >= d.in.w) --kx_hi;
  float* y = d.out.px(oy, ox);
  auto taps = [&]<int NV, bool kMasked>(std::int64_t ch) {
    R acc[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[v] = d.bias ? load<kMasked>(d.bias + ch + L * v, mask) : V::zero();
    for (std::int64_t ky = ky_lo; ky < ky_hi; ++ky) {
      const float* r = d.in.px(iy0 + ky * d.dilation, 0) + ch;
      for (std::int64_t kx = kx_lo; kx < kx_hi; ++kx) {
        const float* xp = r + (ix0 + kx * d.dilation) * d.in.stride;
        const float* wp = d.weights + (ky * k + kx) * d.w_stride + ch;
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          acc[v] = V::fmadd(load<kMasked>(xp + L * v, mask), load<kMasked>(wp + L * v, mask), acc[v]);
      }
    }
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) store_act<kMasked>(y + ch + L * v, acc[v], d.act, mask);
  };
  std::int64_t ch = 0;
  for (; ch + 4 * L <= cv; ch += 4 * L) taps.template operator()<4, false>(ch);
  for (; ch < cv; ch += L) taps.template operator()<1, false>(ch);
  if (ch < c) taps.template operator()<1, true>(ch);
}

inline void depthwise(const DwArgs& args) {
  DwArgs d = args;
  if (d.w_stride == 0) d.w_stride = d.in.c;
  // Output columns whose taps all fall inside the input.
  std::int64_t x_lo = 0, x_hi = d.out.w;
  while (x_lo < d.out.w && x_lo * d.stride - d.pad < 0) ++x_lo;
  while (x_hi > x_lo && (x_hi - 1) * d.stride - d.pad + (d.k - 1) * d.dilation >= d.in.w) --x_hi;
  if (d.dilation == 1) {
    switch (d.k * 10 + d.stride) {
      case 31:
        return dw_rows<3, 1>(d, x_lo, x_hi);
      case 32:
        return dw_rows<3, 2>(d, x_lo, x_hi);
      case 51:
        return dw_rows<5, 1>(d, x_lo, x_hi);
      case 52:
        return dw_rows<5, 2>(d, x_lo, x_hi);
      case 71:
        return dw_rows<7, 1>(d, x_lo, x_hi);
      case 72:
        return dw_rows<7, 2>(d, x_lo, x_hi);
      default:
        break;
    }
  }
  for (std::int64_t oy = d.y_begin; oy < d.y_end; ++oy) {
    const std::int64_t iy0 = oy * d.stride - d.pad;
    std::int64_t ky_lo = 0, ky_hi = d.k;
    while (ky_lo < d.k && iy0 + ky_lo * d.dilation < 0) ++ky_lo;
    while (ky_hi > ky_lo && iy0 + (ky_hi - 1) * d.dilation >= d.in.h) --ky_hi;
    for (std::int64_t ox = 0; ox < d.out.w; ++ox) dw_pixel(d, oy, ox, ky_lo, ky_hi);
  }
}

// ---------------------------------------------------------------------------
// Channel shuffle

/// y[a * groups + g] = x[g * per + a] per pixel: a transpose of groups x per.
/// Four groups by four channels at a time through a 4 x 4 transpose in 128-bit
/// registers (SSE, which every x86 table has), the groups and channels left
/// over element by element. On IGCV2's interleaves (4 to 16 groups) 1.6-2.8x
/// faster than the element loop (bench_kernels BM_Shuffle, Zen 5, AVX-512
/// table); two groups keep the interleave of two halves, which the compiler
/// vectorises.
inline void shuffle_simd(const float* __restrict x, float* __restrict y, std::int64_t pixels, std::int64_t c,
                         std::int64_t groups) {
  const std::int64_t per = c / groups, g4 = groups / 4 * 4, p4 = per / 4 * 4;
  if (groups == 2 || g4 == 0 || p4 == 0) return shuffle_loop(x, y, pixels, c, groups);
  for (std::int64_t px = 0; px < pixels; ++px) {
    const float* __restrict xi = x + px * c;
    float* __restrict yo = y + px * c;
    for (std::int64_t g = 0; g < g4; g += 4) {
      for (std::int64_t a = 0; a < p4; a += 4) {
        __m128 r0 = _mm_loadu_ps(xi + g * per + a), r1 = _mm_loadu_ps(xi + (g + 1) * per + a);
        __m128 r2 = _mm_loadu_ps(xi + (g + 2) * per + a), r3 = _mm_loadu_ps(xi + (g + 3) * per + a);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(yo + a * groups + g, r0);
        _mm_storeu_ps(yo + (a + 1) * groups + g, r1);
        _mm_storeu_ps(yo + (a + 2) * groups + g, r2);
        _mm_storeu_ps(yo + (a + 3) * groups + g, r3);
      }
      for (std::int64_t a = p4; a < per; ++a)
        for (std::int64_t j = g; j < g + 4; ++j) yo[a * groups + j] = xi[j * per + a];
    }
    for (std::int64_t j = g4; j < groups; ++j)
      for (std::int64_t a = 0; a < per; ++a) yo[a * groups + j] = xi[j * per + a];
  }
}

// ---------------------------------------------------------------------------
// Pooling

/// NV vectors of channels from `ch` (the last one masked when kMasked) of one
/// output pixel: max or sum over the window rows [ky_lo, ky_hi) and columns
/// [kx_lo, kx_hi) in registers, then one store.
template <int NV, bool kMasked>
inline void pool_vectors(const PoolArgs& p, float* y, std::int64_t base, std::int64_t ky_lo, std::int64_t ky_hi,
                         std::int64_t kx_lo, std::int64_t kx_hi, std::int64_t ch, M mask) {
  const std::int64_t row = p.in.w * p.in.stride, px = p.in.stride;
  auto load = [&](const float* q, int v) {
    return (kMasked && v == NV - 1) ? V::load_mask(q + v * L, mask) : V::loadu(q + v * L);
  };
  R acc[NV];
  const float* first = p.in.data + (base + ky_lo * row + kx_lo * px + ch);
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) acc[v] = load(first, v);
  for (std::int64_t ky = ky_lo; ky < ky_hi; ++ky)
    for (std::int64_t kx = kx_lo; kx < kx_hi; ++kx) {
      if (ky == ky_lo && kx == kx_lo) continue;
      const float* q = p.in.data + (base + ky * row + kx * px + ch);
      if (p.max) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[v] = V::max(acc[v], load(q, v));
      } else {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[v] = V::add(acc[v], load(q, v));
      }
    }
  if (!p.max) {
    const R scale = V::set1(1.f / static_cast<float>((ky_hi - ky_lo) * (kx_hi - kx_lo)));
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[v] = V::mul(acc[v], scale);
  }
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    if (kMasked && v == NV - 1)
      V::store_mask(y + ch + v * L, mask, acc[v]);
    else
      V::storeu(y + ch + v * L, acc[v]);
  }
}

/// Vectors pooled together per loop over a window's cells (their running results in registers).
inline constexpr int kPoolBlock = 4;

/// pool_simd's loops per window cell: one per block of kPoolBlock vectors, one
/// per vector left over, one for a masked tail (a 16-channel pool pays one
/// per tap, a 256-channel one four on AVX-512).
inline std::int64_t pool_simd_loops(std::int64_t c) {
  const std::int64_t vectors = c / L;
  return vectors / kPoolBlock + vectors % kPoolBlock + (c % L != 0 ? 1 : 0);
}

/// Max or average pooling (the average over the window cells inside the
/// input): per output pixel, the channels in blocks of kPoolBlock vectors held
/// in registers over the whole window.
inline void pool_simd(const PoolArgs& p) {
  const std::int64_t c = p.out.c, cv = c / L * L;
  const M tail = V::tail_mask(c - cv);
  for_each_pool_window(p, [&](float* y, std::int64_t iy0, std::int64_t ix0, std::int64_t ky_lo, std::int64_t ky_hi,
                              std::int64_t kx_lo, std::int64_t kx_hi) {
    // Offset of the window's first cell, possibly outside the input: only cells inside it are read.
    const std::int64_t base = (iy0 * p.in.w + ix0) * p.in.stride;
    std::int64_t ch = 0;
    for (; ch + kPoolBlock * L <= cv; ch += kPoolBlock * L)
      pool_vectors<kPoolBlock, false>(p, y, base, ky_lo, ky_hi, kx_lo, kx_hi, ch, tail);
    for (; ch < cv; ch += L) pool_vectors<1, false>(p, y, base, ky_lo, ky_hi, kx_lo, kx_hi, ch, tail);
    if (ch < c) pool_vectors<1, true>(p, y, base, ky_lo, ky_hi, kx_lo, kx_hi, ch, tail);
  });
}

/// Global pooling: the mean or max of every channel over the pixels. The
/// channels in blocks of up to kGlobalPoolBlock vectors whose running results
/// stay in registers over all the pixels (as many independent chains), each
/// block one pass reading a contiguous run of lines per pixel; the blocks
/// balanced, so 480 channels run as two passes of 15 vectors (AVX-512). The
/// portable loop's chunks of 4 or 1 vectors made 9 passes of 480 channels and
/// 5 of 120 (MobileNetV3-Large's squeeze-excite pool of 28 x 28 x 120: 8.5 ->
/// 2.1 us, docs/performance.md).
inline constexpr int kGlobalPoolBlock = L >= 16 ? 16 : 8;

/// Channels [ch, ch + NV * L) (the last vector masked when kMaskedLast).
template <int NV, bool kMax, bool kMaskedLast>
inline void global_pool_block(const float* x, float* y, std::int64_t pixels, std::int64_t c, std::int64_t ch, M tail) {
  constexpr int kLast = NV - 1;
  R acc[NV];
#pragma GCC unroll 16
  for (int v = 0; v < kLast; ++v) acc[v] = V::loadu(x + ch + v * L);
  acc[kLast] = load<kMaskedLast>(x + ch + kLast * L, tail);
  for (std::int64_t p = 1; p < pixels; ++p) {
    const float* xp = x + p * c + ch;
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) {
      const R in = v < kLast ? V::loadu(xp + v * L) : load<kMaskedLast>(xp + v * L, tail);
      acc[v] = kMax ? V::max(acc[v], in) : V::add(acc[v], in);
    }
  }
  const R scale = V::set1(kMax ? 1.f : 1.f / static_cast<float>(pixels));
#pragma GCC unroll 16
  for (int v = 0; v < kLast; ++v) V::storeu(y + ch + v * L, V::mul(acc[v], scale));
  store<kMaskedLast>(y + ch + kLast * L, V::mul(acc[kLast], scale), tail);
}

/// A block of nv (1 <= nv <= NV) vectors: the instance for exactly nv.
template <int NV, bool kMax, bool kMaskedLast>
inline void global_pool_nv(int nv, const float* x, float* y, std::int64_t pixels, std::int64_t c, std::int64_t ch,
                           M tail) {
  if constexpr (NV > 1)
    if (nv < NV) return global_pool_nv<NV - 1, kMax, kMaskedLast>(nv, x, y, pixels, c, ch, tail);
  global_pool_block<NV, kMax, kMaskedLast>(x, y, pixels, c, ch, tail);
}

inline void global_pool_simd(const float* x, float* y, std::int64_t pixels, std::int64_t c, bool max) {
  if (pixels <= 0 || c <= 0) return;
  const std::int64_t vectors = (c + L - 1) / L, blocks = (vectors + kGlobalPoolBlock - 1) / kGlobalPoolBlock;
  const M tail = V::tail_mask(c % L);
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t v0 = vectors * b / blocks, v1 = vectors * (b + 1) / blocks;
    const int nv = static_cast<int>(v1 - v0);
    const bool masked = v1 == vectors && c % L != 0;
    if (max)
      masked ? global_pool_nv<kGlobalPoolBlock, true, true>(nv, x, y, pixels, c, v0 * L, tail)
             : global_pool_nv<kGlobalPoolBlock, true, false>(nv, x, y, pixels, c, v0 * L, tail);
    else
      masked ? global_pool_nv<kGlobalPoolBlock, false, true>(nv, x, y, pixels, c, v0 * L, tail)
             : global_pool_nv<kGlobalPoolBlock, false, false>(nv, x, y, pixels, c, v0 * L, tail);
  }
}

// ---------------------------------------------------------------------------
// Data movement: concat and slice copies, upsampling, CReLU

/// Whole vectors, then one masked vector for the channels past the last whole one.
inline void copy_pixels_simd(const float* x, std::int64_t sx, float* y, std::int64_t sy, std::int64_t pixels,
                             std::int64_t c) {
  if (sx == c && sy == c) {
    std::memcpy(y, x, static_cast<std::size_t>(pixels * c) * sizeof(float));
    return;
  }
  const std::int64_t cv = c / L * L;
  const M tail = V::tail_mask(c - cv);
  for (std::int64_t p = 0; p < pixels; ++p) {
    const float* xp = x + p * sx;
    float* yp = y + p * sy;
    for (std::int64_t ch = 0; ch < cv; ch += L) V::storeu(yp + ch, V::loadu(xp + ch));
    if (cv < c) V::store_mask(yp + cv, tail, V::load_mask(xp + cv, tail));
  }
}

inline void crelu_simd(const float* x, float* y, std::int64_t pixels, std::int64_t c, std::int64_t sy) {
  const std::int64_t cv = c / L * L;
  const M tail = V::tail_mask(c - cv);
  const R zero = V::zero(), minus = V::set1(-1.f);
  for (std::int64_t p = 0; p < pixels; ++p) {
    const float* xp = x + p * c;
    float* yp = y + p * sy;
    for (std::int64_t ch = 0; ch < cv; ch += L) {
      const R v = V::loadu(xp + ch);
      V::storeu(yp + ch, V::max(v, zero));
      V::storeu(yp + c + ch, V::max(V::mul(v, minus), zero));
    }
    if (cv < c) {
      const R v = V::load_mask(xp + cv, tail);
      V::store_mask(yp + cv, tail, V::max(v, zero));
      V::store_mask(yp + c + cv, tail, V::max(V::mul(v, minus), zero));
    }
  }
}

inline void blend4_simd(const float* const* p, const float* w, float* y, std::int64_t c) {
  const R w0 = V::set1(w[0]), w1 = V::set1(w[1]), w2 = V::set1(w[2]), w3 = V::set1(w[3]);
  auto mix = [&](std::int64_t ch, auto load) {
    return V::fmadd(w3, load(p[3] + ch),
                    V::fmadd(w2, load(p[2] + ch), V::fmadd(w1, load(p[1] + ch), V::mul(w0, load(p[0] + ch)))));
  };
  const std::int64_t cv = c / L * L;
  for (std::int64_t ch = 0; ch < cv; ch += L) V::storeu(y + ch, mix(ch, [](const float* q) { return V::loadu(q); }));
  if (cv < c) {
    const M tail = V::tail_mask(c - cv);
    V::store_mask(y + cv, tail, mix(cv, [&](const float* q) { return V::load_mask(q, tail); }));
  }
}

// ---------------------------------------------------------------------------
// Grouped 1x1 convolutions of narrow groups (tables whose V has lane permutes: AVX-512, AVX2)

/// One pixel block's output vectors; CinG inputs per group, kTwo: a vector's
/// groups read more than one vector of input channels (two-source permutes).
template <class W, int CinG, bool kTwo, Activation A>
void narrow_groups_run(const convscope::kernels::NarrowGroupArgs& a, std::int64_t p0, std::int64_t p1) {
  // A block of pixels whose input lines stay in L1 while every output vector
  // reads its share of them.
  constexpr std::int64_t kBlock = 32;
  for (std::int64_t pb = p0; pb < p1; pb += kBlock) {
    const std::int64_t pe = std::min(p1, pb + kBlock);
    for (std::int64_t c0 = 0; c0 < a.cout; c0 += L) {
      const std::int64_t last = std::min(a.cout, c0 + L) - 1, in0 = c0 / a.cout_g * a.cin_g;
      const std::int64_t span = (last / a.cout_g - c0 / a.cout_g + 1) * a.cin_g;
      using Mask = typename W::M;
      const Mask m_lo = span >= L ? W::full_mask() : W::tail_mask(span);
      const Mask m_hi =
          !kTwo || span <= L ? W::tail_mask(0) : (span >= 2 * L ? W::full_mask() : W::tail_mask(span - L));
      const bool whole = last - c0 + 1 == L;  // AVX2's masked stores are slow: whole vectors store plainly
      const Mask m_out = whole ? W::full_mask() : W::tail_mask(last - c0 + 1);
      const float* wv = a.packed_w + c0 / L * 2 * CinG * L;
      R w[CinG];
      typename W::I idx[CinG];
      for (int j = 0; j < CinG; ++j) {
        w[j] = W::loadu(wv + j * L);
        idx[j] = W::index(wv + (CinG + j) * L);
      }
      const R b = a.bias ? W::load_mask(a.bias + c0, m_out) : W::zero();
      const float* x = a.x + in0;
      float* y = a.y + c0;
      for (std::int64_t p = pb; p < pe; ++p) {
        const float* xp = x + p * a.x_stride;
        const R lo = W::load_mask(xp, m_lo);
        R acc = b;
        if constexpr (kTwo) {
          const R hi = W::load_mask(xp + L, m_hi);
          for (int j = 0; j < CinG; ++j) acc = W::fmadd(W::permute2(lo, idx[j], hi), w[j], acc);
        } else {
          for (int j = 0; j < CinG; ++j) acc = W::fmadd(W::permute(lo, idx[j]), w[j], acc);
        }
        if (whole)
          W::storeu(y + p * a.y_stride, vector_act(acc, A));
        else
          W::store_mask(y + p * a.y_stride, m_out, vector_act(acc, A));
      }
    }
  }
}

template <class W, int CinG, bool kTwo>
void narrow_groups_act(const convscope::kernels::NarrowGroupArgs& a, std::int64_t p0, std::int64_t p1) {
  switch (a.act) {
    case Activation::None:
      return narrow_groups_run<W, CinG, kTwo, Activation::None>(a, p0, p1);
    case Activation::ReLU:
      return narrow_groups_run<W, CinG, kTwo, Activation::ReLU>(a, p0, p1);
    case Activation::ReLU6:
      return narrow_groups_run<W, CinG, kTwo, Activation::ReLU6>(a, p0, p1);
    case Activation::HSigmoid:
      return narrow_groups_run<W, CinG, kTwo, Activation::HSigmoid>(a, p0, p1);
    case Activation::HSwish:
      return narrow_groups_run<W, CinG, kTwo, Activation::HSwish>(a, p0, p1);
    case Activation::Sigmoid:
      return narrow_groups_run<W, CinG, kTwo, Activation::Sigmoid>(a, p0, p1);
    case Activation::Swish:
      return narrow_groups_run<W, CinG, kTwo, Activation::Swish>(a, p0, p1);
  }
}

template <class W, bool kTwo>
void narrow_groups_cin(const convscope::kernels::NarrowGroupArgs& a, std::int64_t p0, std::int64_t p1) {
  using Fn = void (*)(const convscope::kernels::NarrowGroupArgs&, std::int64_t, std::int64_t);
  static constexpr Fn kFns[8] = {narrow_groups_act<W, 1, kTwo>, narrow_groups_act<W, 2, kTwo>,
                                 narrow_groups_act<W, 3, kTwo>, narrow_groups_act<W, 4, kTwo>,
                                 narrow_groups_act<W, 5, kTwo>, narrow_groups_act<W, 6, kTwo>,
                                 narrow_groups_act<W, 7, kTwo>, narrow_groups_act<W, 8, kTwo>};
  kFns[a.cin_g - 1](a, p0, p1);
}

template <class W>
void narrow_groups(const convscope::kernels::NarrowGroupArgs& a, std::int64_t p0, std::int64_t p1) {
  // The widest vector's span decides (the others load masked).
  const bool two = convscope::kernels::narrow_group_span(L, a.cin_g, a.cout_g, a.cout) > L;
  (two ? narrow_groups_cin<W, true> : narrow_groups_cin<W, false>)(a, p0, p1);
}

/// narrow_groups where V has lane permutes, else none (the GEMM per group runs).
template <class W = V>
auto narrow_groups_fn() {
  using Fn = void (*)(const convscope::kernels::NarrowGroupArgs&, std::int64_t, std::int64_t);
  if constexpr (requires { typename W::I; })
    return static_cast<Fn>(narrow_groups<W>);
  else
    return static_cast<Fn>(nullptr);
}

// ---------------------------------------------------------------------------
// Calibration

/// kFmaChains independent FMA chains: enough to cover the FMA latency on every
/// FMA port, so this runs at the core's peak FP32 rate for this vector width.
inline double fma_loop(std::int64_t iterations, float* sink) {
  constexpr int kChains = V::kFmaChains;
  R acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = V::set1(static_cast<float>(j) * 1e-3f);
  const R a = V::set1(0.999999f), b = V::set1(1e-7f);
  for (std::int64_t i = 0; i < iterations; ++i)
#pragma GCC unroll 32
    for (int j = 0; j < kChains; ++j) acc[j] = V::fmadd(acc[j], a, b);
  R s = acc[0];
  for (int j = 1; j < kChains; ++j) s = V::add(s, acc[j]);
  alignas(64) float t[L];
  V::storeu(t, s);
  *sink = t[0] + t[L - 1];
  return 2.0 * L * kChains * static_cast<double>(iterations);
}

/// The table of this ISA.
inline constexpr int kWinoLanes = L;
#include "kernels/winograd_impl.h"

inline KernelTable make_table(convscope::kernels::Isa isa) {
  return KernelTable{.isa = isa,
                     .gemm = gemm,
                     .depthwise = depthwise,
                     .narrow_groups = narrow_groups_fn(),
                     .activation = activation_simd,
                     .add = add_simd,
                     .scale_shift = scale_shift_loop,
                     .pool = pool_simd,
                     .winograd_input = winograd_input,
                     .winograd_output = winograd_output<activation_simd>,
                     .pool_loops = pool_simd_loops,
                     .shuffle = shuffle_simd,
                     .channel_scale = channel_scale_loop,
                     .global_pool = global_pool_simd,
                     .copy_pixels = copy_pixels_simd,
                     .crelu = crelu_simd,
                     .blend4 = blend4_simd,
                     .fma_loop = fma_loop,
                     .read_sum = read_sum_loop,
                     .gemm_nr = Micro::kNr,
                     .gemm_kc = Micro::kKc,
                     .gemm_mr = Micro::kMr,
                     .gemm_lanes = L,
                     .dw_columns = V::kDwColumns,
                     .dw_max_tile3 = V::dw_max_tile(3),
                     .dw_max_tile57 = V::dw_max_tile(5)};
}
