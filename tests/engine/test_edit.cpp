// Graph edits (engine/edit): what each edit does to the graph, what it refuses
// and with which reason, and that a random edit sequence keeps the graph well-formed.
#include <gtest/gtest.h>

#include <random>

#include "blocks/registry.h"
#include "cost/analysis.h"
#include "edit/edit.h"
#include "io/graph_json.h"
#include "test_util.h"

namespace convscope {
namespace {

ir::Graph chain() {
  ir::Graph g;
  g.name = "chain";
  g.nodes.push_back({.id = "input", .kind = "input"});
  g.nodes.push_back({.id = "a", .kind = "conv", .inputs = {"input"}});
  g.nodes.push_back({.id = "b", .kind = "conv", .inputs = {"a"}});
  return g;
}

std::string message(const Diagnostics& d) { return d.empty() ? "" : d.front().message; }

TEST(Edit, AddBlockTakesDefaultsAndUniqueIds) {
  ir::Graph g = chain();
  auto id = edit::add_block(g, "conv", edit::Pos{10, 20});
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, "conv");
  auto id2 = edit::add_block(g, "conv");
  ASSERT_TRUE(id2);
  EXPECT_EQ(*id2, "conv_2");
  EXPECT_EQ(g.nodes.size(), 5u);
  EXPECT_TRUE(g.nodes[3].params.empty());
  ASSERT_TRUE(g.nodes[3].pos);
  EXPECT_EQ((*g.nodes[3].pos)[1], 20);
  auto bad = edit::add_block(g, "warp_drive");
  ASSERT_FALSE(bad);
  EXPECT_EQ(message(bad.error()), "unknown block kind 'warp_drive'");
}

TEST(Edit, SpliceInsertsIntoTheEdgeAndShapesPropagate) {
  ir::Graph g = chain();
  auto id = edit::splice_block(g, "inverted_residual", "b", 0);
  ASSERT_TRUE(id) << message(id.error());
  const auto& ir_node = g.nodes[static_cast<std::size_t>(g.find(*id))];
  EXPECT_EQ(ir_node.inputs, std::vector<std::string>{"a"});
  EXPECT_EQ(g.nodes[static_cast<std::size_t>(g.find("b"))].inputs, std::vector<std::string>{*id});
  const auto a = cost::analyze(g);
  EXPECT_TRUE(a.complete());
  auto refused = edit::splice_block(g, "input", "b", 0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(message(refused.error()), "Input takes no inputs: it cannot go into an edge");
  auto no_slot = edit::splice_block(g, "conv", "b", 3);
  ASSERT_FALSE(no_slot);
  EXPECT_EQ(message(no_slot.error()), "'b' has no input 3");
}

TEST(Edit, ConnectRefusesCyclesSelfLoopsAndTooManyInputs) {
  ir::Graph g = chain();
  const ir::Graph before = g;
  auto cycle = edit::connect(g, "b", "a", 0);
  ASSERT_FALSE(cycle);
  EXPECT_EQ(message(cycle.error()), "would make a cycle: 'b' already depends on 'a'");
  auto self = edit::connect(g, "a", "a", 0);
  ASSERT_FALSE(self);
  EXPECT_EQ(message(self.error()), "a block cannot feed itself");
  auto into_input = edit::connect(g, "a", "input", 0);
  ASSERT_FALSE(into_input);
  EXPECT_EQ(message(into_input.error()), "'input' is a Input: it takes no inputs");
  auto too_many = edit::connect(g, "input", "b", 1);
  ASSERT_FALSE(too_many);
  EXPECT_NE(message(too_many.error()).find("takes at most 1 input"), std::string::npos);
  EXPECT_EQ(g, before);  // refused edits change nothing
  // Replacing an input and appending to a variadic kind.
  ASSERT_TRUE(edit::connect(g, "input", "b", 0));
  EXPECT_EQ(g.nodes[2].inputs, std::vector<std::string>{"input"});
  auto add = edit::add_block(g, "add");
  ASSERT_TRUE(add);
  EXPECT_EQ(edit::default_slot(g, *add), 0u);
  ASSERT_TRUE(edit::connect(g, "a", *add, edit::default_slot(g, *add)));
  ASSERT_TRUE(edit::connect(g, "b", *add, edit::default_slot(g, *add)));
  EXPECT_EQ(g.nodes.back().inputs, (std::vector<std::string>{"a", "b"}));
}

TEST(Edit, RemoveKeepsChainsAndDropsOtherEdges) {
  ir::Graph g = chain();
  edit::remove_blocks(g, {"a"});
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[1].inputs, std::vector<std::string>{"input"});  // b now reads input
  ir::Graph h = chain();
  auto add = edit::add_block(h, "add");
  ASSERT_TRUE(edit::connect(h, "a", *add, 0));
  ASSERT_TRUE(edit::connect(h, "b", *add, 1));
  edit::remove_blocks(h, {"a", "b"});  // a chain of deleted blocks hands over its root
  EXPECT_EQ(h.nodes.back().inputs, (std::vector<std::string>{"input", "input"}));
}

TEST(Edit, SetParamChecksTypesButKeepsOutOfRangeValuesForTheAnalysis) {
  ir::Graph g = chain();
  ASSERT_TRUE(edit::set_param(g, "a", "out", ir::ParamValue{std::int64_t{48}}));
  EXPECT_EQ(std::get<std::int64_t>(g.nodes[1].params.at("out")), 48);
  auto wrong = edit::set_param(g, "a", "out", ir::ParamValue{std::string("many")});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().front().where, "a.out");
  auto unknown = edit::set_param(g, "a", "colour", ir::ParamValue{true});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(message(unknown.error()), "Convolution has no parameter 'colour'");
  ASSERT_TRUE(edit::set_param(g, "a", "stride", ir::ParamValue{std::int64_t{0}}));
  const auto a = cost::analyze(g);
  ASSERT_EQ(a.diagnostics.size(), 1u);
  EXPECT_EQ(a.diagnostics[0].where, "blocks[1].stride");
  ASSERT_TRUE(edit::set_param(g, "a", "stride", std::nullopt));
  EXPECT_FALSE(g.nodes[1].params.count("stride"));
}

TEST(Edit, RenameUpdatesReferences) {
  ir::Graph g = chain();
  ASSERT_TRUE(edit::rename_block(g, "a", "stem"));
  EXPECT_EQ(g.nodes[2].inputs, std::vector<std::string>{"stem"});
  EXPECT_EQ(message(edit::rename_block(g, "stem", "b").error()), "'b' is taken");
  EXPECT_EQ(message(edit::rename_block(g, "stem", "a b").error()),
            "ids use letters, digits, '_', '-' and '.', got 'a b'");
}

TEST(Edit, CopyPasteKeepsInternalEdgesUnderFreshIds) {
  ir::Graph g = chain();
  g.nodes[1].pos = edit::Pos{0, 100};
  const ir::Graph part = edit::extract(g, {"a", "b"});
  ASSERT_EQ(part.nodes.size(), 2u);
  EXPECT_TRUE(part.nodes[0].inputs.empty());  // the edge from outside is dropped
  const auto ids = edit::paste(g, part, edit::Pos{40, 40});
  EXPECT_EQ(ids, (std::vector<std::string>{"a_2", "b_2"}));
  EXPECT_EQ(g.nodes.back().inputs, std::vector<std::string>{"a_2"});
  EXPECT_EQ((*g.nodes[3].pos)[1], 140);
}

// Random edit sequences never leave dangling references, duplicate ids or cycles,
// and every graph they make saves and loads back equal.
TEST(Edit, RandomSequencesKeepTheGraphWellFormed) {
  std::mt19937 rng(7);
  const auto& kinds = blocks::Registry::builtin().kinds();
  ir::Graph g = testing::load_preset("mobilenet_v2");
  for (int step = 0; step < 400; ++step) {
    auto pick = [&]() { return g.nodes[rng() % g.nodes.size()].id; };
    switch (rng() % 6) {
      case 0:
        (void)edit::add_block(g, kinds[rng() % kinds.size()]->name());
        break;
      case 1: {
        const std::string to = pick();
        const auto& n = g.nodes[static_cast<std::size_t>(g.find(to))];
        if (!n.inputs.empty()) (void)edit::splice_block(g, kinds[rng() % kinds.size()]->name(), to, 0);
        break;
      }
      case 2:
        (void)edit::connect(g, pick(), pick(), rng() % 3);
        break;
      case 3:
        if (g.nodes.size() > 3) edit::remove_blocks(g, {pick()});
        break;
      case 4:
        (void)edit::set_param(g, pick(), "stride", ir::ParamValue{std::int64_t(rng() % 3)});
        break;
      default:
        (void)edit::paste(g, edit::extract(g, {pick(), pick()}), edit::Pos{10, 10});
        break;
    }
    std::set<std::string> ids;
    for (const auto& n : g.nodes) {
      ASSERT_TRUE(ids.insert(n.id).second) << "duplicate id " << n.id;
      for (const auto& in : n.inputs) {
        ASSERT_GE(g.find(in), 0) << n.id << " reads missing " << in;
        ASSERT_FALSE(edit::reaches(g, n.id, in)) << "cycle through " << n.id;
      }
    }
    const auto back = io::graph_from_json(io::graph_to_json(g));
    ASSERT_TRUE(back);
    ASSERT_EQ(*back, g);
    (void)cost::analyze(g);  // never throws
  }
}

}  // namespace
}  // namespace convscope
