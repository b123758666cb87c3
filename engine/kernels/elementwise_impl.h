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

inline void max_into(float* __restrict y, const float* __restrict x, std::int64_t n) {
  for (std::int64_t c = 0; c < n; ++c) y[c] = y[c] > x[c] ? y[c] : x[c];
}
inline void add_into(float* __restrict y, const float* __restrict x, std::int64_t n) {
  for (std::int64_t c = 0; c < n; ++c) y[c] += x[c];
}

inline void pool_loop(const convscope::kernels::PoolArgs& p) {
  const std::int64_t c = p.out.c;
  for (std::int64_t oy = p.y_begin; oy < p.y_end; ++oy)
    for (std::int64_t ox = 0; ox < p.out.w; ++ox) {
      float* __restrict y = p.out.px(oy, ox);
      bool first = true;
      std::int64_t count = 0;
      for (std::int64_t ky = 0; ky < p.k; ++ky) {
        const std::int64_t iy = oy * p.stride - p.pad + ky;
        if (iy < 0 || iy >= p.in.h) continue;
        for (std::int64_t kx = 0; kx < p.k; ++kx) {
          const std::int64_t ix = ox * p.stride - p.pad + kx;
          if (ix < 0 || ix >= p.in.w) continue;
          const float* x = p.in.px(iy, ix);
          if (first) {
            for (std::int64_t ch = 0; ch < c; ++ch) y[ch] = x[ch];
            first = false;
          } else if (p.max) {
            max_into(y, x, c);
          } else {
            add_into(y, x, c);
          }
          ++count;
        }
      }
      if (!p.max && count > 0) {
        const float inv = 1.f / static_cast<float>(count);
        for (std::int64_t ch = 0; ch < c; ++ch) y[ch] *= inv;
      }
    }
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
