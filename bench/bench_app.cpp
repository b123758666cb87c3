// Fluidity of the desktop app on large networks (target: each under 100 ms for a
// 300-op graph): opening a design (layout + analysis + every view refreshed),
// the automatic layout alone, and one parameter edit with every view
// (canvas, table, inspector, plots, status bar) updated. Offscreen Qt; run:
// QT_QPA_PLATFORM=offscreen build/bench/bench_app
#include <benchmark/benchmark.h>

#include <QApplication>
#include <QStandardPaths>

#include "canvas.h"
#include "io/graph_json.h"
#include "layout.h"
#include "main_window.h"

namespace {

using namespace convscope;

ir::Graph load(const std::string& name) {
  auto g = io::load_graph(std::string(CONVSCOPE_PRESET_DIR) + "/" + name + ".json");
  if (!g) std::abort();
  for (auto& n : g->nodes) n.pos.reset();  // as a preset or imported model arrives: unplaced
  return *g;
}

gui::MainWindow& window() {
  static gui::MainWindow* w = [] {
    auto* m = new gui::MainWindow(gui::MainWindowOptions{.recover = false, .interactive = false});
    m->resize(1600, 1000);
    m->show();
    return m;
  }();
  return *w;
}

void counters(benchmark::State& state, const gui::Document& doc) {
  state.counters["ops"] = static_cast<double>(doc.analysis().ops.size());
  state.counters["blocks"] = static_cast<double>(doc.graph().nodes.size());
}

/// Open: Graphviz layout, analysis, canvas items, table rows, plots, inspector.
void BM_Open(benchmark::State& state, const std::string& preset) {
  const ir::Graph g = load(preset);
  auto& w = window();
  for (auto _ : state) {
    w.document()->reset(g);
    w.view()->showStart();
    QCoreApplication::processEvents();
  }
  counters(state, *w.document());
}

void BM_Layout(benchmark::State& state, const std::string& preset) {
  const ir::Graph g = load(preset);
  for (auto _ : state) benchmark::DoNotOptimize(gui::layered_layout(g).size());
  state.counters["blocks"] = static_cast<double>(g.nodes.size());
}

/// One parameter edit through the undo stack, every view refreshed and repainted.
void BM_Edit(benchmark::State& state, const std::string& preset, const std::string& block, const std::string& param,
             std::int64_t a, std::int64_t b) {
  auto& w = window();
  w.document()->reset(load(preset));
  w.document()->select({block});
  QCoreApplication::processEvents();
  bool flip = false;
  for (auto _ : state) {
    (void)w.document()->setParam(block, param, ir::ParamValue{flip ? a : b});
    flip = !flip;
    w.repaint();
    QCoreApplication::processEvents();
  }
  counters(state, *w.document());
}

BENCHMARK_CAPTURE(BM_Open, igcv3_d_353_ops, "igcv3_d")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Open, mobilenet_v3_large_185_ops, "mobilenet_v3_large")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Layout, igcv3_d_353_ops, "igcv3_d")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Layout, shufflenet_v2_118_blocks, "shufflenet_v2_x1_0")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Edit, igcv3_d_353_ops, "igcv3_d", "igc10", "expansion", 4, 6)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Edit, mobilenet_v3_large_185_ops, "mobilenet_v3_large", "ir8", "out", 80, 88)
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? "offscreen" : qgetenv("QT_QPA_PLATFORM"));
  QApplication app(argc, argv);
  QStandardPaths::setTestModeEnabled(true);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
