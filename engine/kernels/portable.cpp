// The portable kernel table: plain C++ the compiler vectorises for the
// baseline instruction set. Always available; the reference for dispatch.
#include <algorithm>
#include <cstring>

#include "kernels/kernels.h"

namespace convscope::kernels::portable {
namespace {

#include "kernels/elementwise_impl.h"
#include "kernels/gemm_driver.h"

constexpr int kWinoLanes = 4;  // the baseline's vectors (SSE2, NEON)
#include "kernels/winograd_impl.h"

struct Micro {
  static constexpr std::int64_t kMr = 4, kNr = 16, kKc = 256;
  template <int MR, bool kSeg>
  static void run(const MicroArgs& m) {
    float acc[MR][kNr];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r)
      for (std::int64_t j = 0; j < kNr; ++j) acc[r][j] = (m.first || j >= m.nr) ? 0.f : m.c[r * m.ldc + j];
    const float* ak = m.a;  // row 0 at depth k
    std::int64_t left = m.seg_left;
    const std::int64_t* next = m.seg_next;
    for (std::int64_t k = 0; k < m.kc; ++k) {
      const float* b = m.b + k * kNr;
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        const float a = ak[r * m.lda];
        for (std::int64_t j = 0; j < kNr; ++j) acc[r][j] += a * b[j];
      }
      ++ak;
      if (kSeg && --left == 0) {
        ak = m.seg_base + *next++;
        left = m.seg;
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r)
      for (std::int64_t j = 0; j < m.nr; ++j) {
        float v = acc[r][j];
        if (m.last) v = activate(v + (m.bias ? m.bias[j] : 0.f), m.act);
        m.c[r * m.ldc + j] = v;
      }
  }
};

void gemm(const GemmArgs& g, std::int64_t row_begin, std::int64_t row_end) { gemm_rows<Micro>(g, row_begin, row_end); }

void depthwise(const DwArgs& d) {
  const std::int64_t c = d.in.c;
  for (std::int64_t oy = d.y_begin; oy < d.y_end; ++oy)
    for (std::int64_t ox = 0; ox < d.out.w; ++ox) {
      float* y = d.out.px(oy, ox);
      for (std::int64_t ch = 0; ch < c; ++ch) y[ch] = d.bias ? d.bias[ch] : 0.f;
      for (std::int64_t ky = 0; ky < d.k; ++ky) {
        const std::int64_t iy = oy * d.stride - d.pad + ky * d.dilation;
        if (iy < 0 || iy >= d.in.h) continue;
        for (std::int64_t kx = 0; kx < d.k; ++kx) {
          const std::int64_t ix = ox * d.stride - d.pad + kx * d.dilation;
          if (ix < 0 || ix >= d.in.w) continue;
          const float* x = d.in.px(iy, ix);
          const float* w = d.weights + (ky * d.k + kx) * (d.w_stride ? d.w_stride : c);
          for (std::int64_t ch = 0; ch < c; ++ch) y[ch] += x[ch] * w[ch];
        }
      }
      activation_loop(y, c, d.act);
    }
}

double fma_loop(std::int64_t iterations, float* sink) {
  constexpr int kLanes = 64;
  float acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = static_cast<float>(j) * 1e-3f;
  const float a = 0.999999f, b = 1e-7f;
  for (std::int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < kLanes; ++j) acc[j] = acc[j] * a + b;
  float s = 0;
  for (float v : acc) s += v;
  *sink = s;
  return 2.0 * kLanes * static_cast<double>(iterations);
}

}  // namespace

const KernelTable& table() {
  static const KernelTable t{.isa = Isa::Portable,
                             .gemm = gemm,
                             .depthwise = depthwise,
                             .activation = activation_loop,
                             .add = add_loop,
                             .scale_shift = scale_shift_loop,
                             .pool = pool_loop,
                             .winograd_input = winograd_input,
                             .winograd_output = winograd_output<activation_loop>,
                             .pool_loops = pool_loop_count,
                             .shuffle = shuffle_loop,
                             .channel_scale = channel_scale_loop,
                             .global_pool = global_pool_loop,
                             .copy_pixels = copy_pixels_loop,
                             .crelu = crelu_loop,
                             .blend4 = blend4_loop,
                             .fma_loop = fma_loop,
                             .read_sum = read_sum_loop,
                             .gemm_nr = Micro::kNr,
                             .gemm_kc = Micro::kKc,
                             .gemm_mr = Micro::kMr,
                             .gemm_lanes = Micro::kNr};
  return t;
}

}  // namespace convscope::kernels::portable
