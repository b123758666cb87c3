// Re-costing speed: the canvas re-analyzes the whole graph on every keystroke,
// so one parameter edit followed by a full analysis must stay far below a frame
// (target: < 1 ms for a 300-op graph). Run: build/bench/bench_cost
#include <benchmark/benchmark.h>

#include "cost/analysis.h"
#include "io/graph_json.h"

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

void BM_LoadPreset(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(load("igcv3_d"));
}
BENCHMARK(BM_LoadPreset)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
