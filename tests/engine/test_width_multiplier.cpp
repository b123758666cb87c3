// make_divisible and the width multiplier as graph settings.
#include <gtest/gtest.h>

#include "test_util.h"

namespace convscope {
namespace {

TEST(MakeDivisible, MobileNetRule) {
  EXPECT_EQ(ir::make_divisible(32 * 0.35, 8), 16);  // 8 would be > 10 % below 11.2
  EXPECT_EQ(ir::make_divisible(16 * 0.35, 8), 8);   // at least the divisor
  EXPECT_EQ(ir::make_divisible(96 * 0.75, 8), 72);
  EXPECT_EQ(ir::make_divisible(58, 8), 56);
  EXPECT_EQ(ir::make_divisible(60, 8), 64);  // nearest multiple, ties up
  EXPECT_EQ(ir::make_divisible(10, 8), 16);  // 8 is 20 % below 10
  EXPECT_EQ(ir::make_divisible(1280 * 1.4, 8), 1792);
  EXPECT_EQ(ir::make_divisible(100, 10), 100);
}

TEST(WidthRule, ScaleFixedAtLeast) {
  EXPECT_EQ(ir::scale_channels(1280, 0.5, 8, ir::WidthRule::Scale), 640);
  EXPECT_EQ(ir::scale_channels(1280, 0.5, 8, ir::WidthRule::AtLeast), 1280);
  EXPECT_EQ(ir::scale_channels(1280, 1.4, 8, ir::WidthRule::AtLeast), 1792);
  EXPECT_EQ(ir::scale_channels(24, 0.5, 8, ir::WidthRule::Fixed), 24);
  EXPECT_EQ(ir::scale_channels(116, 1.0, 8, ir::WidthRule::Scale), 116);  // alpha 1 is the network as written
}

TEST(WidthMultiplier, MAddsScaleAboutAlphaSquaredAndResolutionSquared) {
  // MobileNetV1's scaling law: MAdds ~ alpha^2 rho^2 (exact for the 1x1 convs).
  const auto base = testing::analyze_preset("mobilenet_v1").totals.madds;
  const auto half = testing::analyze_preset("mobilenet_v1", "paper", 0.5).totals.madds;
  const auto small = testing::analyze_preset("mobilenet_v1", "paper", 1.0, 128).totals.madds;
  EXPECT_NEAR(static_cast<double>(half) / static_cast<double>(base), 0.25, 0.02);
  EXPECT_NEAR(static_cast<double>(small) / static_cast<double>(base), (128.0 * 128.0) / (224.0 * 224.0), 0.005);
}

TEST(WidthMultiplier, ClassesOverrideTheClassifierOnly) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  g.settings.classes = 10;
  g.settings.alpha = 0.5;
  auto a = cost::analyze(g);
  ASSERT_TRUE(a.complete());
  EXPECT_EQ(a.classes, 10);
  EXPECT_EQ(testing::node(g, a, "fc").out.c, 10);
  EXPECT_EQ(testing::node(g, a, "conv1").out.c, 16);
}

}  // namespace
}  // namespace convscope
