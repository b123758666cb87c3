// The numbers designers know from the papers and from torchvision / Keras,
// reproduced exactly by the cost model under the matching convention.
#include <gtest/gtest.h>

#include "test_util.h"

namespace convscope {
namespace {

using testing::analyze_preset;
using testing::node;
using testing::single_block;

std::int64_t millions(std::int64_t v) { return v / 1000000; }  // TF-slim tables truncate
double millions2(std::int64_t v) { return static_cast<double>(v) / 1e6; }

TEST(SeedExample, StandardVersusSeparableOn5x5x3) {
  // 3x3 kernels, 4 outputs: standard 3*3*3*4 = 108 weights; separable 27 + 12 = 39.
  const ir::Shape in{5, 5, 3};
  auto g = single_block("conv", {{"out", std::int64_t{4}}, {"bn", false}, {"activation", std::string("none")}}, in);
  auto a = cost::analyze(g);
  ASSERT_TRUE(a.complete()) << format_diagnostics(a.diagnostics);
  EXPECT_EQ(a.totals.params, 108);
  auto s = single_block("separable", {{"out", std::int64_t{4}}, {"bn", false}}, in);
  auto b = cost::analyze(s);
  ASSERT_TRUE(b.complete());
  EXPECT_EQ(b.totals.params, 39);
  EXPECT_EQ(b.ops[0].totals.params, 27);  // depthwise
  EXPECT_EQ(b.ops[2].totals.params, 12);  // pointwise (after the inner ReLU)
  EXPECT_EQ(b.ops[2].op.name, "pw");
}

TEST(MobileNetV2, TfSlimTable) {
  // TF-slim's model table: 1001 classes, BN not counted, MAdds truncated to millions.
  struct Row {
    double alpha;
    int res;
    std::int64_t madds_m;
    double params_m;
  };
  for (const Row& r : {Row{1.0, 224, 300, 3.47}, Row{1.4, 224, 582, 6.06}, Row{0.35, 96, 11, 1.66}}) {
    auto a = analyze_preset("mobilenet_v2", "tf-slim", r.alpha, r.res);
    EXPECT_EQ(a.classes, 1001);
    EXPECT_EQ(millions(a.totals.madds), r.madds_m) << "alpha " << r.alpha << " res " << r.res;
    EXPECT_NEAR(millions2(a.totals.params), r.params_m, 0.005) << "alpha " << r.alpha << " res " << r.res;
  }
}

TEST(MobileNetV2, TorchvisionExactParameters) {
  auto a = analyze_preset("mobilenet_v2", "torchvision");
  EXPECT_EQ(a.totals.params, 3504872);
  EXPECT_EQ(a.classes, 1000);
}

TEST(MobileNetV2, LastConvKeeps1280BelowAlphaOne) {
  for (double alpha : {0.35, 0.5, 0.75, 1.0, 1.4}) {
    ir::Graph g = testing::load_preset("mobilenet_v2");
    g.settings.alpha = alpha;
    auto a = cost::analyze(g);
    const auto& last = node(g, a, "conv_last");
    EXPECT_EQ(last.out.c, alpha <= 1.0 ? 1280 : 1792) << alpha;
  }
}

TEST(MobileNetV3, TorchvisionExactParameters) {
  EXPECT_EQ(analyze_preset("mobilenet_v3_large", "torchvision").totals.params, 5483032);
  EXPECT_EQ(analyze_preset("mobilenet_v3_small", "torchvision").totals.params, 2542856);
  // The paper's Table 3: 219 M and 56 M MAdds (torchvision's count of the same nets: 217 M and 57 M).
  EXPECT_NEAR(millions2(analyze_preset("mobilenet_v3_large").totals.madds), 217.0, 3.0);
  EXPECT_NEAR(millions2(analyze_preset("mobilenet_v3_small").totals.madds), 56.5, 1.0);
}

TEST(EfficientNetB0, TorchvisionExactParametersAndMacs) {
  // torchvision's efficientnet_b0: sum of parameters() 5,288,548; multiply-accumulates of its
  // Conv2d and Linear layers at 224x224 (forward hooks, 2026-12-02): 385,814,752 (0.39 GMACs).
  const auto a = analyze_preset("efficientnet_b0", "torchvision");
  EXPECT_EQ(a.totals.params, 5288548);
  EXPECT_EQ(a.totals.madds, 385814752);
  // The first MBConv has no expansion and a squeeze of 32 / 4 = 8 channels; the second 16 / 4 = 4
  // (batch norm counted as torchvision counts it: scale and shift).
  const ir::Graph g = testing::load_preset("efficientnet_b0");
  EXPECT_EQ(node(g, a, "mb1").totals.params, 32 * 9 + 2 * 32 + (32 * 8 + 8) + (8 * 32 + 32) + 32 * 16 + 2 * 16);
  EXPECT_EQ(node(g, a, "mb2").totals.params,
            16 * 96 + 2 * 96 + 96 * 9 + 2 * 96 + (96 * 4 + 4) + (4 * 96 + 96) + 96 * 24 + 2 * 24);
}

TEST(GoogLeNet, TorchvisionExactParametersAndMacs) {
  // torchvision's googlenet(aux_logits=False): 6,624,904 parameters; Conv2d and Linear
  // multiply-accumulates at 224x224 (forward hooks, 2026-12-02): 1,498,376,192.
  const auto a = analyze_preset("googlenet", "torchvision");
  EXPECT_EQ(a.totals.params, 6624904);
  EXPECT_EQ(a.totals.madds, 1498376192);
  // Inception (3a) by the paper's Table 1 (with torchvision's 3x3 "5x5" branch and BN):
  // 192*(64 + 96 + 16 + 32) + 9*96*128 + 9*16*32 weights, 2 BN parameters per channel.
  const ir::Graph g = testing::load_preset("googlenet");
  const auto& i3a = node(g, a, "inception3a");
  EXPECT_EQ(i3a.out.c, 256);
  EXPECT_EQ(i3a.totals.params, 192 * (64 + 96 + 16 + 32) + 9 * 96 * 128 + 9 * 16 * 32 + 2 * (64 + 96 + 128 + 16 + 32 + 32));
  EXPECT_EQ(node(g, a, "inception5b").out.c, 1024);
}

TEST(SqueezeNet, PaperAndTorchvisionParameters) {
  ir::Graph g = testing::load_preset("squeezenet1_0");
  auto a = cost::analyze(g);
  ASSERT_TRUE(a.complete());
  EXPECT_EQ(a.totals.params, 1248424);
  EXPECT_EQ(node(g, a, "fire2").totals.params, 11920);
  EXPECT_EQ(node(g, a, "fire9").totals.params, 197184);
  EXPECT_EQ(node(g, a, "conv10").totals.params, 513000);
  EXPECT_EQ(analyze_preset("squeezenet1_1").totals.params, 1235496);
  // Simple bypass adds no parameters.
  EXPECT_EQ(analyze_preset("squeezenet1_0_bypass").totals.params, 1248424);
}

TEST(MobileNetV1, MAddsAndTable2Shares) {
  // Weights only, 1000 classes: the paper's Table 2 resource split.
  ir::Graph g = testing::load_preset("mobilenet_v1");
  cost::AnalysisOptions o;
  o.convention = *cost::find_convention("weights-only");
  auto a = cost::analyze(g, o);
  ASSERT_TRUE(a.complete());
  EXPECT_NEAR(millions2(a.totals.madds), 569.0, 1.0);
  std::int64_t madds_1x1 = 0, params_1x1 = 0;
  for (const auto& op : a.ops)
    if (op.op.kind == ir::OpKind::Conv && op.op.k_h == 1 && op.op.k_w == 1 && op.op.groups == 1) {
      madds_1x1 += op.totals.madds;
      params_1x1 += op.totals.params;
    }
  EXPECT_NEAR(100.0 * static_cast<double>(madds_1x1) / static_cast<double>(a.totals.madds), 94.86, 0.005);
  EXPECT_NEAR(100.0 * static_cast<double>(params_1x1) / static_cast<double>(a.totals.params), 74.59, 0.005);
  // Table 1 total under the paper's own count: 4.2 M parameters.
  EXPECT_NEAR(millions2(analyze_preset("mobilenet_v1").totals.params), 4.2, 0.05);
}

TEST(MobileNetV1, Table7HalfWidthAt160) {
  // 0.50 MobileNet-160: 76 M MAdds, 1.32 M parameters.
  auto a = analyze_preset("mobilenet_v1", "paper", 0.5, 160);
  EXPECT_EQ(millions(a.totals.madds), 76);
  EXPECT_NEAR(millions2(a.totals.params), 1.32, 0.01);
}

TEST(ShuffleNetV2, TorchvisionExactParameters) {
  EXPECT_EQ(analyze_preset("shufflenet_v2_x1_0", "torchvision").totals.params, 2278604);
}

TEST(Xception, KerasTrainableParameters) {
  // Keras' Xception: 22,855,952 trainable parameters (weights + biases + BN scale and shift).
  EXPECT_EQ(analyze_preset("xception", "torchvision").totals.params, 22855952);
}

TEST(Conventions, BatchNormFoldingAndBias) {
  // MobileNetV2 (torchvision): conv without bias + BN. Folding turns each BN's
  // shift into a bias: params = weights + one bias per BN channel + fc bias.
  ir::Graph g = testing::load_preset("mobilenet_v2");
  cost::AnalysisOptions o;
  o.convention = *cost::find_convention("deploy");
  auto folded = cost::analyze(g, o);
  auto paper = cost::analyze(g);
  EXPECT_EQ(folded.totals.params, paper.totals.weights + paper.totals.bn_params / 2 + 1000);
  o.convention = *cost::find_convention("weights-only");
  EXPECT_EQ(cost::analyze(g, o).totals.params, paper.totals.weights);
  o.convention = *cost::find_convention("paper");
  o.convention.include_classifier = false;
  auto backbone = cost::analyze(g, o);
  EXPECT_EQ(backbone.totals.params, paper.totals.params - 1281000);
  EXPECT_EQ(backbone.totals.madds, paper.totals.madds - 1280000);
}

}  // namespace
}  // namespace convscope
