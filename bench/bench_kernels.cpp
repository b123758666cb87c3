// Kernels on the layer shapes of MobileNetV2, MobileNetV1 and SqueezeNet, with
// FLOP/s and bytes counters. Run: build/bench/bench_kernels
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "kernels/kernels.h"

namespace {

using namespace convscope;

std::vector<float> random_vec(std::size_t n) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

/// A 1x1 convolution as a GEMM: M pixels, K input channels, N output channels.
void BM_Gemm(benchmark::State& state) {
  const std::int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const auto& kt = state.range(3) ? kernels::kernels_for(kernels::Isa::Portable) : kernels::best_kernels();
  auto a = random_vec(static_cast<std::size_t>(m * k));
  auto w = random_vec(static_cast<std::size_t>(n * k));
  auto bias = random_vec(static_cast<std::size_t>(n));
  std::vector<float> packed(static_cast<std::size_t>(kernels::packed_b_size(n, k)));
  kernels::pack_gemm_b(w.data(), n, k, packed.data());
  std::vector<float> c(static_cast<std::size_t>(m * n));
  kernels::GemmArgs g{m, n, k, a.data(), k, packed.data(), c.data(), n, bias.data(), ir::Activation::ReLU6};
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
BENCHMARK(BM_Gemm)
    ->ArgNames({"M", "K", "N", "portable"})
    ->Args({12544, 16, 96, 0})  // ir2 expand
    ->Args({3136, 24, 144, 0})  // ir3 expand
    ->Args({3136, 144, 24, 0})  // ir3 project
    ->Args({784, 32, 192, 0})   // ir5 expand
    ->Args({196, 64, 384, 0})   // ir8 expand
    ->Args({196, 384, 64, 0})   // ir8 project
    ->Args({196, 96, 576, 0})   // ir12 expand
    ->Args({196, 576, 96, 0})   // ir12 project
    ->Args({49, 160, 960, 0})   // ir15 expand
    ->Args({49, 960, 160, 0})   // ir15 project
    ->Args({49, 320, 1280, 0})  // conv_last
    // MobileNetV1 pointwise layers.
    ->Args({12544, 32, 64, 0})
    ->Args({3136, 128, 128, 0})
    ->Args({784, 256, 256, 0})
    ->Args({196, 512, 512, 0})
    ->Args({49, 1024, 1024, 0})
    // SqueezeNet 1.1 fire expand 1x1.
    ->Args({3025, 16, 64, 0})
    ->Args({169, 64, 256, 0})
    // Fully connected classifiers (one row: matrix-vector).
    ->Args({1, 1280, 1000, 0})
    ->Args({1, 1024, 1000, 0})
    // The portable path on one shape, for the ratio.
    ->Args({3136, 128, 128, 1});

void BM_Depthwise(benchmark::State& state) {
  const std::int64_t h = state.range(0), c = state.range(1), k = state.range(2), s = state.range(3);
  const auto& kt = state.range(4) ? kernels::kernels_for(kernels::Isa::Portable) : kernels::best_kernels();
  const std::int64_t pad = (k - 1) / 2, oh = (h + 2 * pad - k) / s + 1;
  auto x = random_vec(static_cast<std::size_t>(h * h * c));
  auto w = random_vec(static_cast<std::size_t>(k * k * c));
  auto b = random_vec(static_cast<std::size_t>(c));
  std::vector<float> y(static_cast<std::size_t>(oh * oh * c));
  kernels::DwArgs d;
  d.in = {x.data(), h, h, c, c};
  d.out = {y.data(), oh, oh, c, c};
  d.k = k;
  d.stride = s;
  d.pad = pad;
  d.weights = w.data();
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
BENCHMARK(BM_Depthwise)
    ->ArgNames({"H", "C", "k", "s", "portable"})
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
    // MobileNetV3 5x5.
    ->Args({28, 120, 5, 1, 0})
    ->Args({14, 672, 5, 2, 0})
    ->Args({56, 144, 3, 1, 1});

}  // namespace

BENCHMARK_MAIN();
