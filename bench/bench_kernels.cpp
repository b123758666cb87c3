// Kernels on the layer shapes of MobileNetV2, MobileNetV1 and SqueezeNet, with
// FLOP/s and bytes counters. Run: build/bench/bench_kernels
#include <cstdlib>
#include <new>
#include <random>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#if defined(CONVSCOPE_HAVE_DNNL)
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#endif
#if defined(CONVSCOPE_HAVE_XNNPACK)
#include <xnnpack.h>
#endif

#include "kernels/kernels.h"

namespace {

using namespace convscope;

/// Allocates on 64-byte boundaries, as plans do (plan_detail::allocate, the
/// arena's blocks): a std::vector's own heap block starts 16 bytes past a
/// cache line (glibc), so every 512-bit access to a pixel of 16k channels would
/// straddle two lines. Measured on a Zen 4 (one thread, 2026-12-06): depthwise
/// 3x3 on 16-byte-offset buffers 20-60 % slower than on line-aligned ones.
template <class T>
struct LineAligned {
  using value_type = T;
  LineAligned() = default;
  template <class U>
  explicit LineAligned(const LineAligned<U>&) {}
  T* allocate(std::size_t n) {
    void* p = std::aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  friend bool operator==(const LineAligned&, const LineAligned&) { return true; }
};
/// Every buffer a kernel reads or writes here (and the peers' user buffers).
using Floats = std::vector<float, LineAligned<float>>;

Floats random_vec(std::size_t n) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  Floats v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

/// Floats between the GEMM's input rows as a plan lays them out: pixels 4 KiB
/// apart (1024, 2048 channels) would put a tile's rows of A into one L1 set,
/// so the plan pads them by a cache line (schedule.cpp).
std::int64_t gemm_lda(std::int64_t k) { return k % 1024 == 0 ? k + 16 : k; }

/// A 1x1 convolution on an H x H image as a GEMM: M = H*H pixels, K input
/// channels, N output channels (H = 1: a fully connected layer).
void BM_Gemm(benchmark::State& state) {
  const std::int64_t m = state.range(0) * state.range(0), k = state.range(1), n = state.range(2);
  const auto& kt = state.range(3) ? kernels::kernels_for(kernels::Isa::Portable) : kernels::best_kernels();
  const std::int64_t lda = m > 1 ? gemm_lda(k) : k;
  auto a = random_vec(static_cast<std::size_t>(m * lda));
  auto w = random_vec(static_cast<std::size_t>(n * k));
  auto bias = random_vec(static_cast<std::size_t>(n));
  Floats packed(static_cast<std::size_t>(kernels::packed_b_size(kt, n, k)));
  kernels::pack_gemm_b(kt, w.data(), n, k, packed.data());
  Floats c(static_cast<std::size_t>(m * n));
  kernels::GemmArgs g{m, n, k, a.data(), lda, packed.data(), c.data(), n, bias.data(), ir::Activation::ReLU6};
  for (auto _ : state) {
    kt.gemm(g, 0, m);
    benchmark::ClobberMemory();
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(static_cast<double>(2 * m * n * k), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(4 * (m * k + n * k + m * n)),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kernels::isa_name(kt.isa));
}

// MobileNetV2 1.0/224 1x1 convolutions {pixels, C_in, C_out}: the largest by MAdds.
/// The 1x1 shapes {H, C_in, C_out, portable}: MobileNetV2 1.0/224's 1x1
/// convolutions, MobileNetV1's pointwise layers, SqueezeNet 1.1's expand 1x1
/// and two classifiers.
void gemm_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"H", "K", "N", "portable"})
      ->Args({112, 16, 96, 0})   // ir2 expand
      ->Args({56, 24, 144, 0})   // ir3 expand
      ->Args({56, 144, 24, 0})   // ir3 project
      ->Args({28, 32, 192, 0})   // ir5 expand
      ->Args({14, 64, 384, 0})   // ir8 expand
      ->Args({14, 384, 64, 0})   // ir8 project
      ->Args({14, 96, 576, 0})   // ir12 expand
      ->Args({14, 576, 96, 0})   // ir12 project
      ->Args({7, 160, 960, 0})   // ir15 expand
      ->Args({7, 960, 160, 0})   // ir15 project
      ->Args({7, 320, 1280, 0})  // conv_last
      // MobileNetV1 pointwise layers.
      ->Args({112, 32, 64, 0})
      ->Args({56, 128, 128, 0})
      ->Args({28, 256, 256, 0})
      ->Args({14, 512, 512, 0})
      ->Args({7, 1024, 1024, 0})
      // SqueezeNet 1.1 fire expand 1x1.
      ->Args({55, 16, 64, 0})
      ->Args({13, 64, 256, 0})
      ->Args({13, 512, 1000, 0})  // conv10, the classifier as a 1x1 convolution
      // Narrow panels (16 columns run one vector of AVX-512's two) beside a whole one.
      ->Args({112, 32, 16, 0})  // MobileNetV2 ir1 project
      ->Args({55, 96, 16, 0})   // SqueezeNet 1.0 fire2 squeeze
      ->Args({55, 96, 32, 0})
      // Fully connected classifiers (one row: matrix-vector).
      ->Args({1, 1280, 1000, 0})
      ->Args({1, 1024, 1000, 0});
}

BENCHMARK(BM_Gemm)->Apply(gemm_shapes);

/// The same GEMM with its weights evicted before every run (a 64 MiB write
/// between runs, not timed), as a network meets a layer: its weights come back
/// from L3 or DRAM, its input is the previous step's output (re-read here
/// after the write, so it is warm in L2).
void BM_GemmColdB(benchmark::State& state) {
  const std::int64_t m = state.range(0) * state.range(0), k = state.range(1), n = state.range(2);
  const auto& kt = kernels::best_kernels();
  const std::int64_t lda = m > 1 ? gemm_lda(k) : k;
  auto a = random_vec(static_cast<std::size_t>(m * lda));
  auto w = random_vec(static_cast<std::size_t>(n * k));
  Floats packed(static_cast<std::size_t>(kernels::packed_b_size(kt, n, k)));
  kernels::pack_gemm_b(kt, w.data(), n, k, packed.data());
  Floats c(static_cast<std::size_t>(m * n)), evict(std::size_t{16} << 20);
  kernels::GemmArgs g{m, n, k, a.data(), lda, packed.data(), c.data(), n, nullptr, ir::Activation::ReLU};
  float sink = 0.f;
  for (auto _ : state) {
    state.PauseTiming();
    for (std::size_t i = 0; i < evict.size(); i += 16) evict[i] += 1.f;
    for (std::size_t i = 0; i < a.size(); i += 16) sink += a[i];
    state.ResumeTiming();
    kt.gemm(g, 0, m);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(sink);
  state.counters["FLOP/s"] =
      benchmark::Counter(static_cast<double>(2 * m * n * k), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["B bytes/s"] =
      benchmark::Counter(static_cast<double>(4 * n * k), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kernels::isa_name(kt.isa));
}
BENCHMARK(BM_GemmColdB)
    ->ArgNames({"H", "K", "N"})
    ->Args({112, 32, 64})  // MobileNetV1's first pointwise layer: 3.2 MB of output, written to lines not in cache
    ->Args({14, 512, 512})
    ->Args({7, 1024, 1024})
    ->Args({7, 960, 160})
    ->Args({7, 320, 1280})
    ->Args({13, 512, 1000})
    ->Args({1, 1280, 1000})  // MobileNetV2's classifier: a stream of 5 MB of weights
    ->Args({1, 1024, 1000})
    ->Iterations(100);  // the eviction is untimed, so a time-based count would run only a few
BENCHMARK(BM_Gemm)->ArgNames({"H", "K", "N", "portable"})->Args({56, 128, 128, 1});  // the portable path, for the ratio

/// pad_c: extra floats per input pixel (plans pad the inputs that would crowd L1, schedule.cpp).
void depthwise(benchmark::State& state, std::int64_t pad_c) {
  const std::int64_t h = state.range(0), c = state.range(1), k = state.range(2), s = state.range(3);
  const auto& kt = state.range(4) ? kernels::kernels_for(kernels::Isa::Portable) : kernels::best_kernels();
  const std::int64_t cs = c + pad_c;
  const std::int64_t pad = (k - 1) / 2, oh = (h + 2 * pad - k) / s + 1;
  auto x = random_vec(static_cast<std::size_t>(h * h * cs));
  const auto w_chw = random_vec(static_cast<std::size_t>(k * k * c));
  Floats w(static_cast<std::size_t>(k * k * kernels::dw_weight_stride(c)));
  kernels::pack_depthwise(w_chw.data(), c, k * k, w.data());  // as the runtime does
  auto b = random_vec(static_cast<std::size_t>(c));
  // A padded plan writes the output one line wider too where its pixels are a
  // multiple of 1 KiB apart and a strided reader (a 1x1 convolution) follows.
  const std::int64_t ys = pad_c > 0 && c % 256 == 0 ? c + pad_c : c;
  Floats y(static_cast<std::size_t>(oh * oh * ys));
  kernels::DwArgs d;
  d.in = {x.data(), h, h, c, cs};
  d.out = {y.data(), oh, oh, c, ys};
  d.k = k;
  d.stride = s;
  d.pad = pad;
  d.weights = w.data();
  d.w_stride = kernels::dw_weight_stride(c);
  d.bias = b.data();
  d.act = ir::Activation::ReLU6;
  d.y_begin = 0;
  d.y_end = oh;
  for (auto _ : state) {
    kt.depthwise(d);
    benchmark::ClobberMemory();
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(static_cast<double>(2 * oh * oh * c * k * k), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(4 * (h * h * c + oh * oh * c + k * k * c + c)),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kernels::isa_name(kt.isa));
}

// MobileNetV2 / V1 depthwise layers {input size, channels, k, stride}.
/// Depthwise layers {H, C, k, stride, portable} of MobileNetV2 / V1 and MobileNetV3's 5x5.
void depthwise_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"H", "C", "k", "s", "portable"})
      ->Args({112, 32, 3, 1, 0})
      ->Args({112, 96, 3, 2, 0})
      ->Args({56, 144, 3, 1, 0})
      ->Args({56, 144, 3, 2, 0})
      ->Args({28, 192, 3, 1, 0})
      ->Args({14, 384, 3, 1, 0})
      ->Args({14, 576, 3, 1, 0})
      ->Args({7, 960, 3, 1, 0})
      ->Args({56, 128, 3, 1, 0})
      ->Args({14, 512, 3, 1, 0})
      ->Args({19, 728, 3, 1, 0})  // Xception's middle flow: rows of 8 + 8 + 3
      // MobileNetV3 5x5.
      ->Args({28, 120, 5, 1, 0})
      ->Args({14, 672, 5, 2, 0});
}

void BM_Depthwise(benchmark::State& state) { depthwise(state, 0); }
BENCHMARK(BM_Depthwise)->Apply(depthwise_shapes);
BENCHMARK(BM_Depthwise)->ArgNames({"H", "C", "k", "s", "portable"})->Args({56, 144, 3, 1, 1});
/// MobileNetV1's 512-, 1024- and 128-channel layers as its plan lays them out:
/// the input one cache line wider per pixel, and the output too for 512 and
/// 1024 channels (schedule.cpp). Not against the peers (their tensors are dense).
void BM_DepthwisePadded(benchmark::State& state) { depthwise(state, state.range(5)); }
BENCHMARK(BM_DepthwisePadded)
    ->ArgNames({"H", "C", "k", "s", "portable", "pad"})
    ->Args({14, 512, 3, 1, 0, 16})
    ->Args({7, 1024, 3, 1, 0, 16})
    ->Args({56, 128, 3, 1, 0, 16});

/// A stand-alone activation over MobileNetV2's 56x56x144 expanded tensor (in L2 on
/// most server cores), in place, through the best table: the element-wise path of
/// unfused graphs and imported models.
void BM_Activation(benchmark::State& state) {
  const auto act = static_cast<ir::Activation>(state.range(0));
  const std::int64_t n = 56 * 56 * 144;
  const auto src = random_vec(static_cast<std::size_t>(n));
  Floats y = src;
  const auto& kt = kernels::best_kernels();
  for (auto _ : state) {
    state.PauseTiming();
    y = src;
    state.ResumeTiming();
    kt.activation(y.data(), n, act);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(ir::activation_name(act)));
  state.counters["elements/s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Activation)->DenseRange(1, static_cast<int>(ir::Activation::Swish));

/// Squeeze-excite's two data steps on EfficientNet-B0's shapes (pixels, channels): the
/// global average pool of the block's expanded tensor and the gate applied to it, by
/// the best table and, as a peer in the same run, by the plain loops the plan ran
/// before they were table kernels (compiled for this file's baseline ISA).
void se_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"pixels", "C", "table"});
  for (auto [px, c] : {std::pair{112 * 112, 32}, {56 * 56, 144}, {28 * 28, 240}, {14 * 14, 480}, {7 * 7, 1152}})
    for (int table : {1, 0}) b->Args({px, c, table});
}

/// Max pooling 3x3 stride 2 {H, C, portable}: SqueezeNet 1.0's first and second, ShuffleNet V2's.
void BM_Pool(benchmark::State& state) {
  const std::int64_t h = state.range(0), c = state.range(1), oh = (h - 3) / 2 + 1;
  const auto& kt = state.range(2) ? kernels::kernels_for(kernels::Isa::Portable) : kernels::best_kernels();
  auto x = random_vec(static_cast<std::size_t>(h * h * c));
  Floats y(static_cast<std::size_t>(oh * oh * c));
  kernels::PoolArgs pa;
  pa.in = {x.data(), h, h, c, c};
  pa.out = {y.data(), oh, oh, c, c};
  pa.k = 3;
  pa.stride = 2;
  pa.y_begin = 0;
  pa.y_end = oh;
  for (auto _ : state) {
    kt.pool(pa);
    benchmark::ClobberMemory();
  }
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(4 * (h * h * c + oh * oh * c)),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kernels::isa_name(kt.isa));
}
BENCHMARK(BM_Pool)
    ->ArgNames({"H", "C", "portable"})
    ->Args({109, 96, 0})
    ->Args({54, 256, 0})
    ->Args({112, 24, 0})
    ->Args({109, 96, 1})
    ->Args({55, 16, 0})
    ->Args({55, 64, 0})
    ->Args({55, 256, 0});

/// Global average pooling {pixels, C, table}: table 1 the best table, 2 the
/// portable table's loop (channel chunks of 64 and 16 floats, each a pass over
/// the pixels: the loop the vector tables ran, built with their ISA flags,
/// before kernel revision 25; here built for the baseline ISA), 0 a plain loop.
void BM_GlobalPool(benchmark::State& state) {
  const std::int64_t px = state.range(0), c = state.range(1);
  const auto x = random_vec(static_cast<std::size_t>(px * c));
  Floats y(static_cast<std::size_t>(c));
  const auto& kt = state.range(2) == 2 ? kernels::kernels_for(kernels::Isa::Portable) : kernels::best_kernels();
  for (auto _ : state) {
    if (state.range(2) != 0) {
      kt.global_pool(x.data(), y.data(), px, c, false);
    } else {
      for (std::int64_t i = 0; i < c; ++i) y[static_cast<std::size_t>(i)] = 0.f;
      for (std::int64_t p = 0; p < px; ++p)
        for (std::int64_t i = 0; i < c; ++i) y[static_cast<std::size_t>(i)] += x[static_cast<std::size_t>(p * c + i)];
      for (std::int64_t i = 0; i < c; ++i) y[static_cast<std::size_t>(i)] /= static_cast<float>(px);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(state.range(2) != 0 ? std::string(kernels::isa_short_name(kt.isa)) : "plain loop");
  state.counters["GB/s"] =
      benchmark::Counter(static_cast<double>(px * c) * 4, benchmark::Counter::kIsIterationInvariantRate);
}
/// The squeeze-excite shapes, and MobileNetV3's channel counts off the 64-float chunk.
void global_pool_shapes(benchmark::internal::Benchmark* b) {
  se_shapes(b);
  for (auto [px, c] : {std::pair{28 * 28, 72}, {28 * 28, 120}, {14 * 14, 672}, {7 * 7, 960}})
    for (int table : {1, 0}) b->Args({px, c, table});
  for (auto [px, c] : {std::pair{56 * 56, 144},
                       {28 * 28, 240},
                       {14 * 14, 480},
                       {28 * 28, 72},
                       {28 * 28, 120},
                       {14 * 14, 672},
                       {7 * 7, 960}})
    b->Args({px, c, 2});
}
BENCHMARK(BM_GlobalPool)->Apply(global_pool_shapes);

void BM_ChannelScale(benchmark::State& state) {
  const std::int64_t px = state.range(0), c = state.range(1);
  const auto x = random_vec(static_cast<std::size_t>(px * c)), s = random_vec(static_cast<std::size_t>(c));
  Floats y(x.size());
  const auto& kt = kernels::best_kernels();
  for (auto _ : state) {
    if (state.range(2) != 0) {
      kt.channel_scale(x.data(), s.data(), y.data(), px, c);
    } else {
      for (std::int64_t p = 0; p < px; ++p)
        for (std::int64_t i = 0; i < c; ++i)
          y[static_cast<std::size_t>(p * c + i)] =
              x[static_cast<std::size_t>(p * c + i)] * s[static_cast<std::size_t>(i)];
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(state.range(2) != 0 ? std::string(kernels::isa_short_name(kt.isa)) : "plain loop");
  state.counters["GB/s"] =
      benchmark::Counter(static_cast<double>(px * c) * 8, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ChannelScale)->Apply(se_shapes);

/// Channel shuffle {H, C, groups, table}: IGCV2-MobileNet's interleaves (4 groups
/// at 112 x 112 x 32 ... 16 groups) and ShuffleNet's two groups; table 0 is the
/// portable table's element loop, the peer in the same run.
void BM_Shuffle(benchmark::State& state) {
  const std::int64_t h = state.range(0), c = state.range(1), groups = state.range(2);
  const auto& kt = state.range(3) ? kernels::best_kernels() : kernels::kernels_for(kernels::Isa::Portable);
  const auto x = random_vec(static_cast<std::size_t>(h * h * c));
  Floats y(x.size());
  for (auto _ : state) {
    kt.shuffle(x.data(), y.data(), h * h, c, groups);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(kernels::isa_short_name(kt.isa)));
  state.counters["GB/s"] =
      benchmark::Counter(static_cast<double>(h * h * c) * 8, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Shuffle)->ArgNames({"H", "C", "g", "table"})->ArgsProduct({{112}, {32}, {4}, {1, 0}});
BENCHMARK(BM_Shuffle)->ArgNames({"H", "C", "g", "table"})->ArgsProduct({{28}, {128}, {8}, {1, 0}});
BENCHMARK(BM_Shuffle)->ArgNames({"H", "C", "g", "table"})->ArgsProduct({{14}, {256}, {16}, {1, 0}});
BENCHMARK(BM_Shuffle)->ArgNames({"H", "C", "g", "table"})->ArgsProduct({{28}, {116}, {2}, {1, 0}});

/// Grouped 1x1 convolution {H, C_in, C_out, groups, narrow}: IGCV2-MobileNet's
/// group convolutions, run as one GEMM per group over all pixels (narrow 0: what
/// every table without narrow_groups runs) or by the table's narrow_groups
/// (narrow 1), the peer in the same run.
void BM_GroupedPointwise(benchmark::State& state) {
  const std::int64_t m = state.range(0) * state.range(0), cin = state.range(1), cout = state.range(2);
  const std::int64_t g = state.range(3), cin_g = cin / g, cout_g = cout / g;
  const auto& kt = kernels::best_kernels();
  const bool narrow = state.range(4) != 0;
  if (narrow && !kernels::runs_narrow_groups(kt, g, cin_g, cout_g)) {
    state.SkipWithError("this table has no narrow_groups for this shape");
    return;
  }
  const auto x = random_vec(static_cast<std::size_t>(m * cin));
  const auto w = random_vec(static_cast<std::size_t>(cout * cin_g));
  const auto bias = random_vec(static_cast<std::size_t>(cout));
  Floats y(static_cast<std::size_t>(m * cout));
  Floats packed;
  if (narrow) {
    packed.resize(static_cast<std::size_t>(kernels::narrow_groups_size(kt, cin_g, cout)));
    kernels::pack_narrow_groups(kt, w.data(), cin_g, cout_g, cout, packed.data());
  } else {
    const std::int64_t per = kernels::packed_b_size(kt, cout_g, cin_g);
    packed.resize(static_cast<std::size_t>(per * g));
    for (std::int64_t grp = 0; grp < g; ++grp)
      kernels::pack_gemm_b(kt, w.data() + grp * cout_g * cin_g, cout_g, cin_g, packed.data() + grp * per);
  }
  const kernels::NarrowGroupArgs na{x.data(), cin,  y.data(),      cout,        cin_g,
                                    cout_g,   cout, packed.data(), bias.data(), ir::Activation::ReLU};
  for (auto _ : state) {
    if (narrow) {
      kt.narrow_groups(na, 0, m);
    } else {
      const std::int64_t per = kernels::packed_b_size(kt, cout_g, cin_g);
      for (std::int64_t grp = 0; grp < g; ++grp) {
        kernels::GemmArgs ga{m,
                             cout_g,
                             cin_g,
                             x.data() + grp * cin_g,
                             cin,
                             packed.data() + grp * per,
                             y.data() + grp * cout_g,
                             cout,
                             bias.data() + grp * cout_g,
                             ir::Activation::ReLU};
        kt.gemm(ga, 0, m);
      }
    }
    benchmark::ClobberMemory();
  }
  state.SetLabel(narrow ? "narrow_groups" : "GEMM per group");
  state.counters["FLOP/s"] =
      benchmark::Counter(static_cast<double>(2 * m * cout * cin_g), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_GroupedPointwise)
    ->ArgNames({"H", "Cin", "Cout", "g", "narrow"})
    ->ArgsProduct({{112}, {32}, {32}, {4}, {0, 1}})    // igc1 group2: 8 -> 8 per group
    ->ArgsProduct({{112}, {32}, {64}, {8}, {0, 1}})    // igc1 group3: 4 -> 8
    ->ArgsProduct({{56}, {128}, {128}, {16}, {0, 1}})  // igc3 group3: 8 -> 8
    ->ArgsProduct({{56}, {64}, {128}, {8}, {0, 1}})    // igc2 group3: 8 -> 16 (not narrow: GEMM only)
    ->ArgsProduct({{28}, {64}, {64}, {16}, {0, 1}})    // 4 -> 4 (IGCV2 at width 0.5)
    ->ArgsProduct({{28}, {96}, {96}, {16}, {0, 1}});   // 6 -> 6 (a two-source permute)

}  // namespace

#if defined(CONVSCOPE_HAVE_DNNL)
// ---------------------------------------------------------------------------
// The peer: the same layers through oneDNN (Debian's libdnnl-dev), NHWC in and
// out, the same fused bias + ReLU6, weights reordered to oneDNN's preferred
// layout once outside the timed loop. One OpenMP thread (set in main).

/// One oneDNN convolution on an H x H x C_in NHWC image.
void run_onednn_conv(benchmark::State& state, std::int64_t h, std::int64_t cin, std::int64_t cout, std::int64_t k,
                     std::int64_t stride, std::int64_t groups) {
  using dnnl::memory;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const std::int64_t pad = (k - 1) / 2, oh = (h + 2 * pad - k) / stride + 1;
  const memory::desc src_md({1, cin, h, h}, dt::f32, tag::nhwc);
  const memory::desc dst_md({1, cout, oh, oh}, dt::f32, tag::nhwc);
  const memory::desc bias_md({cout}, dt::f32, tag::a);
  const memory::dims wdims =
      groups == 1 ? memory::dims{cout, cin, k, k} : memory::dims{groups, cout / groups, cin / groups, k, k};
  const memory::desc wany(wdims, dt::f32, tag::any);
  const memory::desc wuser(wdims, dt::f32, groups == 1 ? tag::oihw : tag::goihw);
  dnnl::post_ops ops;
  ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f);  // ReLU6
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                             src_md, wany, bias_md, dst_md, {stride, stride}, {pad, pad}, {pad, pad});
  const dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
  auto src_v = random_vec(static_cast<std::size_t>(h * h * cin));
  auto w_v = random_vec(static_cast<std::size_t>(cout * (cin / groups) * k * k));
  auto b_v = random_vec(static_cast<std::size_t>(cout));
  Floats dst_v(static_cast<std::size_t>(oh * oh * cout));
  memory src(src_md, eng, src_v.data()), wu(wuser, eng, w_v.data()), bias(bias_md, eng, b_v.data()),
      dst(dst_md, eng, dst_v.data());
  memory w(pd.weights_desc(), eng);
  dnnl::reorder(wu, w).execute(strm, wu, w);
  strm.wait();
  dnnl::convolution_forward conv(pd);
  const std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}};
  for (auto _ : state) {
    conv.execute(strm, args);
    strm.wait();
  }
  const double flops = 2.0 * static_cast<double>(oh * oh * cout * (cin / groups) * k * k);
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string("oneDNN ") + pd.impl_info_str());
}

void BM_OneDnn1x1(benchmark::State& state) {
  run_onednn_conv(state, state.range(0), state.range(1), state.range(2), 1, 1, 1);
}
BENCHMARK(BM_OneDnn1x1)->Apply(gemm_shapes);

void BM_OneDnnDepthwise(benchmark::State& state) {
  const std::int64_t c = state.range(1);
  run_onednn_conv(state, state.range(0), c, c, state.range(2), state.range(3), c);
}
BENCHMARK(BM_OneDnnDepthwise)->Apply(depthwise_shapes);
#endif

#if defined(CONVSCOPE_HAVE_XNNPACK)
// ---------------------------------------------------------------------------
// The second peer: XNNPACK (Debian's libxnnpack-dev, a 2022 snapshot), its f32
// NHWC convolution operator with the same shapes, padding and ReLU6 clamp; the
// depthwise layers with XNN_FLAG_DEPTHWISE_CONVOLUTION (its dwconv kernels),
// the 1x1 layers through its GEMM. No thread pool: one thread, as ours.

void run_xnnpack_conv(benchmark::State& state, std::int64_t h, std::int64_t cin, std::int64_t cout, std::int64_t k,
                      std::int64_t stride, std::int64_t groups) {
  if (xnn_initialize(nullptr) != xnn_status_success) return state.SkipWithError("xnn_initialize failed");
  const std::int64_t pad = (k - 1) / 2, oh = (h + 2 * pad - k) / stride + 1;
  const bool dw = groups == cin && groups == cout && groups > 1;
  const auto w = random_vec(static_cast<std::size_t>(cout * (cin / groups) * k * k));
  const auto b = random_vec(static_cast<std::size_t>(cout));
  const auto x = random_vec(static_cast<std::size_t>(h * h * cin));
  Floats y(static_cast<std::size_t>(oh * oh * cout));
  const auto u = [](std::int64_t v) { return static_cast<std::uint32_t>(v); };
  xnn_operator_t op = nullptr;
  if (xnn_create_convolution2d_nhwc_f32(u(pad), u(pad), u(pad), u(pad), u(k), u(k), u(stride), u(stride), 1, 1,
                                        u(groups), static_cast<std::size_t>(cin / groups),
                                        static_cast<std::size_t>(cout / groups), static_cast<std::size_t>(cin),
                                        static_cast<std::size_t>(cout), w.data(), b.data(), 0.f, 6.f,
                                        dw ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0, &op) != xnn_status_success)
    return state.SkipWithError("xnn_create_convolution2d_nhwc_f32 failed");
  if (xnn_setup_convolution2d_nhwc_f32(op, 1, static_cast<std::size_t>(h), static_cast<std::size_t>(h), x.data(),
                                       y.data(), nullptr) != xnn_status_success) {
    xnn_delete_operator(op);
    return state.SkipWithError("xnn_setup_convolution2d_nhwc_f32 failed");
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
  const double flops = 2.0 * static_cast<double>(oh * oh * cout * (cin / groups) * k * k);
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("XNNPACK");
}

void BM_Xnnpack1x1(benchmark::State& state) {
  run_xnnpack_conv(state, state.range(0), state.range(1), state.range(2), 1, 1, 1);
}
BENCHMARK(BM_Xnnpack1x1)->Apply(gemm_shapes);

void BM_XnnpackDepthwise(benchmark::State& state) {
  const std::int64_t c = state.range(1);
  run_xnnpack_conv(state, state.range(0), c, c, state.range(2), state.range(3), c);
}
BENCHMARK(BM_XnnpackDepthwise)->Apply(depthwise_shapes);
#endif

int main(int argc, char** argv) {
#if defined(CONVSCOPE_HAVE_DNNL)
  omp_set_num_threads(1);  // one thread for both sides; our kernels are called on one thread
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
