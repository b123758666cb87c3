// Kernel testers in the XNNPACK style (named setters, every parameter printed on
// failure): every kernel of every table this CPU runs (portable, AVX2, AVX-512:
// GEMM with accumulate and row ranges, depthwise, pooling, activations, add,
// scale-shift, channel scale, global pooling, shuffle, the calibration probes)
// against plain loops, with rows split as the thread pool splits them, over odd
// and prime sizes, channels below, at and above the vector width, every stride,
// padding and dilation; outputs pre-filled with NaN so an unwritten element
// fails. Tolerance: 1e-5 relative to the largest |output| (float32 sums of at
// most a few thousand products).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "ir/shape.h"
#include "kernels/kernels.h"

namespace convscope {
namespace {

using kernels::Isa;

/// Every table this CPU runs (portable, AVX2, AVX-512); the ones it cannot run are named once, with why.
std::vector<Isa> isas() {
  static const std::vector<Isa> v = [] {
    auto have = kernels::available_isas();
    for (Isa isa : {Isa::Avx512, Isa::Avx2})
      if (std::find(have.begin(), have.end(), isa) == have.end())
        std::printf("[  SKIPPED ] the %s kernels: this CPU (%s) or build lacks them\n",
                    std::string(kernels::isa_short_name(isa)).c_str(), kernels::cpu_info().model.c_str());
    return have;
  }();
  return v;
}

std::vector<float> random_vec(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<double>& want, const std::string& what) {
  double scale = 1e-6;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_FALSE(std::isnan(got[i])) << what << " element " << i << " not written";
    ASSERT_NEAR(got[i], want[i], 1e-5 * scale) << what << " element " << i;
  }
}

struct GemmTester {
  std::int64_t m = 1, n = 1, k = 1;
  bool bias = false;
  ir::Activation act = ir::Activation::None;
  GemmTester& M(std::int64_t v) {
    m = v;
    return *this;
  }
  GemmTester& N(std::int64_t v) {
    n = v;
    return *this;
  }
  GemmTester& K(std::int64_t v) {
    k = v;
    return *this;
  }
  GemmTester& Bias(bool v) {
    bias = v;
    return *this;
  }
  GemmTester& Act(ir::Activation v) {
    act = v;
    return *this;
  }

  void test(Isa isa) const {
    std::mt19937 rng(static_cast<unsigned>(m * 131 + n * 17 + k));
    const std::int64_t lda = k + 3, ldc = n + 5;  // strides wider than the rows
    auto a = random_vec(static_cast<std::size_t>(m * lda), rng);
    auto w = random_vec(static_cast<std::size_t>(n * k), rng);
    auto b = random_vec(static_cast<std::size_t>(n), rng);
    const auto& kt = kernels::kernels_for(isa);
    std::vector<float> packed(static_cast<std::size_t>(kernels::packed_b_size(kt, n, k)));
    kernels::pack_gemm_b(kt, w.data(), n, k, packed.data());
    std::vector<float> c(static_cast<std::size_t>(m * ldc), std::numeric_limits<float>::quiet_NaN());
    kernels::GemmArgs g{m, n, k, a.data(), lda, packed.data(), c.data(), ldc, bias ? b.data() : nullptr, act};
    kt.gemm(g, 0, m);
    std::vector<float> got;
    std::vector<double> want;
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        double s = bias ? b[static_cast<std::size_t>(j)] : 0.0;
        for (std::int64_t t = 0; t < k; ++t)
          s += static_cast<double>(a[static_cast<std::size_t>(i * lda + t)]) * w[static_cast<std::size_t>(j * k + t)];
        want.push_back(kernels::activate(static_cast<float>(s), act));
        got.push_back(c[static_cast<std::size_t>(i * ldc + j)]);
      }
    std::ostringstream what;
    what << kernels::isa_name(isa) << " gemm m=" << m << " n=" << n << " k=" << k << " bias=" << bias
         << " act=" << ir::activation_name(act);
    expect_close(got, want, what.str());
    // Padding columns of C between rows must be untouched.
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = n; j < ldc; ++j)
        ASSERT_TRUE(std::isnan(c[static_cast<std::size_t>(i * ldc + j)])) << what.str();
  }
};

TEST(Gemm, ShapesAroundTheTile) {
  for (Isa isa : isas())
    // Rows: every tail up to the AVX-512 tile's 14, and past whole tiles; columns
    // around 8 and 16 lanes and the 16- and 32-wide panels.
    for (std::int64_t m : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 25, 72, 73, 145})
      for (std::int64_t n : {1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 65})
        for (std::int64_t k : {1, 3, 8, 17, 257, 300}) GemmTester().M(m).N(n).K(k).test(isa);
}

// A read in segments (the implicit im2col of a k x k convolution): segments
// placed out of order and apart, lengths that do and do not divide the depth
// block (kGemmKc), rows that do and do not fill the micro-kernel.
TEST(Gemm, SegmentedA) {
  for (Isa isa : isas())
    for (std::int64_t seg : {1, 9, 48, 100})
      for (std::int64_t segments : {1, 3, 7})
        for (std::int64_t m : {1, 2, 6, 12, 13}) {
          const std::int64_t n = 19, k = seg * segments, lda = 5;
          std::vector<std::int64_t> off(static_cast<std::size_t>(segments) + 1, 0);
          for (std::int64_t q = 0; q < segments; ++q)  // last segment first, gaps of 3 floats
            off[static_cast<std::size_t>(q)] = (segments - 1 - q) * (seg + 3);
          std::mt19937 rng(static_cast<unsigned>(seg * 7 + segments * 3 + m));
          const auto src = random_vec(static_cast<std::size_t>((m - 1) * lda + segments * (seg + 3)), rng);
          const auto w = random_vec(static_cast<std::size_t>(n * k), rng);
          const auto& kt = kernels::kernels_for(isa);
          std::vector<float> packed(static_cast<std::size_t>(kernels::packed_b_size(kt, n, k)));
          kernels::pack_gemm_b(kt, w.data(), n, k, packed.data());
          std::vector<float> c(static_cast<std::size_t>(m * n), std::numeric_limits<float>::quiet_NaN());
          kernels::GemmArgs g{m, n, k, src.data(), lda, packed.data(), c.data(), n, nullptr, ir::Activation::None};
          g.a_seg = seg;
          g.a_seg_offsets = off.data();
          kt.gemm(g, 0, m);
          std::vector<float> got(c.begin(), c.end());
          std::vector<double> want;
          for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = 0; j < n; ++j) {
              double acc = 0;
              for (std::int64_t t = 0; t < k; ++t)
                acc += static_cast<double>(
                           src[static_cast<std::size_t>(i * lda + off[static_cast<std::size_t>(t / seg)] + t % seg)]) *
                       w[static_cast<std::size_t>(j * k + t)];
              want.push_back(acc);
            }
          std::ostringstream what;
          what << kernels::isa_name(isa) << " segmented gemm m=" << m << " seg=" << seg << " segments=" << segments;
          expect_close(got, want, what.str());
        }
}

TEST(Gemm, BiasAndEveryActivation) {
  for (Isa isa : isas())
    for (auto act : ir::kAllActivations)
      GemmTester().M(11).N(37).K(29).Bias(true).Act(act).test(isa);
}

// Both orders of the row tiles and panels (gemm_driver.h, kTilesOuterBytes):
// blocks of B small enough to run tile by tile, over more rows than one row
// block, and blocks run panel by panel over two depth blocks, with bias on
// whole and partial panels.
TEST(Gemm, SmallAndLargeBlocksOfBWithBias) {
  for (Isa isa : isas())
    for (auto [m, n, k] : std::vector<std::array<std::int64_t, 3>>{
             {200, 48, 24}, {197, 65, 16}, {171, 96, 32}, {200, 65, 300}, {30, 129, 260}})
      GemmTester().M(m).N(n).K(k).Bias(true).Act(ir::Activation::ReLU6).test(isa);
}

struct DwTester {
  std::int64_t h = 5, w = 5, c = 8, k = 3, stride = 1, pad = 1, dil = 1;
  std::int64_t rows = 0;  ///< output rows per call (as threads split them); 0: all in one call
  bool dense = false;
  ir::Activation act = ir::Activation::ReLU6;
  DwTester& H(std::int64_t v) { return h = v, *this; }
  DwTester& W(std::int64_t v) { return w = v, *this; }
  DwTester& C(std::int64_t v) { return c = v, *this; }
  DwTester& Kernel(std::int64_t v) { return k = v, *this; }
  DwTester& Stride(std::int64_t v) { return stride = v, *this; }
  DwTester& Pad(std::int64_t v) { return pad = v, *this; }
  DwTester& Dilation(std::int64_t v) { return dil = v, *this; }
  DwTester& Act(ir::Activation v) { return act = v, *this; }
  DwTester& RowsPerCall(std::int64_t v) { return rows = v, *this; }
  /// Input pixels exactly c floats apart (else 2 more, as a padded layout).
  DwTester& Dense() { return dense = true, *this; }
  void test(Isa isa) const {
    std::mt19937 rng(static_cast<unsigned>(h * 7 + w * 11 + c * 13 + k * 17 + stride * 19 + pad * 23 + dil));
    const std::int64_t oh = ir::window_out(h, k, stride, 2 * pad, dil), ow = ir::window_out(w, k, stride, 2 * pad, dil);
    if (oh <= 0 || ow <= 0) return;
    const std::int64_t in_stride = dense ? c : c + 2, out_stride = c + 3;  // wider than the channels
    auto x = random_vec(static_cast<std::size_t>(h * w * in_stride), rng);
    const auto wt = random_vec(static_cast<std::size_t>(c * k * k), rng);  // [c][k*k], as stored in a graph
    std::vector<float> packed(static_cast<std::size_t>(k * k * kernels::dw_weight_stride(c)));
    kernels::pack_depthwise(wt.data(), c, k * k, packed.data());  // as the runtime packs them
    auto b = random_vec(static_cast<std::size_t>(c), rng);
    std::vector<float> y(static_cast<std::size_t>(oh * ow * out_stride), std::numeric_limits<float>::quiet_NaN());
    kernels::DwArgs d;
    d.in = {x.data(), h, w, c, in_stride};
    d.out = {y.data(), oh, ow, c, out_stride};
    d.k = k;
    d.stride = stride;
    d.pad = pad;
    d.dilation = dil;
    d.weights = packed.data();
    d.w_stride = kernels::dw_weight_stride(c);
    d.bias = b.data();
    d.act = act;
    for (std::int64_t y0 = 0; y0 < oh; y0 += rows > 0 ? rows : oh) {
      d.y_begin = y0;
      d.y_end = std::min(oh, y0 + (rows > 0 ? rows : oh));
      kernels::kernels_for(isa).depthwise(d);
    }
    std::vector<float> got;
    std::vector<double> want;
    for (std::int64_t oy = 0; oy < oh; ++oy)
      for (std::int64_t ox = 0; ox < ow; ++ox)
        for (std::int64_t ch = 0; ch < c; ++ch) {
          double s = b[static_cast<std::size_t>(ch)];
          for (std::int64_t ky = 0; ky < k; ++ky)
            for (std::int64_t kx = 0; kx < k; ++kx) {
              const std::int64_t iy = oy * stride - pad + ky * dil, ix = ox * stride - pad + kx * dil;
              if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
              s += static_cast<double>(x[static_cast<std::size_t>((iy * w + ix) * in_stride + ch)]) *
                   wt[static_cast<std::size_t>(ch * k * k + ky * k + kx)];
            }
          want.push_back(kernels::activate(static_cast<float>(s), act));
          got.push_back(y[static_cast<std::size_t>((oy * ow + ox) * out_stride + ch)]);
        }
    std::ostringstream what;
    what << kernels::isa_name(isa) << " depthwise " << h << "x" << w << "x" << c << " k=" << k << " s=" << stride
         << " p=" << pad << " d=" << dil << " act=" << ir::activation_name(act) << " rows/call=" << rows
         << (dense ? " dense" : "");
    expect_close(got, want, what.str());
  }
};

TEST(Depthwise, EveryStridePaddingDilationAndChannelTail) {
  for (Isa isa : isas())
    for (std::int64_t c : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48})
      for (std::int64_t k : {3, 5})
        for (std::int64_t s : {1, 2})
          for (std::int64_t p : {0, 1, 2})
            for (std::int64_t d : {1, 2})
              for (std::int64_t hw : {1, 5, 13})
                DwTester().H(hw).W(hw + 2).C(c).Kernel(k).Stride(s).Pad(p).Dilation(d).test(isa);
}

// 7x7 kernels, rows wide enough for every tile width (8, 7, 4, 2, 1 and the
// clipped border tiles), every activation (clamps fused, the others applied to
// finished rows), and channel counts whose weights are padded against L1 set
// conflicts (256, 512) or whose 2 KiB pixel stride narrows the tiles (512).
TEST(Depthwise, WideRowsEveryActivationAndPaddedWeights) {
  using A = ir::Activation;
  for (Isa isa : isas()) {
    for (std::int64_t k : {3, 5, 7})
      for (std::int64_t s : {1, 2})
        for (A act : ir::kAllActivations)
          DwTester().H(9).W(23).C(19).Kernel(k).Stride(s).Pad((k - 1) / 2).Act(act).test(isa);
    for (std::int64_t c : {256, 512})
      for (std::int64_t s : {1, 2}) DwTester().H(6).W(14).C(c).Kernel(3).Stride(s).Pad(1).test(isa);
    // Inputs beyond the column order's 256 KiB band: rows in several bands (AVX-512).
    for (std::int64_t s : {1, 2}) DwTester().H(45).W(40).C(40).Kernel(3).Stride(s).Pad(1).test(isa);
    DwTester().H(7).W(7).C(960).Kernel(5).Pad(2).Act(A::HSwish).test(isa);
  }
}

}  // namespace
}  // namespace convscope

namespace convscope {
namespace {

using kernels::Isa;

/// Pooling of one image, every table against plain loops: max and average
/// (over the window cells inside the input), windows clipped by padding,
/// channels around 8 and 16 lanes, pixel strides wider than the channels.
struct PoolTester {
  std::int64_t h_ = 7, w_ = 9, c_ = 17, k_ = 3, stride_ = 2, pad_ = 1;
  std::int64_t rows_ = 0;  ///< output rows per call; 0: all in one call
  bool max_ = true;
  PoolTester& H(std::int64_t v) { return h_ = v, *this; }
  PoolTester& W(std::int64_t v) { return w_ = v, *this; }
  PoolTester& C(std::int64_t v) { return c_ = v, *this; }
  PoolTester& K(std::int64_t v) { return k_ = v, *this; }
  PoolTester& Stride(std::int64_t v) { return stride_ = v, *this; }
  PoolTester& Pad(std::int64_t v) { return pad_ = v, *this; }
  PoolTester& Max(bool v) { return max_ = v, *this; }
  PoolTester& RowsPerCall(std::int64_t v) { return rows_ = v, *this; }

  void test(Isa isa) const {
    std::mt19937 rng(static_cast<unsigned>(h_ * 3 + w_ * 5 + c_ * 7 + k_ * 11 + stride_ + pad_ + max_));
    const std::int64_t oh = ir::window_out(h_, k_, stride_, 2 * pad_, 1), ow = ir::window_out(w_, k_, stride_, 2 * pad_, 1);
    if (oh <= 0 || ow <= 0) return;
    const std::int64_t in_stride = c_ + 3, out_stride = c_ + 1;
    const auto x = random_vec(static_cast<std::size_t>(h_ * w_ * in_stride), rng);
    std::vector<float> y(static_cast<std::size_t>(oh * ow * out_stride), std::numeric_limits<float>::quiet_NaN());
    kernels::PoolArgs p;
    p.in = {const_cast<float*>(x.data()), h_, w_, c_, in_stride};
    p.out = {y.data(), oh, ow, c_, out_stride};
    p.k = k_;
    p.stride = stride_;
    p.pad = pad_;
    p.max = max_;
    for (std::int64_t y0 = 0; y0 < oh; y0 += rows_ > 0 ? rows_ : oh) {
      p.y_begin = y0;
      p.y_end = std::min(oh, y0 + (rows_ > 0 ? rows_ : oh));
      kernels::kernels_for(isa).pool(p);
    }
    std::vector<float> got;
    std::vector<double> want;
    for (std::int64_t oy = 0; oy < oh; ++oy)
      for (std::int64_t ox = 0; ox < ow; ++ox)
        for (std::int64_t ch = 0; ch < c_; ++ch) {
          double acc = max_ ? -1e30 : 0.0;
          int cells = 0;
          for (std::int64_t ky = 0; ky < k_; ++ky)
            for (std::int64_t kx = 0; kx < k_; ++kx) {
              const std::int64_t iy = oy * stride_ - pad_ + ky, ix = ox * stride_ - pad_ + kx;
              if (iy < 0 || ix < 0 || iy >= h_ || ix >= w_) continue;
              const double v = x[static_cast<std::size_t>((iy * w_ + ix) * in_stride + ch)];
              acc = max_ ? std::max(acc, v) : acc + v;
              ++cells;
            }
          want.push_back(max_ ? acc : acc / cells);
          got.push_back(y[static_cast<std::size_t>((oy * ow + ox) * out_stride + ch)]);
        }
    std::ostringstream what;
    what << kernels::isa_name(isa) << (max_ ? " max" : " avg") << " pool " << h_ << "x" << w_ << "x" << c_ << " k=" << k_
         << " s=" << stride_ << " p=" << pad_ << " rows/call=" << rows_;
    expect_close(got, want, what.str());
  }
};

TEST(Pool, MaxAndAverageEveryTable) {
  for (Isa isa : isas())
    for (bool mx : {true, false})
      for (std::int64_t c : {1, 8, 15, 16, 17, 33, 64})
        for (std::int64_t k : {2, 3})
          for (std::int64_t s : {1, 2})
            for (std::int64_t p : {0, 1}) {
              if (p >= k) continue;
              PoolTester().Max(mx).C(c).K(k).Stride(s).Pad(p).H(7).W(10).test(isa);
            }
}

/// The element-wise kernels of every table over lengths around the vector
/// widths: every activation in place, add with an activation, per-channel
/// scale and shift, and the channel shuffle.
struct ElementwiseTester {
  std::int64_t n_ = 37;
  ElementwiseTester& N(std::int64_t v) { return n_ = v, *this; }

  void test(Isa isa) const {
    const auto& kt = kernels::kernels_for(isa);
    std::mt19937 rng(static_cast<unsigned>(n_));
    auto a = random_vec(static_cast<std::size_t>(n_), rng), b = random_vec(static_cast<std::size_t>(n_), rng);
    for (auto& v : a) v *= 8.f;  // cross ReLU6's and h-swish's bends
    const std::string at = std::string(kernels::isa_name(isa)) + " n=" + std::to_string(n_);
    using A = ir::Activation;
    for (A act : ir::kAllActivations) {
      std::vector<float> y = a;
      kt.activation(y.data(), n_, act);
      std::vector<double> want;
      for (float v : a) want.push_back(kernels::activate(v, act));
      expect_close(y, want, at + " activation " + std::string(ir::activation_name(act)));
      std::vector<float> s(static_cast<std::size_t>(n_), std::numeric_limits<float>::quiet_NaN());
      kt.add(a.data(), b.data(), s.data(), n_, act);
      want.clear();
      for (std::size_t i = 0; i < a.size(); ++i) want.push_back(kernels::activate(a[i] + b[i], act));
      expect_close(s, want, at + " add " + std::string(ir::activation_name(act)));
    }
    const auto scale = random_vec(static_cast<std::size_t>(n_), rng), shift = random_vec(static_cast<std::size_t>(n_), rng);
    std::vector<float> y(static_cast<std::size_t>(n_), std::numeric_limits<float>::quiet_NaN());
    kt.scale_shift(a.data(), scale.data(), shift.data(), y.data(), n_);
    std::vector<double> want;
    for (std::size_t i = 0; i < a.size(); ++i) want.push_back(static_cast<double>(a[i]) * scale[i] + shift[i]);
    expect_close(y, want, at + " scale_shift");
  }
};

// The vector exponential behind sigmoid and swish, against double precision
// from far below to far above the clamp at which e^-x leaves the float range.
TEST(Elementwise, SigmoidAndSwishAcrossTheFloatRange) {
  std::vector<float> x;
  for (double v = -100.0; v <= 100.0; v += 0.173) x.push_back(static_cast<float>(v));
  for (float v : {0.f, 1e-8f, -1e-8f, 0.5f, -0.5f, 87.f, -87.f, 88.f, -88.f, 89.f, -89.f}) x.push_back(v);
  const auto n = static_cast<std::int64_t>(x.size());
  for (Isa isa : isas())
    for (ir::Activation act : {ir::Activation::Sigmoid, ir::Activation::Swish}) {
      std::vector<float> y = x;
      kernels::kernels_for(isa).activation(y.data(), n, act);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double s = 1.0 / (1.0 + std::exp(-static_cast<double>(x[i])));
        const double want = act == ir::Activation::Sigmoid ? s : x[i] * s;
        ASSERT_NEAR(y[i], want, 1e-35 + 5e-7 * std::fabs(want))
            << kernels::isa_name(isa) << " " << ir::activation_name(act) << "(" << x[i] << ")";
      }
    }
}

TEST(Elementwise, EveryKernelEveryTable) {
  for (Isa isa : isas())
    for (std::int64_t n : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 257, 1000}) ElementwiseTester().N(n).test(isa);
}

TEST(Shuffle, EveryTableMatchesTheDefinition) {
  for (Isa isa : isas())
    for (std::int64_t groups : {2, 3, 4, 5, 8, 12, 16})  // 4 x 4 blocks and the groups and channels left over
      for (std::int64_t per : {1, 3, 4, 5, 8, 16, 17}) {
        const std::int64_t c = groups * per, pixels = 5;
        std::mt19937 rng(static_cast<unsigned>(c));
        const auto x = random_vec(static_cast<std::size_t>(pixels * c), rng);
        std::vector<float> y(x.size(), std::numeric_limits<float>::quiet_NaN());
        kernels::kernels_for(isa).shuffle(x.data(), y.data(), pixels, c, groups);
        for (std::int64_t px = 0; px < pixels; ++px)
          for (std::int64_t g = 0; g < groups; ++g)
            for (std::int64_t i = 0; i < per; ++i)  // y[i * groups + g] = x[g * per + i]
              ASSERT_EQ(y[static_cast<std::size_t>(px * c + i * groups + g)], x[static_cast<std::size_t>(px * c + g * per + i)])
                  << kernels::isa_name(isa) << " shuffle c=" << c << " groups=" << groups;
      }
}

// GEMM with `accumulate` (C += A * B + bias, as the runtime's grouped and
// transposed convolutions use it) and split across row ranges, as threads call it.
TEST(Gemm, AccumulateAndRowRangesEveryTable) {
  for (Isa isa : isas()) {
    const auto& kt = kernels::kernels_for(isa);
    for (std::int64_t m : {5, 14, 29})
      for (std::int64_t n : {9, 16, 40}) {
        const std::int64_t k = 300;
        std::mt19937 rng(static_cast<unsigned>(m * 7 + n));
        const auto a = random_vec(static_cast<std::size_t>(m * k), rng), w = random_vec(static_cast<std::size_t>(n * k), rng);
        const auto c0 = random_vec(static_cast<std::size_t>(m * n), rng), bias = random_vec(static_cast<std::size_t>(n), rng);
        std::vector<float> packed(static_cast<std::size_t>(kernels::packed_b_size(kt, n, k)));
        kernels::pack_gemm_b(kt, w.data(), n, k, packed.data());
        std::vector<float> c = c0;
        kernels::GemmArgs g{m, n, k, a.data(), k, packed.data(), c.data(), n, bias.data(), ir::Activation::None};
        g.accumulate = true;
        // Rows in uneven ranges, as a thread pool splits them.
        for (std::int64_t r0 = 0; r0 < m; r0 += 3) kt.gemm(g, r0, std::min(m, r0 + 3));
        std::vector<double> want;
        for (std::int64_t i = 0; i < m; ++i)
          for (std::int64_t j = 0; j < n; ++j) {
            double s = static_cast<double>(c0[static_cast<std::size_t>(i * n + j)]) + bias[static_cast<std::size_t>(j)];
            for (std::int64_t t = 0; t < k; ++t)
              s += static_cast<double>(a[static_cast<std::size_t>(i * k + t)]) * w[static_cast<std::size_t>(j * k + t)];
            want.push_back(s);
          }
        expect_close(c, want, std::string(kernels::isa_name(isa)) + " accumulate m=" + std::to_string(m) + " n=" +
                                  std::to_string(n));
      }
  }
}

// Dense inputs whose rows or tiles crowd L1, as the peers' benchmarks lay them
// out (plans pad them): 14 x 14 x 512 puts every line of a tile in two of L1's
// sets (pixel-major tiles of 2), 56 x 56 x 128 three rows at 21 lines per set.
TEST(Depthwise, DenseInputsThatCrowdL1) {
  for (Isa isa : isas()) {
    for (std::int64_t rows : {0, 3}) {
      DwTester().H(14).W(14).C(512).Kernel(3).Pad(1).Dense().RowsPerCall(rows).test(isa);
      DwTester().H(14).W(14).C(512).Kernel(5).Pad(2).Dense().Act(ir::Activation::HSwish).RowsPerCall(rows).test(isa);
    }
    DwTester().H(56).W(56).C(128).Kernel(3).Pad(1).Dense().test(isa);
  }
}

// Output rows in ranges, as the thread pool splits them: every row written once, borders included.
TEST(Depthwise, RowRangesAsThreadsSplitThem) {
  for (Isa isa : isas())
    for (std::int64_t rows : {1, 2, 3})
      for (std::int64_t s : {1, 2}) {
        DwTester().H(11).W(12).C(24).Kernel(3).Stride(s).Pad(1).RowsPerCall(rows).test(isa);
        DwTester().H(9).W(9).C(17).Kernel(5).Stride(s).Pad(2).RowsPerCall(rows).test(isa);
      }
}

TEST(Pool, RowRangesAsThreadsSplitThem) {
  for (Isa isa : isas())
    for (bool mx : {true, false})
      for (std::int64_t rows : {1, 2}) PoolTester().Max(mx).H(11).W(8).C(19).RowsPerCall(rows).test(isa);
}

// The bandwidth probe's read kernel sums what it reads (so nothing is optimised away): the sum must be exact
// enough to prove every element was read, over lengths around the vector widths.
TEST(Calibration, ReadSumReadsEveryElement) {
  for (Isa isa : isas())
    for (std::int64_t n : {1, 7, 16, 17, 63, 64, 65, 1000, 4099}) {
      std::vector<float> x(static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i % 7 + 1);
      double want = 0;
      for (float v : x) want += v;
      EXPECT_NEAR(kernels::kernels_for(isa).read_sum(x.data(), n), want, 1e-6 * want)
          << kernels::isa_name(isa) << " read_sum n=" << n;
    }
}

// The peak probe counts the FLOPs it performs: twice the rounds, twice the FLOPs, and a finite sink.
TEST(Calibration, FmaLoopCountsItsFlops) {
  for (Isa isa : isas()) {
    float sink = 0;
    const double once = kernels::kernels_for(isa).fma_loop(1000, &sink);
    const double twice = kernels::kernels_for(isa).fma_loop(2000, &sink);
    EXPECT_GT(once, 0) << kernels::isa_name(isa);
    EXPECT_DOUBLE_EQ(twice, 2 * once) << kernels::isa_name(isa);
    EXPECT_TRUE(std::isfinite(sink)) << kernels::isa_name(isa);
  }
}

// Channel scale (squeeze-excite's gate applied to every pixel) and global pooling,
// every table, channels around the vector widths, the portable loop's 64-channel
// chunk and the vector tables' blocks of 8 or 16 vectors (balanced: 480 as 15 + 15).
TEST(Elementwise, ChannelScaleAndGlobalPoolEveryTable) {
  for (Isa isa : isas())
    for (std::int64_t c : {1, 7, 16, 17, 63, 64, 65, 130, 257, 480, 1000})
      for (std::int64_t pixels : {1, 2, 49, 196}) {
        const auto& kt = kernels::kernels_for(isa);
        std::mt19937 rng(static_cast<unsigned>(c * 31 + pixels));
        const auto x = random_vec(static_cast<std::size_t>(pixels * c), rng), sc = random_vec(static_cast<std::size_t>(c), rng);
        const std::string at = std::string(kernels::isa_name(isa)) + " c=" + std::to_string(c) + " pixels=" + std::to_string(pixels);
        std::vector<float> y(x.size(), std::numeric_limits<float>::quiet_NaN());
        kt.channel_scale(x.data(), sc.data(), y.data(), pixels, c);
        std::vector<double> want;
        for (std::int64_t p = 0; p < pixels; ++p)
          for (std::int64_t i = 0; i < c; ++i)
            want.push_back(static_cast<double>(x[static_cast<std::size_t>(p * c + i)]) * sc[static_cast<std::size_t>(i)]);
        expect_close(y, want, at + " channel_scale");
        for (bool mx : {true, false}) {
          std::vector<float> g(static_cast<std::size_t>(c), std::numeric_limits<float>::quiet_NaN());
          kt.global_pool(x.data(), g.data(), pixels, c, mx);
          std::vector<double> pooled;
          for (std::int64_t i = 0; i < c; ++i) {
            double acc = mx ? -1e30 : 0.0;
            for (std::int64_t p = 0; p < pixels; ++p) {
              const double v = x[static_cast<std::size_t>(p * c + i)];
              acc = mx ? std::max(acc, v) : acc + v;
            }
            pooled.push_back(mx ? acc : acc / static_cast<double>(pixels));
          }
          expect_close(g, pooled, at + (mx ? " global max pool" : " global average pool"));
        }
      }
}

}  // namespace
}  // namespace convscope

namespace convscope {
namespace {

// The data-movement kernels (concat and slice copies, nearest and bilinear
// upsampling, CReLU) on every table: channels below, at and above 8 and 16
// lanes, output pixel strides wider than the channels (written in place into
// a concat), and the floats between pixels left as they were (NaN here).
TEST(DataMovement, CopyCReLUAndBlendEveryTable) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (kernels::Isa isa : kernels::available_isas())
    for (std::int64_t c : {1, 3, 7, 8, 9, 16, 17, 40})
      for (std::int64_t pad : {0, 5}) {
        const auto& kt = kernels::kernels_for(isa);
        const std::int64_t pixels = 13, sx = c + 2, sy = 2 * c + pad;
        std::mt19937 rng(static_cast<unsigned>(c * 7 + pad));
        const auto x = random_vec(static_cast<std::size_t>(pixels * sx), rng);
        const std::string at =
            std::string(kernels::isa_name(isa)) + " c=" + std::to_string(c) + " pad=" + std::to_string(pad);
        auto idx = [](std::int64_t i) { return static_cast<std::size_t>(i); };
        // copy_pixels, strided both sides, and repeating one pixel (sx = 0).
        for (std::int64_t step : {sx, std::int64_t{0}}) {
          std::vector<float> y(idx(pixels * sy), nan);
          kt.copy_pixels(x.data(), step, y.data(), sy, pixels, c);
          for (std::int64_t p = 0; p < pixels; ++p)
            for (std::int64_t i = 0; i < sy; ++i) {
              const float got = y[idx(p * sy + i)];
              if (i < c)
                ASSERT_EQ(got, x[idx(p * step + i)]) << at << " copy sx=" << step << " pixel " << p << " channel " << i;
              else
                ASSERT_TRUE(std::isnan(got)) << at << " copy wrote past its channels at pixel " << p;
            }
        }
        // The same-stride case is one memcpy.
        std::vector<float> dense(idx(pixels * c), nan);
        kt.copy_pixels(x.data(), c, dense.data(), c, pixels, c);
        for (std::int64_t i = 0; i < pixels * c; ++i) ASSERT_EQ(dense[idx(i)], x[idx(i)]) << at << " dense copy";
        // CReLU: c channels in (dense), 2c out.
        std::vector<float> y(idx(pixels * sy), nan);
        kt.crelu(x.data(), y.data(), pixels, c, sy);
        for (std::int64_t p = 0; p < pixels; ++p)
          for (std::int64_t i = 0; i < sy; ++i) {
            const float got = y[idx(p * sy + i)];
            if (i >= 2 * c) {
              ASSERT_TRUE(std::isnan(got)) << at << " crelu wrote past its channels";
              continue;
            }
            const float v = x[idx(p * c + i % c)];
            ASSERT_EQ(got, i < c ? std::max(v, 0.f) : std::max(-v, 0.f)) << at << " crelu pixel " << p << " ch " << i;
          }
        // blend4: four pixels, four weights.
        const float* p4[4] = {x.data(), x.data() + sx, x.data() + 2 * sx, x.data() + 3 * sx};
        const float w[4] = {0.5625f, 0.1875f, 0.1875f, 0.0625f};
        std::vector<float> b(idx(c + 3), nan);
        kt.blend4(p4, w, b.data(), c);
        for (std::int64_t i = 0; i < c; ++i) {
          double want = 0;
          for (int j = 0; j < 4; ++j) want += static_cast<double>(w[j]) * p4[j][i];
          ASSERT_NEAR(b[idx(i)], want, 1e-6) << at << " blend4 channel " << i;
        }
        for (std::int64_t i = c; i < c + 3; ++i) ASSERT_TRUE(std::isnan(b[idx(i)])) << at << " blend4 wrote past c";
      }
}

}  // namespace
}  // namespace convscope

namespace convscope {
namespace {

// Column ranges, as threads split a GEMM with few rows: panels in uneven
// ranges (the last one partial), every column written once with its bias and
// activation, nothing outside the range touched (NaN stays NaN).
TEST(Gemm, ColumnRangesEveryTable) {
  for (kernels::Isa isa : kernels::available_isas()) {
    const auto& kt = kernels::kernels_for(isa);
    for (std::int64_t m : {1, 2, 9})
      for (std::int64_t n : {kt.gemm_nr + 3, 3 * kt.gemm_nr, 5 * kt.gemm_nr - 1}) {
        const std::int64_t k = 300, panels = (n + kt.gemm_nr - 1) / kt.gemm_nr;
        std::mt19937 rng(static_cast<unsigned>(m * 5 + n));
        const auto a = random_vec(static_cast<std::size_t>(m * k), rng), w = random_vec(static_cast<std::size_t>(n * k), rng);
        const auto bias = random_vec(static_cast<std::size_t>(n), rng);
        std::vector<float> packed(static_cast<std::size_t>(kernels::packed_b_size(kt, n, k)));
        kernels::pack_gemm_b(kt, w.data(), n, k, packed.data());
        const std::string at = std::string(kernels::isa_name(isa)) + " m=" + std::to_string(m) + " n=" + std::to_string(n);
        for (std::int64_t split_at = 1; split_at < panels; ++split_at) {
          // Columns [0, split_at panels) only: the rest must stay NaN.
          std::vector<float> c(static_cast<std::size_t>(m * n), std::numeric_limits<float>::quiet_NaN());
          kernels::GemmArgs g{m, n, k, a.data(), k, packed.data(), c.data(), n, bias.data(), ir::Activation::ReLU};
          g.col_end = split_at * kt.gemm_nr;
          kt.gemm(g, 0, m);
          for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = g.col_end; j < n; ++j)
              ASSERT_TRUE(std::isnan(c[static_cast<std::size_t>(i * n + j)])) << at << " wrote column " << j;
          // Then the rest, as the second thread would.
          g.col_begin = g.col_end;
          g.col_end = n;
          kt.gemm(g, 0, m);
          std::vector<double> want;
          for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = 0; j < n; ++j) {
              double s = bias[static_cast<std::size_t>(j)];
              for (std::int64_t t = 0; t < k; ++t)
                s += static_cast<double>(a[static_cast<std::size_t>(i * k + t)]) * w[static_cast<std::size_t>(j * k + t)];
              want.push_back(std::max(s, 0.0));
            }
          expect_close(c, want, at + " split at panel " + std::to_string(split_at));
        }
      }
  }
}

// Rows of 7 and 14 run in tiles of 7, every one a border tile: with the usual
// padding of K / 2 the column order takes tiles whose clipped columns are fixed
// when compiling (left, right or both), with any other padding the tiles that
// test each column.
TEST(Depthwise, RowsOfSevenAndFourteenEveryPadding) {
  for (Isa isa : isas())
    for (std::int64_t k : {3, 5, 7})
      for (std::int64_t s : {1, 2})
        for (std::int64_t w : {7, 14, 28})
          for (std::int64_t p : {std::int64_t{0}, k / 2, k - 1})
            for (std::int64_t c : {16, 35})
              if (w + 2 * p >= k)
                DwTester().H(9).W(w).C(c).Kernel(k).Stride(s).Pad(p).Act(ir::Activation::ReLU6).test(isa);
}

// Grouped 1x1 convolutions of narrow groups (narrow_groups): every group width
// the tables take (1 to 8 inputs, outputs up to a vector, groups straddling
// vectors, one- and two-vector input spans), a channel tail, pixel ranges as
// threads split them, padded pixel strides on both sides (the padding must stay
// NaN: nothing written past the output channels) and every activation.
TEST(NarrowGroups, EveryGroupWidthEveryTable) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  int tested = 0;
  for (Isa isa : isas()) {
    const kernels::KernelTable& kt = kernels::kernels_for(isa);
    if (!kt.narrow_groups) {
      std::printf("narrow_groups: the %s table has none (it runs grouped 1x1 convolutions as GEMMs)\n",
                  std::string(kernels::isa_short_name(isa)).c_str());
      continue;
    }
    for (std::int64_t cin_g = 1; cin_g <= 9; ++cin_g)
      for (std::int64_t cout_g : {1, 2, 3, 4, 5, 6, 8, 12, 15, 16})
        for (std::int64_t groups : {2, 3, 5, 8, 16}) {
          const bool narrow = kernels::runs_narrow_groups(kt, groups, cin_g, cout_g);
          const std::int64_t span = kernels::narrow_group_span(kt.gemm_lanes, cin_g, cout_g, groups * cout_g);
          ASSERT_EQ(narrow, cin_g <= 8 && cout_g <= kt.gemm_lanes && span <= 2 * kt.gemm_lanes)
              << "cin_g " << cin_g << " cout_g " << cout_g << " groups " << groups;
          if (!narrow) continue;
          const std::int64_t cin = groups * cin_g, cout = groups * cout_g, pixels = 13, xs = cin + 3, ys = cout + 5;
          const auto act = static_cast<ir::Activation>(tested % (static_cast<int>(ir::Activation::Swish) + 1));
          std::mt19937 rng(static_cast<unsigned>(cin_g * 1000 + cout_g * 10 + groups));
          const auto x = random_vec(static_cast<std::size_t>(pixels * xs), rng);
          const auto w = random_vec(static_cast<std::size_t>(cout * cin_g), rng);
          const auto bias = random_vec(static_cast<std::size_t>(cout), rng);
          std::vector<float> packed(static_cast<std::size_t>(kernels::narrow_groups_size(kt, cin_g, cout)));
          kernels::pack_narrow_groups(kt, w.data(), cin_g, cout_g, cout, packed.data());
          std::vector<float> y(static_cast<std::size_t>(pixels * ys), nan);
          const kernels::NarrowGroupArgs a{x.data(), xs,   y.data(),      ys,          cin_g,
                                           cout_g,   cout, packed.data(), bias.data(), act};
          kt.narrow_groups(a, 0, 6);  // two threads' shares
          kt.narrow_groups(a, 6, pixels);
          std::ostringstream what;
          what << kernels::isa_name(isa) << " narrow_groups cin_g=" << cin_g << " cout_g=" << cout_g
               << " groups=" << groups << " act=" << static_cast<int>(act);
          for (std::int64_t p = 0; p < pixels; ++p)
            for (std::int64_t c = 0; c < ys; ++c) {
              const float got = y[static_cast<std::size_t>(p * ys + c)];
              if (c >= cout) {
                ASSERT_TRUE(std::isnan(got)) << what.str() << ": wrote the padding, pixel " << p << " channel " << c;
                continue;
              }
              double sum = bias[static_cast<std::size_t>(c)];
              for (std::int64_t j = 0; j < cin_g; ++j)
                sum += static_cast<double>(x[static_cast<std::size_t>(p * xs + c / cout_g * cin_g + j)]) *
                       w[static_cast<std::size_t>(c * cin_g + j)];
              const double want = kernels::activate(static_cast<float>(sum), act);
              ASSERT_NEAR(got, want, 1e-5 * std::max(1.0, std::fabs(want)))
                  << what.str() << " pixel " << p << " channel " << c;
            }
          ++tested;
        }
  }
  if (tested == 0) GTEST_SKIP() << "no table of this CPU has narrow_groups";
  EXPECT_GT(tested, 40);
}

}  // namespace
}  // namespace convscope
