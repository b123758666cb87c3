// Every registered block kind, in a loop: its defaults validate, the sum over
// its lowered ops equals its closed-form formula, its output is a real shape,
// and a graph using it survives a JSON round trip unchanged.
#include <gtest/gtest.h>

#include "blocks/registry.h"
#include "io/graph_json.h"
#include "test_util.h"

namespace convscope {
namespace {

ir::Graph graph_for(const blocks::BlockKind& kind, const ir::ParamMap& params, ir::Shape in, double alpha = 1.0) {
  return testing::graph_for_kind(kind.name(), params, in, alpha);
}

/// Parameter variations worth trying for a kind: defaults, then stride/kernel changes.
std::vector<ir::ParamMap> variations(const blocks::BlockKind& kind) {
  std::vector<ir::ParamMap> v{{}};
  if (kind.param("stride")) v.push_back({{"stride", std::int64_t{2}}});
  if (kind.param("kernel")) v.push_back({{"kernel", std::int64_t{5}}});
  if (kind.param("stride") && kind.param("kernel"))
    v.push_back({{"stride", std::int64_t{2}}, {"kernel", std::int64_t{5}}});
  if (kind.param("bias")) v.push_back({{"bias", true}});
  if (kind.param("se")) v.push_back({{"se", true}, {"stride", std::int64_t{2}}});
  if (kind.param("expansion")) v.push_back({{"expansion", std::int64_t{1}}});
  if (kind.param("crelu")) v.push_back({{"crelu", true}});
  if (kind.param("inner")) v.push_back({{"inner", std::string("none")}});
  if (kind.param("dilation") && kind.param("kernel")) v.push_back({{"dilation", std::int64_t{2}}});
  return v;
}

class BlockConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(BlockConformance, DefaultsValidateAndFormulaMatchesLowering) {
  const auto* kind = blocks::Registry::builtin().find(GetParam());
  ASSERT_NE(kind, nullptr);
  for (const ir::Shape in : {ir::Shape{56, 56, 32}, ir::Shape{17, 13, 64}}) {
    for (const auto& params : variations(*kind)) {
      for (double alpha : {1.0, 0.5}) {
        const ir::Graph g = graph_for(*kind, params, in, alpha);
        const auto a = cost::analyze(g);
        std::string where = kind->name() + " on " + in.str() + " alpha " + std::to_string(alpha) + " with";
        for (const auto& [k, val] : params) where += " " + k + "=" + ir::param_value_str(val);
        ASSERT_TRUE(a.complete()) << where << ": " << format_diagnostics(a.diagnostics);
        const auto& rec = a.nodes.back();
        ASSERT_EQ(rec.status, cost::NodeStatus::Ok) << where;
        EXPECT_TRUE(rec.out.valid()) << where;
        ASSERT_TRUE(rec.formula.has_value()) << where;
        EXPECT_EQ(rec.formula->madds, rec.totals.madds) << where << "\n  formula " << rec.formula->filled;
        EXPECT_EQ(rec.formula->weights, rec.totals.weights) << where << "\n  formula " << rec.formula->filled;
        EXPECT_FALSE(rec.formula->symbolic.empty()) << where;
        // Every op's counts are non-negative and FLOPs are twice the MAdds.
        for (int k = rec.first_op; k < rec.first_op + rec.n_ops; ++k) {
          const auto& t = a.ops[static_cast<std::size_t>(k)].totals;
          EXPECT_GE(t.madds, 0);
          EXPECT_EQ(t.flops, 2 * t.madds);
        }
        // JSON round trip: text -> graph -> same text, same graph.
        const std::string text = io::graph_to_json(g);
        auto back = io::graph_from_json(text);
        ASSERT_TRUE(back.has_value()) << where << ": " << format_diagnostics(back.error());
        EXPECT_EQ(*back, g) << where;
        EXPECT_EQ(io::graph_to_json(*back), text) << where;
      }
    }
  }
}

TEST_P(BlockConformance, SchemaIsDocumented) {
  const auto* kind = blocks::Registry::builtin().find(GetParam());
  ASSERT_NE(kind, nullptr);
  EXPECT_FALSE(kind->info().title.empty());
  EXPECT_FALSE(kind->info().summary.empty());
  for (const auto& p : kind->info().params) {
    EXPECT_FALSE(p.doc.empty()) << kind->name() << "." << p.name;
    EXPECT_FALSE(ir::check_param(p, p.def).has_value()) << kind->name() << "." << p.name << " default out of range";
  }
}

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (const auto& k : blocks::Registry::builtin().kinds()) names.push_back(k->name());
  return names;
}

INSTANTIATE_TEST_SUITE_P(AllKinds, BlockConformance, ::testing::ValuesIn(kind_names()),
                         [](const auto& p) { return p.param; });

TEST(Registry, HasTheFiveBlockFamiliesAndThePrimitiveLayers) {
  const auto& r = blocks::Registry::builtin();
  for (const char* name :
       {"conv",       "separable",   "fire",  "igcv1", "igcv3",  "inverted_residual", "conv_transpose", "upsample",
        "pool",       "global_pool", "fc",    "add",   "concat", "channel_shuffle",   "crelu",          "activation",
        "batch_norm", "depthwise",   "split", "input"})
    EXPECT_NE(r.find(name), nullptr) << name;
  EXPECT_EQ(r.find("nonsense"), nullptr);
}

TEST(InvertedResidual, ShortcutOnlyForStrideOneAndEqualChannels) {
  auto has_add = [](const cost::Analysis& a) {
    for (const auto& op : a.ops)
      if (op.op.kind == ir::OpKind::Add) return true;
    return false;
  };
  using testing::single_block;
  EXPECT_TRUE(has_add(cost::analyze(single_block("inverted_residual", {{"out", std::int64_t{32}}}, {28, 28, 32}))));
  EXPECT_FALSE(has_add(cost::analyze(
      single_block("inverted_residual", {{"out", std::int64_t{32}}, {"stride", std::int64_t{2}}}, {28, 28, 32}))));
  EXPECT_FALSE(has_add(cost::analyze(single_block("inverted_residual", {{"out", std::int64_t{48}}}, {28, 28, 32}))));
}

TEST(InvertedResidual, PaperFormulaWithNumbers) {
  // h*w*d'*t*(d' + k^2 + d''): 14*14*64*6*(64 + 9 + 64).
  auto g = testing::single_block("inverted_residual", {{"out", std::int64_t{64}}}, {14, 14, 64});
  auto a = cost::analyze(g);
  const auto& f = *a.nodes[1].formula;
  EXPECT_EQ(f.symbolic, "h*w*d'*t*(d' + k^2 + d'')");
  EXPECT_EQ(f.filled, "14*14*64*6*(64 + 3^2 + 64)");
  EXPECT_EQ(f.madds, 14 * 14 * 64 * 6 * (64 + 9 + 64));
}

TEST(Separable, PaperFormulaWithNumbers) {
  auto g = testing::single_block("separable", {{"out", std::int64_t{64}}}, {112, 112, 32});
  auto a = cost::analyze(g);
  const auto& f = *a.nodes[1].formula;
  EXPECT_EQ(f.symbolic, "k^2*M*D^2 + M*N*D^2");
  EXPECT_EQ(f.madds, 9 * 32 * 112 * 112 + 32 * 64 * 112 * 112);
}

}  // namespace
}  // namespace convscope
