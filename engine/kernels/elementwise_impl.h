#pragma once
/// Element-wise kernels written as plain loops; each ISA's translation unit
/// includes this inside its own namespace and the compiler vectorises it for
/// that unit's instruction set.

#include <cstdint>

#include "kernels/kernels.h"

inline void activation_loop(float* y, std::int64_t n, convscope::ir::Activation act) {
  using convscope::ir::Activation;
  switch (act) {
    case Activation::None:
      return;
    case Activation::ReLU:
      for (std::int64_t i = 0; i < n; ++i) y[i] = y[i] > 0.f ? y[i] : 0.f;
      return;
    case Activation::ReLU6:
      for (std::int64_t i = 0; i < n; ++i) y[i] = y[i] < 0.f ? 0.f : (y[i] > 6.f ? 6.f : y[i]);
      return;
    case Activation::HSigmoid:
      for (std::int64_t i = 0; i < n; ++i) {
        const float t = y[i] + 3.f;
        y[i] = (t < 0.f ? 0.f : (t > 6.f ? 6.f : t)) * (1.f / 6.f);
      }
      return;
    case Activation::HSwish:
      for (std::int64_t i = 0; i < n; ++i) {
        const float t = y[i] + 3.f;
        y[i] = y[i] * (t < 0.f ? 0.f : (t > 6.f ? 6.f : t)) * (1.f / 6.f);
      }
      return;
    case Activation::Sigmoid:
    case Activation::Swish:
      for (std::int64_t i = 0; i < n; ++i) y[i] = convscope::kernels::activate(y[i], act);
      return;
  }
}

inline void add_loop(const float* a, const float* b, float* y, std::int64_t n, convscope::ir::Activation act) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
  activation_loop(y, n, act);
}

inline void scale_shift_loop(const float* x, const float* scale, const float* shift, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] * scale[i] + shift[i];
}

inline void channel_scale_loop(const float* x, const float* __restrict s, float* y,  // y may be x
                               std::int64_t pixels, std::int64_t c) {
  for (std::int64_t p = 0; p < pixels; ++p)
    for (std::int64_t i = 0; i < c; ++i) y[p * c + i] = x[p * c + i] * s[i];
}

/// Global pooling over channels [ch, ch + N) (N a compile-time chunk, so the running
/// max or sum stays in registers over all the pixels), or n <= N channels for the tail.
/// Each channel adds its pixels in order, as a plain loop would.
template <std::int64_t N, bool kFixed>
inline void global_pool_chunk(const float* __restrict x, float* __restrict y, std::int64_t pixels, std::int64_t c,
                              bool max, std::int64_t ch, std::int64_t n) {
  if constexpr (kFixed) n = N;
  float acc[N];
  for (std::int64_t i = 0; i < n; ++i) acc[i] = x[ch + i];
  for (std::int64_t p = 1; p < pixels; ++p) {
    const float* __restrict xp = x + p * c + ch;
    if (max)
      for (std::int64_t i = 0; i < n; ++i) acc[i] = acc[i] > xp[i] ? acc[i] : xp[i];
    else
      for (std::int64_t i = 0; i < n; ++i) acc[i] += xp[i];
  }
  const float scale = max ? 1.f : 1.f / static_cast<float>(pixels);
  for (std::int64_t i = 0; i < n; ++i) y[ch + i] = max ? acc[i] : acc[i] * scale;
}

inline void global_pool_loop(const float* x, float* y, std::int64_t pixels, std::int64_t c, bool max) {
  constexpr std::int64_t kChunk = 64;
  if (pixels <= 0) return;
  std::int64_t ch = 0;
  for (; ch + kChunk <= c; ch += kChunk) global_pool_chunk<kChunk, true>(x, y, pixels, c, max, ch, kChunk);
  for (; ch + 16 <= c; ch += 16) global_pool_chunk<16, true>(x, y, pixels, c, max, ch, 16);  // narrow layers
  if (ch < c) global_pool_chunk<16, false>(x, y, pixels, c, max, ch, c - ch);
}

inline float read_sum_loop(const float* x, std::int64_t n) {
  // 64 partial sums: several independent vector accumulators, so the loop is
  // bound by the loads, not by the latency of one chain of additions.
  constexpr int kLanes = 64;
  float acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += x[i + j];
  for (; i < n; ++i) acc[0] += x[i];
  float s = 0;
  for (float a : acc) s += a;
  return s;
}

/// One pixel's pooling window over channels [ch, ch + N) (N a compile-time
/// chunk, so the running max or sum stays in registers across the taps), or
/// over n <= N channels for the tail.
template <std::int64_t N, bool kFixed>
inline void pool_chunk(const convscope::kernels::PoolArgs& p, float* __restrict y, std::int64_t iy0, std::int64_t ix0,
                       std::int64_t ky_lo, std::int64_t ky_hi, std::int64_t kx_lo, std::int64_t kx_hi, std::int64_t ch,
                       std::int64_t n) {
  if constexpr (kFixed) n = N;
  float acc[N];
  const float* first = p.in.px(iy0 + ky_lo, ix0 + kx_lo) + ch;
  for (std::int64_t i = 0; i < n; ++i) acc[i] = first[i];
  for (std::int64_t ky = ky_lo; ky < ky_hi; ++ky)
    for (std::int64_t kx = kx_lo; kx < kx_hi; ++kx) {
      if (ky == ky_lo && kx == kx_lo) continue;
      const float* __restrict x = p.in.px(iy0 + ky, ix0 + kx) + ch;
      if (p.max)
        for (std::int64_t i = 0; i < n; ++i) acc[i] = acc[i] > x[i] ? acc[i] : x[i];
      else
        for (std::int64_t i = 0; i < n; ++i) acc[i] += x[i];
    }
  const float scale = p.max ? 1.f : 1.f / static_cast<float>((ky_hi - ky_lo) * (kx_hi - kx_lo));
  for (std::int64_t i = 0; i < n; ++i) y[ch + i] = p.max ? acc[i] : acc[i] * scale;
}

/// Calls fn(y, iy0, ix0, ky_lo, ky_hi, kx_lo, kx_hi) for every output pixel
/// of rows [y_begin, y_end) whose window has a cell inside the input: y the
/// output pixel, (iy0, ix0) the window's first cell (possibly outside), and
/// the window rows and columns inside the input. A window wholly in the
/// padding gets zeros.
template <class Fn>
inline void for_each_pool_window(const convscope::kernels::PoolArgs& p, Fn&& fn) {
  for (std::int64_t oy = p.y_begin; oy < p.y_end; ++oy) {
    const std::int64_t iy0 = oy * p.stride - p.pad;
    const std::int64_t ky_lo = std::max<std::int64_t>(0, -iy0), ky_hi = std::min(p.k, p.in.h - iy0);
    for (std::int64_t ox = 0; ox < p.out.w; ++ox) {
      float* y = p.out.px(oy, ox);
      const std::int64_t ix0 = ox * p.stride - p.pad;
      const std::int64_t kx_lo = std::max<std::int64_t>(0, -ix0), kx_hi = std::min(p.k, p.in.w - ix0);
      if (ky_lo >= ky_hi || kx_lo >= kx_hi) {
        for (std::int64_t ch = 0; ch < p.out.c; ++ch) y[ch] = 0.f;
        continue;
      }
      fn(y, iy0, ix0, ky_lo, ky_hi, kx_lo, kx_hi);
    }
  }
}

/// Max or average pooling (the average over the window cells inside the input).
/// The portable pooling's channels per loop over a window's cells.
inline constexpr std::int64_t kPoolChunk = 32;

inline std::int64_t pool_loop_count(std::int64_t c) { return (c + kPoolChunk - 1) / kPoolChunk; }

inline void pool_loop(const convscope::kernels::PoolArgs& p) {
  constexpr std::int64_t kChunk = kPoolChunk;
  const std::int64_t c = p.out.c;
  for_each_pool_window(p, [&](float* y, std::int64_t iy0, std::int64_t ix0, std::int64_t ky_lo, std::int64_t ky_hi,
                              std::int64_t kx_lo, std::int64_t kx_hi) {
    std::int64_t ch = 0;
    for (; ch + kChunk <= c; ch += kChunk)
      pool_chunk<kChunk, true>(p, y, iy0, ix0, ky_lo, ky_hi, kx_lo, kx_hi, ch, kChunk);
    if (ch < c) pool_chunk<kChunk, false>(p, y, iy0, ix0, ky_lo, ky_hi, kx_lo, kx_hi, ch, c - ch);
  });
}

inline void shuffle_loop(const float* __restrict x, float* __restrict y, std::int64_t pixels, std::int64_t c,
                         std::int64_t groups) {
  const std::int64_t per = c / groups;
  if (groups == 2) {  // ShuffleNet: interleave two halves (the compiler vectorises this one)
    for (std::int64_t px = 0; px < pixels; ++px) {
      const float* __restrict a = x + px * c;
      const float* __restrict b = a + per;
      float* __restrict o = y + px * c;
      for (std::int64_t i = 0; i < per; ++i) {
        o[2 * i] = a[i];
        o[2 * i + 1] = b[i];
      }
    }
    return;
  }
  for (std::int64_t px = 0; px < pixels; ++px) {
    const float* __restrict xi = x + px * c;
    float* __restrict yo = y + px * c;
    for (std::int64_t g = 0; g < groups; ++g)
      for (std::int64_t a = 0; a < per; ++a) yo[a * groups + g] = xi[g * per + a];
  }
}

inline void copy_pixels_loop(const float* x, std::int64_t sx, float* y, std::int64_t sy, std::int64_t pixels,
                             std::int64_t c) {
  for (std::int64_t p = 0; p < pixels; ++p)
    for (std::int64_t i = 0; i < c; ++i) y[p * sy + i] = x[p * sx + i];
}

inline void crelu_loop(const float* x, float* y, std::int64_t pixels, std::int64_t c, std::int64_t sy) {
  for (std::int64_t p = 0; p < pixels; ++p)
    for (std::int64_t i = 0; i < c; ++i) {
      const float v = x[p * c + i];
      y[p * sy + i] = v > 0.f ? v : 0.f;
      y[p * sy + c + i] = v < 0.f ? -v : 0.f;
    }
}

inline void blend4_loop(const float* const* p, const float* w, float* y, std::int64_t c) {
  for (std::int64_t i = 0; i < c; ++i) y[i] = w[0] * p[0][i] + w[1] * p[1][i] + w[2] * p[2][i] + w[3] * p[3][i];
}
