#include "test_util.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "blocks/registry.h"
#include "io/graph_json.h"
#include "runtime/reference_executor.h"

namespace convscope::testing {

std::string preset_dir() { return CONVSCOPE_PRESET_DIR; }

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(preset_dir()))
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

ir::Graph load_preset(const std::string& name) {
  auto g = io::load_graph(preset_dir() + "/" + name + ".json");
  if (!g) {
    ADD_FAILURE() << name << ": " << format_diagnostics(g.error());
    return {};
  }
  return *g;
}

cost::Analysis analyze_preset(const std::string& name, const std::string& convention, double alpha, int resolution) {
  ir::Graph g = load_preset(name);
  g.settings.alpha = alpha;
  if (resolution > 0) g.settings.resolution = resolution;
  cost::AnalysisOptions o;
  o.convention = *cost::find_convention(convention);
  auto a = cost::analyze(g, o);
  EXPECT_TRUE(a.complete()) << name << ": " << format_diagnostics(a.diagnostics);
  return a;
}

ir::Graph single_block(const std::string& kind, const ir::ParamMap& params, ir::Shape in) {
  ir::Graph g;
  g.nodes.push_back(
      {.id = "input", .kind = "input", .params = {{"height", in.h}, {"width", in.w}, {"channels", in.c}}});
  g.nodes.push_back({.id = "block", .kind = kind, .inputs = {"input"}, .params = params});
  return g;
}

ir::Graph graph_for_kind(const std::string& kind, const ir::ParamMap& params, ir::Shape in, double alpha) {
  const auto* k = blocks::Registry::builtin().find(kind);
  ir::Graph g;
  g.settings.alpha = alpha;
  g.nodes.push_back(
      {.id = "input", .kind = "input", .params = {{"height", in.h}, {"width", in.w}, {"channels", in.c}}});
  if (!k || k->info().category == blocks::Category::Input) return g;
  const std::size_t n_in = std::max<std::size_t>(k->info().min_inputs, 1);
  ir::Node block{.id = "block", .kind = kind, .params = params};
  for (std::size_t i = 0; i < n_in; ++i) block.inputs.push_back("input");
  g.nodes.push_back(block);
  if (n_in < 2 || cost::analyze(g).complete()) return g;
  // Try the extra inputs as 1x1xC (global pool of the input).
  g.nodes.insert(g.nodes.begin() + 1, ir::Node{.id = "pooled", .kind = "global_pool", .inputs = {"input"}});
  for (std::size_t i = 1; i < n_in; ++i) g.nodes.back().inputs[i] = "pooled";
  return g;
}

std::vector<runtime::Tensor> random_inputs(const cost::Analysis& a, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<runtime::Tensor> ins;
  for (int t : runtime::input_tensors(a)) {
    runtime::Tensor x(a.settings.batch, a.tensors[static_cast<std::size_t>(t)].shape);
    for (auto& v : x.data) v = d(rng);
    ins.push_back(std::move(x));
  }
  return ins;
}

std::vector<float> to_nchw(const runtime::Tensor& t) {
  std::vector<float> out(t.data.size());
  const auto& s = t.shape;
  for (std::int64_t b = 0; b < t.n; ++b)
    for (std::int64_t y = 0; y < s.h; ++y)
      for (std::int64_t x = 0; x < s.w; ++x)
        for (std::int64_t c = 0; c < s.c; ++c)
          out[static_cast<std::size_t>(((b * s.c + c) * s.h + y) * s.w + x)] = t.at(b, y, x, c);
  return out;
}

const cost::NodeRecord& node(const ir::Graph& g, const cost::Analysis& a, const std::string& id) {
  const int i = g.find(id);
  EXPECT_GE(i, 0) << "no block " << id;
  return a.nodes.at(static_cast<std::size_t>(i < 0 ? 0 : i));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace convscope::testing
