// Re-costing speed: the canvas re-analyzes the whole graph on every keystroke,
// so one parameter edit followed by a full analysis must stay far below a frame
// (target: < 1 ms for a 300-op graph). Run: build/bench/bench_cost
#include <benchmark/benchmark.h>

#include "cost/analysis.h"
#include "io/graph_json.h"
#include "profile/fusion_choice.h"
#include "profile/latency_model.h"
#include "runtime/schedule.h"

namespace {

using namespace convscope;

ir::Graph load(const std::string& name) {
  auto g = io::load_graph(std::string(CONVSCOPE_PRESET_DIR) + "/" + name + ".json");
  if (!g) std::abort();
  return *g;
}

/// Edit one parameter (alternating values so nothing can be cached), re-analyze everything.
void BM_RecostAfterEdit(benchmark::State& state, const std::string& preset, const std::string& block,
                        const std::string& param, std::int64_t a, std::int64_t b) {
  ir::Graph g = load(preset);
  const int idx = g.find(block);
  if (idx < 0) std::abort();
  std::size_t ops = 0;
  bool flip = false;
  for (auto _ : state) {
    g.nodes[static_cast<std::size_t>(idx)].params[param] = flip ? a : b;
    flip = !flip;
    const cost::Analysis an = cost::analyze(g);
    benchmark::DoNotOptimize(an.totals.madds);
    ops = an.ops.size();
  }
  state.counters["ops"] = static_cast<double>(ops);
  state.counters["blocks"] = static_cast<double>(g.nodes.size());
}

BENCHMARK_CAPTURE(BM_RecostAfterEdit, igcv3_d_353_ops, "igcv3_d", "igc10", "expansion", 4, 6)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RecostAfterEdit, shufflenet_v2_210_ops, "shufflenet_v2_x1_0", "s3u2_b2_pw1", "out", 96, 116)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RecostAfterEdit, mobilenet_v3_large_185_ops, "mobilenet_v3_large", "ir5", "expanded", 96, 120)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RecostAfterEdit, mobilenet_v2_152_ops, "mobilenet_v2", "ir5", "expansion", 4, 6)
    ->Unit(benchmark::kMicrosecond);

/// The latency model on every keystroke: choose which bottlenecks to fuse (split
/// 0: two schedules predicted, as the app does), schedule the analysed graph
/// (fusions, layouts, arena) and predict each step. Target: < 1 ms for a 300-op
/// graph. The model's coefficients do not change the cost, so a fixed cost per
/// step stands in for a calibrated model (no calibration inside a benchmark).
/// On two threads the model also follows the lines that move between cores.
void BM_PredictLatency(benchmark::State& state, const std::string& preset, std::int64_t split, int threads = 1) {
  const ir::Graph g = load(preset);
  const cost::Analysis an = cost::analyze(g);
  const auto m = profile::LatencyModel::per_step(1000.0);
  profile::FusionSetting fusion;
  if (split > 0) fusion = {profile::FusionSetting::Mode::Slices, split};
  std::size_t steps = 0;
  for (auto _ : state) {
    std::optional<runtime::Schedule> s;
    runtime::PlanOptions base;
    base.threads = threads;
    const runtime::PlanOptions po = profile::apply_fusion(g, an, &m, fusion, base, nullptr, &s);
    if (!s) s = *runtime::Schedule::build(g, an, po);  // (the presets always schedule)
    const auto p = m.predict(*s);                      // every step's features and its kind's dot product
    benchmark::DoNotOptimize(p.total_ns);
    steps = s->steps.size();
  }
  state.counters["ops"] = static_cast<double>(an.ops.size());
  state.counters["steps"] = static_cast<double>(steps);
}
BENCHMARK_CAPTURE(BM_PredictLatency, igcv3_d_353_ops, "igcv3_d", 0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PredictLatency, igcv3_d_353_ops_2_threads, "igcv3_d", 0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PredictLatency, mobilenet_v2_152_ops, "mobilenet_v2", 0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PredictLatency, mobilenet_v2_split_6, "mobilenet_v2", 6)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PredictLatency, efficientnet_b0_2_threads, "efficientnet_b0", 0, 2)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PredictLatency, xception_2_threads, "xception", 0, 2)->Unit(benchmark::kMicrosecond);

void BM_LoadPreset(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(load("igcv3_d"));
}
BENCHMARK(BM_LoadPreset)->Unit(benchmark::kMicrosecond);

/// A graph file of `blocks` activations in a chain (or, with `cycle`, closed
/// into a cycle through an add): what issue 12 found quadratic. Target: a
/// 10^5-block chain loads and analyses in under 1 s.
std::string hostile_graph(std::int64_t blocks, bool cycle) {
  std::string t = R"({"format": "convscope-graph", "version": 1, "blocks": [)"
                  R"({"id": "in", "kind": "input", "height": 8, "width": 8, "channels": 8})";
  t += cycle ? R"(, {"id": "a0", "kind": "add", "inputs": ["in", "a)" + std::to_string(blocks - 1) + R"("]})"
             : R"(, {"id": "a0", "kind": "activation", "inputs": ["in"]})";
  for (std::int64_t i = 1; i < blocks; ++i)
    t += R"(, {"id": "a)" + std::to_string(i) + R"(", "kind": "activation", "inputs": ["a)" + std::to_string(i - 1) +
         R"("]})";
  return t + "]}";
}

void BM_LoadAndAnalyseHostile(benchmark::State& state) {
  const std::string text = hostile_graph(state.range(0), state.range(1) != 0);
  for (auto _ : state) {
    auto g = io::graph_from_json(text);
    if (!g) std::abort();
    const cost::Analysis an = cost::analyze(*g);
    benchmark::DoNotOptimize(an.diagnostics.size());
  }
  state.counters["blocks"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_LoadAndAnalyseHostile)
    ->ArgNames({"blocks", "cycle"})
    ->Args({10000, 0})
    ->Args({100000, 0})
    ->Args({8000, 1})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

/// Scheduling a chain of `pairs` channel shuffles, each read by a grouped 1x1
/// convolution (every shuffle folds): linear in the chain. 3000 pairs, Zen 5,
/// one build in a fresh process: 181 ms when each fold erased its step and
/// renumbered every value, 27 ms marking and compacting once.
void BM_ScheduleFoldingShuffles(benchmark::State& state) {
  std::string t = R"({"format": "convscope-graph", "version": 1, "blocks": [)"
                  R"({"id": "input", "kind": "input", "height": 4, "width": 4, "channels": 64})";
  std::string prev = "input";
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    const std::string n = std::to_string(i);
    t += R"(, {"id": "s)" + n + R"(", "kind": "channel_shuffle", "groups": 2, "inputs": [")" + prev + R"("]})";
    t += R"(, {"id": "c)" + n + R"(", "kind": "conv", "out": 64, "kernel": 1, "groups": 2, "inputs": ["s)" + n +
         R"("]})";
    prev = "c" + n;
  }
  const auto g = io::graph_from_json(t + "]}");
  if (!g) std::abort();
  const cost::Analysis an = cost::analyze(*g);
  std::size_t steps = 0;
  for (auto _ : state) {
    auto s = runtime::Schedule::build(*g, an, {});
    if (!s) std::abort();
    steps = s->steps.size();
  }
  state.counters["steps"] = static_cast<double>(steps);
}
BENCHMARK(BM_ScheduleFoldingShuffles)->ArgName("pairs")->Arg(3000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
