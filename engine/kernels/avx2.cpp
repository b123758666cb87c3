// The AVX2 + FMA kernel table. This is the only translation unit compiled with
// -mavx2 -mfma; it is used only when the CPU reports both features.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/kernels.h"

namespace convscope::kernels::avx2 {
namespace {

#include "kernels/elementwise_impl.h"
#include "kernels/gemm_driver.h"

/// Vector epilogue for the cheap activations; false means "do it in scalar".
inline bool vector_act(__m256& v, ir::Activation act) {
  const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.f);
  switch (act) {
    case ir::Activation::None: return true;
    case ir::Activation::ReLU: v = _mm256_max_ps(v, zero); return true;
    case ir::Activation::ReLU6: v = _mm256_min_ps(_mm256_max_ps(v, zero), six); return true;
    case ir::Activation::HSigmoid:
      v = _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, _mm256_set1_ps(3.f)), zero), six),
                        _mm256_set1_ps(1.f / 6.f));
      return true;
    case ir::Activation::HSwish: {
      const __m256 g = _mm256_mul_ps(
          _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, _mm256_set1_ps(3.f)), zero), six), _mm256_set1_ps(1.f / 6.f));
      v = _mm256_mul_ps(v, g);
      return true;
    }
    case ir::Activation::Sigmoid: return false;
  }
  return false;
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
      for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
    } else if (full) {
      for (int r = 0; r < MR; ++r) {
        acc0[r] = _mm256_loadu_ps(m.c + r * m.ldc);
        acc1[r] = _mm256_loadu_ps(m.c + r * m.ldc + 8);
      }
    } else {
      for (int r = 0; r < MR; ++r) {
        for (std::int64_t j = 0; j < kGemmNr; ++j) tmp[r][j] = j < m.nr ? m.c[r * m.ldc + j] : 0.f;
        acc0[r] = _mm256_load_ps(tmp[r]);
        acc1[r] = _mm256_load_ps(tmp[r] + 8);
      }
    }
    const float* a = m.a;
    const float* b = m.b;
    for (std::int64_t k = 0; k < m.kc; ++k, b += kGemmNr) {
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
      for (int r = 0; r < MR; ++r) {
        const __m256 av = _mm256_broadcast_ss(a + r * m.lda + k);
        acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
      }
    }
    bool scalar_act = false;
    if (m.last) {
      if (m.bias) {
        const __m256 bb0 = _mm256_load_ps(m.bias), bb1 = _mm256_load_ps(m.bias + 8);
        for (int r = 0; r < MR; ++r) {
          acc0[r] = _mm256_add_ps(acc0[r], bb0);
          acc1[r] = _mm256_add_ps(acc1[r], bb1);
        }
      }
      for (int r = 0; r < MR; ++r) scalar_act |= !(vector_act(acc0[r], m.act) && vector_act(acc1[r], m.act));
    }
    if (full) {
      for (int r = 0; r < MR; ++r) {
        _mm256_storeu_ps(m.c + r * m.ldc, acc0[r]);
        _mm256_storeu_ps(m.c + r * m.ldc + 8, acc1[r]);
      }
    } else {
      for (int r = 0; r < MR; ++r) {
        _mm256_store_ps(tmp[r], acc0[r]);
        _mm256_store_ps(tmp[r] + 8, acc1[r]);
        std::memcpy(m.c + r * m.ldc, tmp[r], static_cast<std::size_t>(m.nr) * sizeof(float));
      }
    }
    if (scalar_act)
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

/// Depthwise: 8 channels at a time; interior pixels skip the bounds checks.
void depthwise(const DwArgs& d) {
  const std::int64_t c = d.in.c, k = d.k;
  const std::int64_t c8 = c / 8 * 8;
  const __m256i mask = tail_mask(c - c8);
  // Output columns whose taps all fall inside the input.
  std::int64_t x_lo = 0, x_hi = d.out.w;
  while (x_lo < d.out.w && x_lo * d.stride - d.pad < 0) ++x_lo;
  while (x_hi > x_lo && (x_hi - 1) * d.stride - d.pad + (k - 1) * d.dilation >= d.in.w) --x_hi;
  for (std::int64_t oy = d.y_begin; oy < d.y_end; ++oy) {
    const std::int64_t iy0 = oy * d.stride - d.pad;
    const bool row_inside = iy0 >= 0 && iy0 + (k - 1) * d.dilation < d.in.h;
    for (std::int64_t ox = 0; ox < d.out.w; ++ox) {
      const std::int64_t ix0 = ox * d.stride - d.pad;
      const bool inside = row_inside && ox >= x_lo && ox < x_hi;
      float* y = d.out.px(oy, ox);
      for (std::int64_t ch = 0; ch < c; ch += 8) {
        const bool tail = ch >= c8;
        __m256 acc = d.bias ? (tail ? _mm256_maskload_ps(d.bias + ch, mask) : _mm256_loadu_ps(d.bias + ch))
                            : _mm256_setzero_ps();
        for (std::int64_t ky = 0; ky < k; ++ky) {
          const std::int64_t iy = iy0 + ky * d.dilation;
          if (!inside && (iy < 0 || iy >= d.in.h)) continue;
          for (std::int64_t kx = 0; kx < k; ++kx) {
            const std::int64_t ix = ix0 + kx * d.dilation;
            if (!inside && (ix < 0 || ix >= d.in.w)) continue;
            const float* x = d.in.px(iy, ix) + ch;
            const float* w = d.weights + (ky * k + kx) * c + ch;
            if (tail) acc = _mm256_fmadd_ps(_mm256_maskload_ps(x, mask), _mm256_maskload_ps(w, mask), acc);
            else acc = _mm256_fmadd_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(w), acc);
          }
        }
        if (!vector_act(acc, d.act)) {
          alignas(32) float t[8];
          _mm256_store_ps(t, acc);
          for (float& v : t) v = activate(v, d.act);
          acc = _mm256_load_ps(t);
        }
        if (tail) _mm256_maskstore_ps(y + ch, mask, acc);
        else _mm256_storeu_ps(y + ch, acc);
      }
    }
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
  static const KernelTable t{Isa::Avx2, gemm, depthwise, activation_loop, add_loop, scale_shift_loop, fma_loop,
                             read_sum_loop};
  return t;
}

}  // namespace convscope::kernels::avx2
