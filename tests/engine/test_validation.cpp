// Bad input gets a precise message naming the block and field; the valid rest
// of the graph keeps its numbers; nothing crashes.
#include <gtest/gtest.h>

#include "io/graph_json.h"
#include "test_util.h"

namespace convscope {
namespace {

std::string messages(const Diagnostics& d) { return format_diagnostics(d); }

/// Loads a document with the given blocks (JSON array text) and analyzes it.
cost::Analysis analyze_blocks(const std::string& blocks_json, ir::Graph* out = nullptr) {
  const std::string doc =
      R"({"format": "convscope-graph", "version": 1, "name": "t", "settings": {"alpha": 1.0}, "blocks": )" +
      blocks_json + "}";
  auto g = io::graph_from_json(doc);
  EXPECT_TRUE(g.has_value()) << (g ? "" : messages(g.error()));
  if (!g) return {};
  if (out) *out = *g;
  return cost::analyze(*g);
}

const std::string kInput = R"({"id": "in", "kind": "input", "height": 32, "width": 32, "channels": 16})";

TEST(Load, MalformedJsonNamesLineAndColumn) {
  auto g = io::graph_from_json("{\n  \"format\": \"convscope-graph\",\n  \"version\": 1,\n  \"blocks\": [\n}");
  ASSERT_FALSE(g.has_value());
  EXPECT_NE(g.error().front().message.find("malformed JSON"), std::string::npos);
  EXPECT_NE(g.error().front().message.find("line 5"), std::string::npos) << messages(g.error());
}

TEST(Load, DuplicateKeysAreNotSilentlyDropped) {
  auto g = io::graph_from_json(R"({"format": "convscope-graph", "version": 1, "blocks": [
    {"id": "in", "kind": "input", "height": 8, "height": 16}]})");
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().front().message, "key \"height\" appears twice in one object");
}

TEST(Load, NotAGraphFile) {
  auto g = io::graph_from_json(R"({"hello": 1})");
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().front().where, "format");
  auto v = io::graph_from_json(R"({"format": "convscope-graph", "version": 7, "blocks": []})");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().front().str(),
            "version: file is version 7, written by a newer ConvScope; this one reads version 1");
}

TEST(Load, UnknownKindParameterAndField) {
  auto g = io::graph_from_json(R"({"format": "convscope-graph", "version": 1, "blocks": [
    {"id": "a", "kind": "warp_drive"},
    {"id": "b", "kind": "conv", "inputs": ["a"], "colour": "red"},
    {"id": "c", "kind": "conv", "inputs": ["b"], "stride": "two"}], "extra": 1})");
  ASSERT_FALSE(g.has_value());
  const std::string m = messages(g.error());
  EXPECT_NE(m.find("blocks[0].kind: unknown block kind 'warp_drive' (known: input, conv,"), std::string::npos) << m;
  EXPECT_NE(m.find("blocks[1].colour: unknown parameter for 'conv' (known: out, kernel,"), std::string::npos) << m;
  EXPECT_NE(m.find("blocks[2].stride: expected integer, got string \"two\""), std::string::npos) << m;
  EXPECT_NE(m.find("extra: unknown field"), std::string::npos) << m;
}

TEST(Validate, OutOfRangeParameterIsReportedWithPath) {
  auto a = analyze_blocks("[" + kInput +
                          R"(, {"id": "ir", "kind": "inverted_residual", "inputs": ["in"], "expansion": 0}])");
  ASSERT_EQ(a.diagnostics.size(), 1u);
  EXPECT_EQ(a.diagnostics[0].str(), "blocks[1].expansion: must be >= 1, got 0");
}

TEST(Validate, ZeroAndNegativeSizes) {
  auto a = analyze_blocks(R"([{"id": "in", "kind": "input", "height": 0, "width": -3, "channels": 16}])");
  const std::string m = messages(a.diagnostics);
  EXPECT_NE(m.find("blocks[0].height: must be >= 1, got 0"), std::string::npos) << m;
  EXPECT_NE(m.find("blocks[0].width: must be >= 1, got -3"), std::string::npos) << m;
  auto b = analyze_blocks("[" + kInput + R"(, {"id": "c", "kind": "conv", "inputs": ["in"], "out": 0}])");
  EXPECT_EQ(b.diagnostics.at(0).str(), "blocks[1].out: must be >= 1, got 0");
}

TEST(Validate, GroupsMustDivideChannels) {
  auto a = analyze_blocks(R"([{"id": "in", "kind": "input", "height": 8, "width": 8, "channels": 30},
     {"id": "c", "kind": "conv", "inputs": ["in"], "out": 32, "groups": 4}])");
  ASSERT_FALSE(a.complete());
  EXPECT_EQ(a.diagnostics.at(0).str(), "blocks[1].groups: input channels must be divisible by groups, got 30 and 4");
}

// A cycle is reported once, on its first block; a long one is shortened
// (issue 12: an 8,000-block cycle spelt out on every block took 2 GB).
TEST(Validate, CycleIsReportedOnceAndShortened) {
  std::string blocks = "[" + kInput + R"(, {"id": "x0", "kind": "add", "inputs": ["in", "x39"]})";
  for (int i = 1; i < 40; ++i)
    blocks += R"(, {"id": "x)" + std::to_string(i) + R"(", "kind": "activation", "inputs": ["x)" +
              std::to_string(i - 1) + R"("]})";
  blocks += R"(, {"id": "after", "kind": "activation", "inputs": ["x5"]}])";
  auto a = analyze_blocks(blocks);
  ASSERT_EQ(a.diagnostics.size(), 1u) << messages(a.diagnostics);
  EXPECT_EQ(a.diagnostics[0].where, "blocks[1].inputs");
  EXPECT_EQ(a.diagnostics[0].message,
            "cycle 'x0' -> 'x1' -> 'x2' -> 'x3' -> 'x4' -> 'x5' -> 'x6' -> 'x7' -> 'x8' -> 'x9' -> 'x10' -> 'x11' -> "
            "... (40 blocks in all)");
  EXPECT_EQ(a.nodes[5].status, cost::NodeStatus::Unresolved);
  EXPECT_EQ(a.nodes[41].status, cost::NodeStatus::Unresolved);  // behind the cycle
}

// An add of 10^5 inputs (10^5 ops in one block) analyses with exact peak memory:
// every input is the same tensor, each partial sum lives until the next add.
TEST(Validate, HugeAddIsCountedExactly) {
  std::string ins;
  for (int i = 0; i < 100000; ++i) ins += std::string(i ? "," : "") + "\"in\"";
  auto a = analyze_blocks("[" + kInput + R"(, {"id": "a", "kind": "add", "inputs": [)" + ins + "]}]");
  ASSERT_TRUE(a.complete()) << messages(a.diagnostics);
  EXPECT_EQ(a.ops.size(), 99999u);  // one add per input after the first (no activation op)
  const std::int64_t image = a.nodes[0].out.elements() * 4;
  EXPECT_EQ(a.totals.other_ops, 99999 * a.nodes[0].out.elements());
  // Ops view: the input, the previous partial sum and the new one.
  EXPECT_EQ(a.memory.ops_peak_bytes, 3 * image);
}

// A chain of 10^5 blocks loads and analyses (issue 12: it took 50 s; ids are
// hashed, the JSON is parsed in linear time). Its speed is in bench_cost, not here.
TEST(Validate, LongChainLoadsAndAnalyses) {
  std::string text = R"({"format": "convscope-graph", "version": 1, "blocks": [)" + kInput;
  for (int i = 0; i < 100000; ++i)
    text += R"(, {"id": "a)" + std::to_string(i) + R"(", "kind": "activation", "inputs": [")" +
            (i ? "a" + std::to_string(i - 1) : std::string("in")) + "\"]}";
  text += "]}";
  auto g = io::graph_from_json(text);
  ASSERT_TRUE(g) << format_diagnostics(g.error());
  const auto a = cost::analyze(*g);
  ASSERT_TRUE(a.complete()) << messages(a.diagnostics);
  EXPECT_EQ(a.ops.size(), 100000u);
  EXPECT_EQ(a.order.back(), 100000);
}

TEST(Validate, KernelLargerThanPaddedInput) {
  auto a = analyze_blocks(R"([{"id": "in", "kind": "input", "height": 4, "width": 4, "channels": 8},
     {"id": "c", "kind": "conv", "inputs": ["in"], "kernel": 7, "padding": 1}])");
  ASSERT_FALSE(a.complete());
  EXPECT_EQ(a.diagnostics.at(0).str(), "blocks[1].kernel: kernel 7x7 is larger than the padded input 6x6");
}

TEST(Validate, CycleIsNamed) {
  auto a = analyze_blocks("[" + kInput + R"(,
     {"id": "a", "kind": "add", "inputs": ["in", "b"]},
     {"id": "b", "kind": "conv", "inputs": ["a"], "out": 16}])");
  const std::string m = messages(a.diagnostics);
  EXPECT_NE(m.find("cycle"), std::string::npos) << m;
  EXPECT_NE(m.find("'a'"), std::string::npos) << m;
  EXPECT_NE(m.find("'b'"), std::string::npos) << m;
  // The input still has its numbers.
  EXPECT_EQ(a.nodes[0].status, cost::NodeStatus::Ok);
}

TEST(Validate, DanglingEdge) {
  auto a = analyze_blocks("[" + kInput + R"(, {"id": "c", "kind": "conv", "inputs": ["nowhere"]}])");
  EXPECT_EQ(a.diagnostics.at(0).str(), "blocks[1].inputs[0]: no block with id 'nowhere'");
}

TEST(Validate, AddShapesMustMatch) {
  auto a = analyze_blocks("[" + kInput + R"(, {"id": "c", "kind": "conv", "inputs": ["in"], "out": 32},
     {"id": "sum", "kind": "add", "inputs": ["in", "c"]}])");
  EXPECT_EQ(a.diagnostics.at(0).str(), "blocks[2].inputs: shapes must match: input 0 is 32x32x16, input 1 is 32x32x32");
}

TEST(Validate, ConcatHeightAndWidthMustMatch) {
  auto a = analyze_blocks("[" + kInput + R"(, {"id": "c", "kind": "conv", "inputs": ["in"], "stride": 2},
     {"id": "cat", "kind": "concat", "inputs": ["in", "c"]}])");
  EXPECT_EQ(a.diagnostics.at(0).str(),
            "blocks[2].inputs: heights and widths must match: input 0 is 32x32x16, input 1 is 16x16x32");
}

TEST(Validate, WrongInputCount) {
  auto a = analyze_blocks("[" + kInput + R"(, {"id": "s", "kind": "add", "inputs": ["in"]}])");
  EXPECT_EQ(a.diagnostics.at(0).str(), "blocks[1].inputs: 'add' takes at least 2 inputs, got 1");
}

TEST(Validate, DuplicateIds) {
  auto a = analyze_blocks("[" + kInput + "," + kInput + "]");
  EXPECT_EQ(a.diagnostics.at(0).str(), "blocks[1].id: duplicate id 'in' (also blocks[0])");
}

TEST(Validate, AbsurdSizesAreRefusedNotWrapped) {
  // 1,048,576^2 pixels x 1,048,576 channels: past the 2^40-element tensor limit.
  auto a = analyze_blocks(R"([{"id": "in", "kind": "input", "height": 1048576, "width": 1048576, "channels": 1048576},
     {"id": "c", "kind": "conv", "inputs": ["in"], "out": 1048576}])");
  ASSERT_FALSE(a.complete());
  const std::string m = messages(a.diagnostics);
  EXPECT_NE(m.find("limit"), std::string::npos) << m;
  EXPECT_EQ(a.totals.madds, 0);
  // Beyond the dimension limit.
  auto b = analyze_blocks(R"([{"id": "in", "kind": "input", "height": 2000000, "width": 8, "channels": 8}])");
  EXPECT_EQ(b.diagnostics.at(0).str(), "blocks[0].height: must be <= 1048576, got 2000000");
  // Counts that would overflow 64 bits: 2^20 x 2^20 output, huge kernel and channels.
  auto c = analyze_blocks(R"([{"id": "in", "kind": "input", "height": 1048576, "width": 1024, "channels": 1048576},
     {"id": "c", "kind": "conv", "inputs": ["in"], "out": 1048576, "kernel": 31}])");
  EXPECT_FALSE(c.complete());
  EXPECT_NE(messages(c.diagnostics).find("limit"), std::string::npos) << messages(c.diagnostics);
}

TEST(Validate, ValidRestKeepsItsNumbers) {
  // Branch 1 is broken (groups), branch 2 is fine and keeps its costs.
  ir::Graph g;
  auto a = analyze_blocks("[" + kInput + R"(,
     {"id": "bad", "kind": "conv", "inputs": ["in"], "out": 30, "groups": 4},
     {"id": "after_bad", "kind": "conv", "inputs": ["bad"], "out": 8},
     {"id": "good", "kind": "conv", "inputs": ["in"], "out": 32, "bn": false, "activation": "none"}])",
                          &g);
  EXPECT_FALSE(a.complete());
  EXPECT_EQ(a.diagnostics.size(), 1u) << messages(a.diagnostics);
  EXPECT_EQ(a.diagnostics.at(0).str(), "blocks[1].groups: output channels must be divisible by groups, got 30 and 4");
  EXPECT_EQ(testing::node(g, a, "bad").status, cost::NodeStatus::Invalid);
  EXPECT_EQ(testing::node(g, a, "after_bad").status, cost::NodeStatus::Unresolved);
  EXPECT_EQ(testing::node(g, a, "after_bad").unresolved_because, "input 'bad' is invalid");
  const auto& good = testing::node(g, a, "good");
  EXPECT_EQ(good.status, cost::NodeStatus::Ok);
  EXPECT_EQ(good.totals.madds, 32 * 32 * 32 * 16 * 9);
  EXPECT_EQ(a.totals.madds, good.totals.madds);
}

TEST(Validate, FireBypassNeedsMatchingChannels) {
  auto a = analyze_blocks("[" + kInput + R"(, {"id": "f", "kind": "fire", "inputs": ["in"], "bypass": true}])");
  EXPECT_EQ(a.diagnostics.at(0).str(), "blocks[1].bypass: needs input channels equal to e1x1 + e3x3, got 16 and 128");
}

TEST(Validate, InceptionKernelMustBeOdd) {
  auto a = analyze_blocks("[" + kInput + R"(, {"id": "i", "kind": "inception", "inputs": ["in"], "kernel5x5": 4}])");
  ASSERT_FALSE(a.diagnostics.empty());
  EXPECT_EQ(a.diagnostics.at(0).str(),
            "blocks[1].kernel5x5: must be odd so that the branch keeps the input size, got 4");
}

TEST(Validate, BadSettings) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  g.settings.alpha = 0.0;
  auto a = cost::analyze(g);
  EXPECT_EQ(a.diagnostics.at(0).where, "settings.alpha");
  g.settings.alpha = 1.0;
  g.settings.resolution = 0;
  EXPECT_EQ(cost::analyze(g).diagnostics.at(0).str(), "settings.resolution: must be in 1..1048576, got 0");
}

TEST(Validate, ResolutionBelowNetworkMinimumNamesTheBlock) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  g.settings.resolution = 8;  // the depthwise 3x3 still fits, but ... 8 -> 4 -> 2 -> 1: the blocks survive
  auto ok = cost::analyze(g);
  EXPECT_TRUE(ok.complete()) << messages(ok.diagnostics);
  ir::Graph s = testing::load_preset("squeezenet1_0");
  s.settings.resolution = 16;  // conv1 7x7/2 without padding: 5x5, pools shrink it to nothing
  auto bad = cost::analyze(s);
  EXPECT_FALSE(bad.complete());
  EXPECT_NE(messages(bad.diagnostics).find("blocks["), std::string::npos);
}

}  // namespace
}  // namespace convscope
