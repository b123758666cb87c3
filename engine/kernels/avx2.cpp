// The AVX2 + FMA kernel table. This is the only translation unit compiled with
// -mavx2 -mfma; it is used only when the CPU reports both features.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/kernels.h"

namespace convscope::kernels {
namespace avx2 {
namespace {

#include "kernels/elementwise_impl.h"
#include "kernels/gemm_driver.h"

/// Whether an activation has a vector form here (sigmoid is done in scalar).
inline bool has_vector_act(ir::Activation act) { return act != ir::Activation::Sigmoid; }

/// Vector epilogue for the cheap activations (identity for sigmoid: see has_vector_act).
inline __m256 vector_act(__m256 v, ir::Activation act) {
  const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.f);
  switch (act) {
    case ir::Activation::None:
    case ir::Activation::Sigmoid:
      return v;
    case ir::Activation::ReLU:
      return _mm256_max_ps(v, zero);
    case ir::Activation::ReLU6:
      return _mm256_min_ps(_mm256_max_ps(v, zero), six);
    case ir::Activation::HSigmoid:
      return _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, _mm256_set1_ps(3.f)), zero), six),
                           _mm256_set1_ps(1.f / 6.f));
    case ir::Activation::HSwish: {
      const __m256 g = _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, _mm256_set1_ps(3.f)), zero), six),
                                     _mm256_set1_ps(1.f / 6.f));
      return _mm256_mul_ps(v, g);
    }
  }
  return v;
}

/// 6 x 16 register-blocked micro-kernel: 12 accumulators, 2 B loads and 6 A
/// broadcasts per 12 FMAs.
struct Micro {
  static constexpr std::int64_t kMr = 6;
  template <int MR, bool kSeg>
  static void run(const MicroArgs& m) {
    __m256 acc0[MR], acc1[MR];
    const bool full = m.nr == kGemmNr;
    alignas(32) float tmp[MR][kGemmNr];
    if (m.first) {
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
    } else if (full) {
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        acc0[r] = _mm256_loadu_ps(m.c + r * m.ldc);
        acc1[r] = _mm256_loadu_ps(m.c + r * m.ldc + 8);
      }
    } else {
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        for (std::int64_t j = 0; j < kGemmNr; ++j) tmp[r][j] = j < m.nr ? m.c[r * m.ldc + j] : 0.f;
        acc0[r] = _mm256_load_ps(tmp[r]);
        acc1[r] = _mm256_load_ps(tmp[r] + 8);
      }
    }
    const float* a = m.a;
    const float* b = m.b;
    std::int64_t k = 0;
    if constexpr (MR <= 2 && !kSeg) {
      // Few rows (a fully connected layer, a tail): two chains per row would be
      // bound by the FMA latency, so split k over four partial sums.
      __m256 p0[MR][3], p1[MR][3];
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r)
        for (int u = 0; u < 3; ++u) p0[r][u] = p1[r][u] = _mm256_setzero_ps();
      for (; k + 4 <= m.kc; k += 4, b += 4 * kGemmNr) {
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
          const float* ar = a + r * m.lda + k;
          acc0[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(ar), _mm256_loadu_ps(b), acc0[r]);
          acc1[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(ar), _mm256_loadu_ps(b + 8), acc1[r]);
#pragma GCC unroll 3
          for (int u = 0; u < 3; ++u) {
            const __m256 av = _mm256_broadcast_ss(ar + u + 1);
            p0[r][u] = _mm256_fmadd_ps(av, _mm256_loadu_ps(b + (u + 1) * kGemmNr), p0[r][u]);
            p1[r][u] = _mm256_fmadd_ps(av, _mm256_loadu_ps(b + (u + 1) * kGemmNr + 8), p1[r][u]);
          }
        }
      }
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        acc0[r] = _mm256_add_ps(_mm256_add_ps(acc0[r], p0[r][0]), _mm256_add_ps(p0[r][1], p0[r][2]));
        acc1[r] = _mm256_add_ps(_mm256_add_ps(acc1[r], p1[r][0]), _mm256_add_ps(p1[r][1], p1[r][2]));
      }
    }
    if constexpr (kSeg) {
      // A in segments (an implicit im2col): a pointer stepped through each
      // segment, then moved to the next one.
      const float* ak = a;
      std::int64_t left = m.seg_left;
      const std::int64_t* next = m.seg_next;
      for (; k < m.kc; ++k, b += kGemmNr) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
          const __m256 av = _mm256_broadcast_ss(ak + r * m.lda);
          acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
          acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
        }
        ++ak;
        if (--left == 0) {
          ak = m.seg_base + *next++;
          left = m.seg;
        }
      }
    }
    for (; k < m.kc; ++k, b += kGemmNr) {
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const __m256 av = _mm256_broadcast_ss(a + r * m.lda + k);
        acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
      }
    }
    const bool scalar_act = m.last && !has_vector_act(m.act);
    if (m.last) {
      if (m.bias) {
        const __m256 bb0 = _mm256_load_ps(m.bias), bb1 = _mm256_load_ps(m.bias + 8);
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
          acc0[r] = _mm256_add_ps(acc0[r], bb0);
          acc1[r] = _mm256_add_ps(acc1[r], bb1);
        }
      }
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        acc0[r] = vector_act(acc0[r], m.act);
        acc1[r] = vector_act(acc1[r], m.act);
      }
    }
    if (full) {
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        _mm256_storeu_ps(m.c + r * m.ldc, acc0[r]);
        _mm256_storeu_ps(m.c + r * m.ldc + 8, acc1[r]);
      }
    } else {
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        _mm256_store_ps(tmp[r], acc0[r]);
        _mm256_store_ps(tmp[r] + 8, acc1[r]);
        std::memcpy(m.c + r * m.ldc, tmp[r], static_cast<std::size_t>(m.nr) * sizeof(float));
      }
    }
    if (scalar_act)
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r)
        for (std::int64_t j = 0; j < m.nr; ++j) m.c[r * m.ldc + j] = activate(m.c[r * m.ldc + j], m.act);
  }
};

void gemm(const GemmArgs& g, std::int64_t row_begin, std::int64_t row_end) { gemm_rows<Micro>(g, row_begin, row_end); }

/// Mask of the first `n` (< 8) lanes.
inline __m256i tail_mask(std::int64_t n) {
  alignas(32) static const int kLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLanes + 8 - n));
}

/// Stores one vector of results through the activation (sigmoid in scalar).
template <bool kMasked>
inline void store_act(float* y, __m256 v, ir::Activation act, __m256i mask) {
  if (has_vector_act(act)) {
    v = vector_act(v, act);
  } else {
    alignas(32) float t[8];
    _mm256_store_ps(t, v);
    for (float& e : t) e = activate(e, act);
    v = _mm256_load_ps(t);
  }
  if constexpr (kMasked)
    _mm256_maskstore_ps(y, mask, v);
  else
    _mm256_storeu_ps(y, v);
}

template <bool kMasked>
inline __m256 load8(const float* p, __m256i mask) {
  if constexpr (kMasked)
    return _mm256_maskload_ps(p, mask);
  else
    return _mm256_loadu_ps(p);
}

/// What a depthwise tile does to its results before storing them: a clamp to
/// [lo, hi], which is the identity, ReLU or ReLU6 (other activations are
/// applied to each finished row afterwards, see dw_rows).
struct DwClamp {
  __m256 lo, hi;
  static bool covers(ir::Activation act) {
    return act == ir::Activation::None || act == ir::Activation::ReLU || act == ir::Activation::ReLU6;
  }
  explicit DwClamp(ir::Activation act)
      : lo(_mm256_set1_ps(act == ir::Activation::None ? -__builtin_inff() : 0.f)),
        hi(_mm256_set1_ps(act == ir::Activation::ReLU6 ? 6.f : __builtin_inff())) {}
};

/// Depthwise tile: T neighbouring output pixels of one row, NV vectors of 8
/// channels at a time over the channel range [ch, ch_end), kernel K x K at
/// stride S (no dilation). Each input pixel of a kernel row is loaded once and
/// feeds every output pixel whose window covers it (a sliding window in
/// registers): for 3x3/1, T = 4 and NV = 2 that is 12 input and 6 weight loads
/// for 24 FMAs per kernel row, against 2 loads per FMA for a per-tap loop;
/// T x NV accumulators hide the FMA latency, and NV = 2 uses a whole 64-byte
/// line of every input pixel it touches.
/// `x` points at the tile's first input pixel (column ix0, kernel row 0, channel
/// 0); kernel rows outside [ky_lo, ky_hi) fall in the padding and are skipped.
/// With kClip, input columns outside [0, in.w) are skipped too (border tiles).
/// Returns the first channel not done.
template <int K, int S, int T, int NV, bool kMasked, bool kClip>
std::int64_t dw_tile(const DwArgs& d, const float* x, std::int64_t ix0, float* y, std::int64_t ky_lo,
                     std::int64_t ky_hi, std::int64_t ch, std::int64_t ch_end, const DwClamp& clamp, __m256i mask) {
  const std::int64_t ws = d.w_stride, in_px = d.in.stride, in_row = d.in.w * d.in.stride, out_px = d.out.stride;
  constexpr int kSpan = (T - 1) * S + K;  // input pixels of one kernel row under the tile
  for (; ch + 8 * NV <= ch_end; ch += 8 * NV) {
    const float* w = d.weights + ch;
    __m256 acc[T][NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __m256 b = d.bias ? load8<kMasked>(d.bias + ch + 8 * v, mask) : _mm256_setzero_ps();
#pragma GCC unroll 8
      for (int px = 0; px < T; ++px) acc[px][v] = b;
    }
    for (std::int64_t ky = ky_lo; ky < ky_hi; ++ky) {
      const float* r = x + ky * in_row + ch;
      __m256 wv[K][NV];
#pragma GCC unroll 7
      for (int kx = 0; kx < K; ++kx)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) wv[kx][v] = load8<kMasked>(w + (ky * K + kx) * ws + 8 * v, mask);
#pragma GCC unroll 32
      for (int i = 0; i < kSpan; ++i) {
        if (kClip && (ix0 + i < 0 || ix0 + i >= d.in.w)) continue;
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          const __m256 xv = load8<kMasked>(r + i * in_px + 8 * v, mask);
#pragma GCC unroll 7
          for (int kx = 0; kx < K; ++kx) {
            const int p = i - kx;  // output pixel p / S reads input i through kernel column kx
            if (p >= 0 && p % S == 0 && p / S < T) acc[p / S][v] = _mm256_fmadd_ps(xv, wv[kx][v], acc[p / S][v]);
          }
        }
      }
    }
#pragma GCC unroll 8
    for (int px = 0; px < T; ++px)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        // Operand order: a NaN result stays NaN (max/min return their second operand on NaN).
        const __m256 r = _mm256_min_ps(clamp.hi, _mm256_max_ps(clamp.lo, acc[px][v]));
        float* yp = y + px * out_px + ch + 8 * v;
        if constexpr (kMasked)
          _mm256_maskstore_ps(yp, mask, r);
        else
          _mm256_storeu_ps(yp, r);
      }
  }
  return ch;
}

/// Channel vectors per tile of T pixels: two (a whole cache line) where the
/// 16 ymm registers allow it (3x3, T = 4: 8 accumulators, 6 weights, the
/// input), one for the wide 5x5 and 7x7 tiles; narrow tiles take more vectors
/// so that at least four accumulator chains are in flight.
template <int K, int T>
inline constexpr int kDwVectors = T >= 4 ? (K == 3 ? 2 : 1) : 4 / T;

/// Output pixels [ox, ox + T) of row oy, every channel.
template <int K, int S, int T, bool kClip>
void dw_tiles(const DwArgs& d, std::int64_t oy, std::int64_t ox, std::int64_t ky_lo, std::int64_t ky_hi,
              const DwClamp& clamp) {
  constexpr int NV = kDwVectors<K, T>;
  const std::int64_t c = d.in.c, c8 = c / 8 * 8;
  const __m256i mask = tail_mask(c - c8);
  const std::int64_t ix0 = ox * S - d.pad;
  const float* x = d.in.data + ((oy * S - d.pad) * d.in.w + ix0) * d.in.stride;
  float* y = d.out.px(oy, ox);
  std::int64_t ch = dw_tile<K, S, T, NV, false, kClip>(d, x, ix0, y, ky_lo, ky_hi, 0, c8, clamp, mask);
  if constexpr (NV > 1) ch = dw_tile<K, S, T, 1, false, kClip>(d, x, ix0, y, ky_lo, ky_hi, ch, c8, clamp, mask);
  if (ch < c) dw_tile<K, S, T, 1, true, kClip>(d, x, ix0, y, ky_lo, ky_hi, ch, ch + 8, clamp, mask);
}

/// The widest tile whose input lines stay in L1 together. With a pixel stride
/// of 2 KiB (512 channels) every input line of a tile falls in the same two of
/// L1's 64 sets; more lines than the 8 ways of a set evict each other and each
/// tile then streams from L2. Counts the tile's lines per set (64 sets, 8 ways:
/// the L1D of every AVX2 core we know of) and halves T until they fit.
template <int K, int S>
int dw_tile_width(const DwArgs& d, int t_max) {
  const std::int64_t px_bytes = d.in.stride * 4, row_bytes = d.in.w * px_bytes;
  for (int t = t_max; t > 1; t /= 2) {
    int lines[64] = {};
    bool fits = true;
    const int span = (t - 1) * S + K;
    for (int ky = 0; ky < K && fits; ++ky)
      for (int i = 0; i < span && fits; ++i) fits = ++lines[((ky * row_bytes + i * px_bytes) / 64) % 64] <= 8;
    if (fits) return t;
  }
  return 1;
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

/// Rows [y_begin, y_end) of a K x K, stride S depthwise convolution: tiles of
/// the widest width that fits L1, then narrower ones for the rest of the row.
/// Activations beyond a clamp (h-swish, ...) run over each finished row while
/// it is still in cache.
template <int K, int S>
void dw_rows(const DwArgs& d, std::int64_t x_lo, std::int64_t x_hi) {
  const int t = dw_tile_width<K, S>(d, K == 3 ? 4 : 8);
  const bool clamp_only = DwClamp::covers(d.act);
  const DwClamp clamp(clamp_only ? d.act : ir::Activation::None);
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
      for (std::int64_t px = 0; px < d.out.w; ++px) activation_loop(d.out.px(oy, px), d.out.c, d.act);
  }
}

/// One output pixel with its kernel clipped to the input, for the shapes the
/// tiles do not cover (dilation, stride > 2, kernels other than 3, 5, 7).
/// Four channel vectors at a time, so four FMA chains are in flight.
void dw_pixel(const DwArgs& d, std::int64_t oy, std::int64_t ox, std::int64_t ky_lo, std::int64_t ky_hi) {
  const std::int64_t c = d.in.c, c8 = c / 8 * 8, k = d.k;
  const __m256i mask = tail_mask(c - c8);
  const std::int64_t iy0 = oy * d.stride - d.pad, ix0 = ox * d.stride - d.pad;
  std::int64_t kx_lo = 0, kx_hi = k;
  while (kx_lo < k && ix0 + kx_lo * d.dilation < 0) ++kx_lo;
  while (kx_hi > kx_lo && ix0 + (kx_hi - 1) * d.dilation >= d.in.w) --kx_hi;
  float* y = d.out.px(oy, ox);
  auto taps = [&]<int NV, bool kMasked>(std::int64_t ch) {
    __m256 acc[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[v] = d.bias ? load8<kMasked>(d.bias + ch + 8 * v, mask) : _mm256_setzero_ps();
    for (std::int64_t ky = ky_lo; ky < ky_hi; ++ky) {
      const float* r = d.in.px(iy0 + ky * d.dilation, 0) + ch;
      for (std::int64_t kx = kx_lo; kx < kx_hi; ++kx) {
        const float* xp = r + (ix0 + kx * d.dilation) * d.in.stride;
        const float* wp = d.weights + (ky * k + kx) * d.w_stride + ch;
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          acc[v] = _mm256_fmadd_ps(load8<kMasked>(xp + 8 * v, mask), load8<kMasked>(wp + 8 * v, mask), acc[v]);
      }
    }
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) store_act<kMasked>(y + ch + 8 * v, acc[v], d.act, mask);
  };
  std::int64_t ch = 0;
  for (; ch + 32 <= c8; ch += 32) taps.template operator()<4, false>(ch);
  for (; ch < c8; ch += 8) taps.template operator()<1, false>(ch);
  if (ch < c) taps.template operator()<1, true>(ch);
}

void depthwise(const DwArgs& args) {
  DwArgs d = args;
  if (d.w_stride == 0) d.w_stride = d.in.c;
  // Output columns whose taps all fall inside the input.
  std::int64_t x_lo = 0, x_hi = d.out.w;
  while (x_lo < d.out.w && x_lo * d.stride - d.pad < 0) ++x_lo;
  while (x_hi > x_lo && (x_hi - 1) * d.stride - d.pad + (d.k - 1) * d.dilation >= d.in.w) --x_hi;
  if (d.dilation == 1) {
    const std::int64_t shape = d.k * 10 + d.stride;
    switch (shape) {
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

/// 12 independent FMA chains of 8 lanes: enough to cover the FMA latency on
/// two ports, so this runs at the core's peak FP32 rate.
double fma_loop(std::int64_t iterations, float* sink) {
  __m256 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm256_set1_ps(static_cast<float>(j) * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (std::int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < 12; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  __m256 s = acc[0];
  for (int j = 1; j < 12; ++j) s = _mm256_add_ps(s, acc[j]);
  alignas(32) float t[8];
  _mm256_store_ps(t, s);
  *sink = t[0] + t[7];
  return 2.0 * 8 * 12 * static_cast<double>(iterations);
}

}  // namespace

const KernelTable& table() {
  static const KernelTable t{Isa::Avx2,        gemm,      depthwise,    activation_loop, add_loop,
                             scale_shift_loop, pool_loop, shuffle_loop, fma_loop,        read_sum_loop};
  return t;
}

}  // namespace avx2
}  // namespace convscope::kernels
