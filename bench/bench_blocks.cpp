// The five block kinds on one shape, and whole networks, through the planned
// executor (fused, AVX2 where available, one thread). Run: build/bench/bench_blocks
#include <benchmark/benchmark.h>

#include "blocks/registry.h"
#include "cost/analysis.h"
#include "io/graph_json.h"
#include "runtime/plan.h"

namespace {

using namespace convscope;

void run_plan(benchmark::State& state, const ir::Graph& g, const runtime::PlanOptions& options = {}) {
  const auto a = cost::analyze(g);
  if (!a.complete()) {
    state.SkipWithError(format_diagnostics(a.diagnostics).c_str());
    return;
  }
  auto plan = runtime::Plan::build(g, a, options);
  if (!plan) {
    state.SkipWithError(format_diagnostics(plan.error()).c_str());
    return;
  }
  for (std::size_t i = 0; i < plan->n_inputs(); ++i) {
    float* x = plan->input(i);
    const std::int64_t n = plan->batch() * plan->input_shape(i).elements();
    for (std::int64_t k = 0; k < n; ++k) x[k] = static_cast<float>(k % 17) * 0.1f - 0.8f;
  }
  for (auto _ : state) plan->run();
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(a.totals.madds), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MAdds"] = static_cast<double>(a.totals.madds);
  state.counters["bytes/s"] =
      benchmark::Counter(static_cast<double>(a.totals.bytes_moved), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(kernels::isa_name(plan->isa()));
}

/// Each block kind mapping 56x56x64 to 64 channels at stride 1 (as `convscope-cli compare`).
void BM_Block(benchmark::State& state, const std::string& kind) {
  const auto* k = blocks::Registry::builtin().find(kind);
  auto cfg = k->compare_config(64, 1);
  ir::Graph g;
  g.nodes.push_back(
      {.id = "in",
       .kind = "input",
       .params = {{"height", std::int64_t{56}}, {"width", std::int64_t{56}}, {"channels", std::int64_t{64}}}});
  g.nodes.push_back({.id = "block", .kind = kind, .inputs = {"in"}, .params = *cfg});
  run_plan(state, g);
}
BENCHMARK_CAPTURE(BM_Block, conv, std::string("conv"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Block, separable, std::string("separable"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Block, fire, std::string("fire"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Block, igcv1, std::string("igcv1"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Block, igcv3, std::string("igcv3"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Block, inverted_residual, std::string("inverted_residual"))->Unit(benchmark::kMicrosecond);

/// One layer on its own shape: the kernels not covered by bench_kernels (k x k
/// convolution through im2col, pooling), on MobileNetV2 and SqueezeNet shapes.
void BM_Layer(benchmark::State& state, const std::string& kind, ir::Shape in, ir::ParamMap params) {
  ir::Graph g;
  g.nodes.push_back({.id = "in", .kind = "input", .params = {{"height", in.h}, {"width", in.w}, {"channels", in.c}}});
  g.nodes.push_back({.id = "layer", .kind = kind, .inputs = {"in"}, .params = std::move(params)});
  run_plan(state, g);
}
// MobileNetV2's first convolution: 224x224x3 -> 32, 3x3 stride 2 (im2col, K = 27).
BENCHMARK_CAPTURE(BM_Layer, mobilenet_v2_conv1, std::string("conv"), ir::Shape{224, 224, 3},
                  ir::ParamMap{
                      {"out", std::int64_t{32}}, {"stride", std::int64_t{2}}, {"activation", std::string("relu6")}})
    ->Unit(benchmark::kMicrosecond);
// SqueezeNet 1.1: conv1 (3x3/2, no padding) and the 3x3 expand of fire2 and fire9.
BENCHMARK_CAPTURE(BM_Layer, squeezenet_conv1, std::string("conv"), ir::Shape{224, 224, 3},
                  ir::ParamMap{{"out", std::int64_t{64}},
                               {"stride", std::int64_t{2}},
                               {"padding", std::int64_t{0}},
                               {"bias", true},
                               {"bn", false}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Layer, squeezenet_fire2_expand3x3, std::string("conv"), ir::Shape{55, 55, 16},
                  ir::ParamMap{{"out", std::int64_t{64}}, {"bias", true}, {"bn", false}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Layer, squeezenet_fire9_expand3x3, std::string("conv"), ir::Shape{13, 13, 64},
                  ir::ParamMap{{"out", std::int64_t{256}}, {"bias", true}, {"bn", false}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Layer, squeezenet_maxpool, std::string("pool"), ir::Shape{111, 111, 64},
                  ir::ParamMap{{"kernel", std::int64_t{3}}, {"stride", std::int64_t{2}}, {"ceil_mode", true}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Layer, mobilenet_v2_global_pool, std::string("global_pool"), ir::Shape{7, 7, 1280}, ir::ParamMap{})
    ->Unit(benchmark::kMicrosecond);

/// A 3x3 stride-1 convolution (H x H x Cin -> Cout, ReLU) by Winograd F(4x4, 3x3)
/// (winograd 1) or by the implicit-im2col GEMM (0): the pair's ratio is the
/// gain. FLOP/s counts the direct convolution's multiply-adds on both.
void BM_Conv3x3(benchmark::State& state) {
  const std::int64_t h = state.range(0), cin = state.range(1), cout = state.range(2);
  ir::Graph g;
  g.nodes.push_back({.id = "in", .kind = "input", .params = {{"height", h}, {"width", h}, {"channels", cin}}});
  g.nodes.push_back({.id = "layer",
                     .kind = "conv",
                     .inputs = {"in"},
                     .params = {{"out", cout}, {"activation", std::string("relu")}, {"bias", true}, {"bn", false}}});
  runtime::PlanOptions o;
  o.winograd = state.range(3) != 0;
  run_plan(state, g, o);
}
// SqueezeNet 1.1's fire2 and fire4 expands, SqueezeNet 1.0's fire4 and fire8,
// GoogLeNet's inception 3a and 3b 3x3 branches, a ResNet-style 56 x 56 layer.
BENCHMARK(BM_Conv3x3)
    ->ArgNames({"H", "Cin", "Cout", "winograd"})
    ->ArgsProduct({{55}, {16}, {64}, {0, 1}})
    ->ArgsProduct({{27}, {32}, {128}, {0, 1}})
    ->ArgsProduct({{55}, {32}, {128}, {0, 1}})
    ->ArgsProduct({{27}, {64}, {256}, {0, 1}})
    ->ArgsProduct({{28}, {96}, {128}, {0, 1}})
    ->ArgsProduct({{28}, {128}, {192}, {0, 1}})
    ->ArgsProduct({{56}, {64}, {64}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

// Data movement and element-wise layers (no MAdds; bytes/s is the figure).
BENCHMARK_CAPTURE(BM_Layer, shufflenet_channel_shuffle, std::string("channel_shuffle"), ir::Shape{28, 28, 116},
                  ir::ParamMap{{"groups", std::int64_t{2}}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Layer, mobilenet_v3_hswish, std::string("activation"), ir::Shape{56, 56, 72},
                  ir::ParamMap{{"function", std::string("hswish")}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Layer, mobilenet_v2_batch_norm, std::string("batch_norm"), ir::Shape{56, 56, 144}, ir::ParamMap{})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Layer, shufflenet_split, std::string("split"), ir::Shape{28, 28, 116},
                  ir::ParamMap{{"index", std::int64_t{1}}})
    ->Unit(benchmark::kMicrosecond);

void BM_Network(benchmark::State& state, const std::string& preset) {
  auto g = io::load_graph(std::string(CONVSCOPE_PRESET_DIR) + "/" + preset + ".json");
  if (!g) {
    state.SkipWithError("cannot load preset");
    return;
  }
  run_plan(state, *g);
}
BENCHMARK_CAPTURE(BM_Network, mobilenet_v2, std::string("mobilenet_v2"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Network, mobilenet_v1, std::string("mobilenet_v1"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Network, mobilenet_v3_small, std::string("mobilenet_v3_small"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Network, mobilenet_v3_large, std::string("mobilenet_v3_large"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Network, squeezenet1_1, std::string("squeezenet1_1"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Network, squeezenet1_0, std::string("squeezenet1_0"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Network, googlenet, std::string("googlenet"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Network, shufflenet_v2_x1_0, std::string("shufflenet_v2_x1_0"))->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
