// Peak memory over the execution order, in both views of the MobileNetV2 paper.
#include <gtest/gtest.h>

#include "test_util.h"

namespace convscope {
namespace {

TEST(PeakMemory, ChainByHand) {
  // input 8x8x4 (256 elements) -> conv 8 (512) -> bn (512) -> relu (512).
  auto g = testing::single_block("conv", {{"out", std::int64_t{8}}}, {8, 8, 4});
  auto a = cost::analyze(g);
  ASSERT_TRUE(a.complete());
  // Ops view: conv reads the input (256) and writes 512; bn holds 512 + 512.
  EXPECT_EQ(a.memory.ops_peak_bytes, (512 + 512) * 4);
  // Blocks view: the block reads 256 and writes 512; its inner tensors are disposable.
  EXPECT_EQ(a.memory.blocks_peak_bytes, (256 + 512) * 4);
  EXPECT_EQ(a.nodes[1].inner_peak_bytes, (512 + 512) * 4);  // conv out + bn out live during bn
}

TEST(PeakMemory, PrecisionScalesBytes) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  cost::AnalysisOptions o;
  const auto fp32 = cost::analyze(g, o).memory.ops_peak_bytes;
  o.precision = cost::Precision::FP16;
  EXPECT_EQ(cost::analyze(g, o).memory.ops_peak_bytes * 2, fp32);
  o.precision = cost::Precision::INT8;
  EXPECT_EQ(cost::analyze(g, o).memory.ops_peak_bytes * 4, fp32);
}

TEST(PeakMemory, BottleneckAsOneOpAndTheTWaySplit) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  cost::AnalysisOptions o;
  auto ops = cost::analyze(g, o);
  o.memory_view = cost::MemoryView::Blocks;
  auto blocks = cost::analyze(g, o);
  // Blocks view: the peak is conv1's output plus ir1's output at 112x112 (32 + 16 channels).
  EXPECT_EQ(blocks.memory.peak_bytes, 112 * 112 * (32 + 16) * 4);
  EXPECT_LT(blocks.memory.peak_bytes, ops.memory.peak_bytes);
  // Split 1 keeps every inner tensor: more than the ops view, which never holds a
  // block's input, inner tensors and output all at once. More slices, less memory.
  o.split = 1;
  std::int64_t previous = cost::analyze(g, o).memory.peak_bytes;
  EXPECT_GT(previous, ops.memory.peak_bytes);
  for (std::int64_t t : {2, 6, 24}) {
    o.split = t;
    auto s = cost::analyze(g, o);
    EXPECT_GE(s.memory.peak_bytes, blocks.memory.peak_bytes) << t;
    EXPECT_LE(s.memory.peak_bytes, previous) << t;
    previous = s.memory.peak_bytes;
  }
}

TEST(PeakMemory, ResidualKeepsItsInputAlive) {
  // in (14x14x32) -> inverted residual with shortcut: the input stays live until the add.
  auto g = testing::single_block("inverted_residual", {{"out", std::int64_t{32}}}, {14, 14, 32});
  auto a = cost::analyze(g);
  ASSERT_TRUE(a.complete());
  const std::int64_t in = 14 * 14 * 32, e = 14 * 14 * 192;
  // During the expand BN: input + expand out + bn out.
  EXPECT_EQ(a.memory.ops_peak_bytes, (in + 2 * e) * 4);
}

TEST(Batch, ScalesMAddsAndActivationsNotParams) {
  ir::Graph g = testing::load_preset("mobilenet_v1");
  auto one = cost::analyze(g);
  g.settings.batch = 8;
  auto eight = cost::analyze(g);
  EXPECT_EQ(eight.totals.madds, 8 * one.totals.madds);
  EXPECT_EQ(eight.totals.params, one.totals.params);
  EXPECT_EQ(eight.memory.ops_peak_bytes, 8 * one.memory.ops_peak_bytes);
}

}  // namespace
}  // namespace convscope
