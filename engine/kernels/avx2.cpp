// The AVX2 + FMA kernel table. This is the only translation unit compiled with
// -mavx2 -mfma; it is used only when the CPU reports both features.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/kernels.h"

namespace convscope::kernels {
namespace portable {
const KernelTable& table();
}

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
  template <int MR>
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
    if constexpr (MR <= 2) {
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

/// Depthwise, one output row at a time. Interior pixels go four at a time and,
/// inside, the channels run in chunks of 24 (three vectors): 12 independent
/// accumulators, one weight load per four FMAs, and every input pixel read as
/// contiguous channels, so whole cache lines are used and the prefetcher sees
/// sequential streams (the loop order of oneDNN's and XNNPACK's NHWC kernels).
/// Kernel rows in the padding are skipped as a range; border pixels take a
/// one-pixel path with the kernel columns clipped.
template <int K>
void depthwise_row(const DwArgs& d, std::int64_t oy, std::int64_t x_lo, std::int64_t x_hi) {
  const std::int64_t c = d.in.c, k = K > 0 ? K : d.k;
  const std::int64_t c8 = c / 8 * 8;
  const __m256i mask = tail_mask(c - c8);
  const std::int64_t iy0 = oy * d.stride - d.pad;
  std::int64_t ky_lo = 0, ky_hi = k;  // kernel rows whose input row exists
  while (ky_lo < k && iy0 + ky_lo * d.dilation < 0) ++ky_lo;
  while (ky_hi > ky_lo && iy0 + (ky_hi - 1) * d.dilation >= d.in.h) --ky_hi;
  const std::int64_t row = d.dilation * d.in.w * d.in.stride, dx = d.dilation * d.in.stride;
  const std::int64_t step = d.stride * d.in.stride;
  float* const yrow = d.out.px(oy, 0);
  const bool vector_epilogue = has_vector_act(d.act);
  auto epilogue = [&](__m256 acc) {
    if (vector_epilogue) return vector_act(acc, d.act);
    alignas(32) float t[8];
    _mm256_store_ps(t, acc);
    for (float& v : t) v = activate(v, d.act);
    return _mm256_load_ps(t);
  };
  auto bias_at = [&](std::int64_t ch, bool tail) {
    if (!d.bias) return _mm256_setzero_ps();
    return tail ? _mm256_maskload_ps(d.bias + ch, mask) : _mm256_loadu_ps(d.bias + ch);
  };

  // Four pixels starting at ox, NB full vectors of channels starting at ch.
  auto four_pixels = [&]<int NB>(std::int64_t ox, std::int64_t ch) {
    const float* x = d.in.data + (iy0 * d.in.w + ox * d.stride - d.pad) * d.in.stride + ch;
    __m256 acc[4][NB];
#pragma GCC unroll 3
    for (int b = 0; b < NB; ++b) {
      const __m256 bv = bias_at(ch + 8 * b, false);
#pragma GCC unroll 4
      for (int px = 0; px < 4; ++px) acc[px][b] = bv;
    }
    for (std::int64_t ky = ky_lo; ky < ky_hi; ++ky) {
      const float* r = x + ky * row;
      const float* wr = d.weights + ky * k * c + ch;
#pragma GCC unroll 7
      for (int kx = 0; kx < (K > 0 ? K : 7); ++kx) {
        if (K == 0 && kx >= k) break;
        const float* xt = r + kx * dx;
#pragma GCC unroll 3
        for (int b = 0; b < NB; ++b) {
          const __m256 wv = _mm256_loadu_ps(wr + kx * c + 8 * b);
#pragma GCC unroll 4
          for (int px = 0; px < 4; ++px)
            acc[px][b] = _mm256_fmadd_ps(_mm256_loadu_ps(xt + px * step + 8 * b), wv, acc[px][b]);
        }
      }
    }
#pragma GCC unroll 4
    for (int px = 0; px < 4; ++px)
#pragma GCC unroll 3
      for (int b = 0; b < NB; ++b) _mm256_storeu_ps(yrow + (ox + px) * d.out.stride + ch + 8 * b, epilogue(acc[px][b]));
  };
  // Four pixels, the last partial vector of channels.
  auto four_pixels_tail = [&](std::int64_t ox, std::int64_t ch) {
    const float* x = d.in.data + (iy0 * d.in.w + ox * d.stride - d.pad) * d.in.stride + ch;
    const __m256 bv = bias_at(ch, true);
    __m256 a0 = bv, a1 = bv, a2 = bv, a3 = bv;
    for (std::int64_t ky = ky_lo; ky < ky_hi; ++ky)
      for (std::int64_t kx = 0; kx < k; ++kx) {
        const float* xt = x + ky * row + kx * dx;
        const __m256 wv = _mm256_maskload_ps(d.weights + (ky * k + kx) * c + ch, mask);
        a0 = _mm256_fmadd_ps(_mm256_maskload_ps(xt, mask), wv, a0);
        a1 = _mm256_fmadd_ps(_mm256_maskload_ps(xt + step, mask), wv, a1);
        a2 = _mm256_fmadd_ps(_mm256_maskload_ps(xt + 2 * step, mask), wv, a2);
        a3 = _mm256_fmadd_ps(_mm256_maskload_ps(xt + 3 * step, mask), wv, a3);
      }
    float* y = yrow + ox * d.out.stride + ch;
    _mm256_maskstore_ps(y, mask, epilogue(a0));
    _mm256_maskstore_ps(y + d.out.stride, mask, epilogue(a1));
    _mm256_maskstore_ps(y + 2 * d.out.stride, mask, epilogue(a2));
    _mm256_maskstore_ps(y + 3 * d.out.stride, mask, epilogue(a3));
  };
  // A border pixel: kernel columns clipped to the input.
  auto one_pixel = [&](std::int64_t ox) {
    const std::int64_t ix0 = ox * d.stride - d.pad;
    std::int64_t kx_lo = 0, kx_hi = k;
    while (kx_lo < k && ix0 + kx_lo * d.dilation < 0) ++kx_lo;
    while (kx_hi > kx_lo && ix0 + (kx_hi - 1) * d.dilation >= d.in.w) --kx_hi;
    for (std::int64_t ch = 0; ch < c; ch += 8) {
      const bool tail = ch >= c8;
      __m256 acc = bias_at(ch, tail);
      for (std::int64_t ky = ky_lo; ky < ky_hi; ++ky) {
        const float* r = d.in.data + ((iy0 + ky * d.dilation) * d.in.w + ix0) * d.in.stride + ch;
        for (std::int64_t kx = kx_lo; kx < kx_hi; ++kx) {
          const float* wp = d.weights + (ky * k + kx) * c + ch;
          const __m256 xv = tail ? _mm256_maskload_ps(r + kx * dx, mask) : _mm256_loadu_ps(r + kx * dx);
          const __m256 wv = tail ? _mm256_maskload_ps(wp, mask) : _mm256_loadu_ps(wp);
          acc = _mm256_fmadd_ps(xv, wv, acc);
        }
      }
      float* y = yrow + ox * d.out.stride + ch;
      if (tail)
        _mm256_maskstore_ps(y, mask, epilogue(acc));
      else
        _mm256_storeu_ps(y, epilogue(acc));
    }
  };

  std::int64_t ox = 0;
  for (; ox < std::min(x_lo, d.out.w); ++ox) one_pixel(ox);
  for (; ox + 4 <= x_hi; ox += 4) {
    std::int64_t ch = 0;
    for (; ch + 24 <= c8; ch += 24) four_pixels.template operator()<3>(ox, ch);
    for (; ch + 8 <= c8; ch += 8) four_pixels.template operator()<1>(ox, ch);
    if (ch < c) four_pixels_tail(ox, ch);
  }
  for (; ox < d.out.w; ++ox) one_pixel(ox);
}

void depthwise(const DwArgs& d) {
  // Output columns whose taps all fall inside the input.
  std::int64_t x_lo = 0, x_hi = d.out.w;
  while (x_lo < d.out.w && x_lo * d.stride - d.pad < 0) ++x_lo;
  while (x_hi > x_lo && (x_hi - 1) * d.stride - d.pad + (d.k - 1) * d.dilation >= d.in.w) --x_hi;
  if (d.k > 7) {  // rare large kernels: the portable loops
    portable::table().depthwise(d);
    return;
  }
  for (std::int64_t oy = d.y_begin; oy < d.y_end; ++oy) {
    if (d.k == 3)
      depthwise_row<3>(d, oy, x_lo, x_hi);
    else if (d.k == 5)
      depthwise_row<5>(d, oy, x_lo, x_hi);
    else
      depthwise_row<0>(d, oy, x_lo, x_hi);
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
