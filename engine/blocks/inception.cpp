// GoogLeNet's Inception module (the "v1" module with dimension reductions):
// four branches over the same input, concatenated along channels: a 1x1
// convolution; a 1x1 reduction then a 3x3; a 1x1 reduction then a k x k (5x5 in
// the paper, 3x3 in torchvision's GoogLeNet); and a 3x3 max pool (stride 1)
// then a 1x1 projection. Xception reads this module as the halfway point
// between a convolution and a depthwise-separable one.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class InceptionBlock final : public BlockKind {
 public:
  InceptionBlock()
      : BlockKind({.name = "inception",
                   .title = "Inception module",
                   .category = Category::Block,
                   .summary = "1x1 | 1x1 then 3x3 | 1x1 then 5x5 | 3x3 max pool then 1x1, concatenated (GoogLeNet)",
                   .reference = "Szegedy et al., Going Deeper with Convolutions, CVPR 2015",
                   .params = {channels_param("out1x1", 64, "#1x1: filters of the 1x1 branch"),
                              channels_param("reduce3x3", 96, "#3x3 reduce: 1x1 filters before the 3x3"),
                              channels_param("out3x3", 128, "#3x3: filters of the 3x3"),
                              channels_param("reduce5x5", 16, "#5x5 reduce: 1x1 filters before the 5x5"),
                              channels_param("out5x5", 32, "#5x5: filters of the 5x5"),
                              int_param("kernel5x5", 5, 1, 15,
                                        "kernel of the \"5x5\" branch (torchvision's GoogLeNet uses 3; odd)"),
                              channels_param("pool_proj", 32, "pool proj: 1x1 filters after the 3x3 max pool"),
                              bool_param("bias", false, "learned bias on every convolution (the paper's, without BN)"),
                              bool_param("bn", true, "batch norm after every convolution (torchvision's BasicConv2d)"),
                              activation_param("activation", "relu", "activation after each convolution")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    const std::int64_t k = c.i("kernel5x5");
    if (k % 2 == 0) checks.error("kernel5x5", "must be odd so that the branch keeps the input size, got " + num(k));
    check_kernel_fits(c.in(), 3, 1, 1, checks, "out3x3");
    check_kernel_fits(c.in(), k, (k - 1) / 2, 1, checks, "kernel5x5");
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const bool bias = c.b("bias"), bn = c.b("bn");
    const ir::Activation act = c.act("activation");
    const std::int64_t k = c.i("kernel5x5");
    auto unit = [&](ir::TensorRef x, std::int64_t out, std::int64_t kernel, const std::string& name) {
      return b.conv_bn_act(x, {.out_c = out, .k = kernel, .pad = (kernel - 1) / 2, .bias = bias}, bn, act, name);
    };
    const auto x = b.input(0);
    const auto b1 = unit(x, c.i("out1x1"), 1, "branch1x1");
    const auto b3 = unit(unit(x, c.i("reduce3x3"), 1, "reduce3x3"), c.i("out3x3"), 3, "branch3x3");
    const auto b5 = unit(unit(x, c.i("reduce5x5"), 1, "reduce5x5"), c.i("out5x5"), k, "branch5x5");
    const auto pool = b.pool(x, ir::PoolMode::Max, 3, 1, 1, false, "pool");
    const auto bp = unit(pool, c.i("pool_proj"), 1, "pool_proj");
    return std::move(b).finish(b.concat({b1, b3, b5, bp}, "concat"));
  }

  Formula formula(const BlockContext& c) const override {
    const std::int64_t m = c.in().c, h = c.in().h, w = c.in().w;
    const std::int64_t n1 = c.i("out1x1"), r3 = c.i("reduce3x3"), n3 = c.i("out3x3"), r5 = c.i("reduce5x5"),
                       n5 = c.i("out5x5"), k = c.i("kernel5x5"), p = c.i("pool_proj");
    Formula f;
    f.symbolic = "H*W*(M*(n1 + r3 + r5 + p) + 9*r3*n3 + k^2*r5*n5)";
    f.filled = num(h) + "*" + num(w) + "*(" + num(m) + "*(" + num(n1) + " + " + num(r3) + " + " + num(r5) + " + " +
               num(p) + ") + 9*" + num(r3) + "*" + num(n3) + " + " + num(k) + "^2*" + num(r5) + "*" + num(n5) + ")";
    f.legend = "HxW=" + num(h) + "x" + num(w) + ", M=" + num(m) + " input channels, n1=" + num(n1) + ", r3=" + num(r3) +
               ", n3=" + num(n3) + ", r5=" + num(r5) + ", n5=" + num(n5) + ", k=" + num(k) + ", p=" + num(p) +
               " pool proj; output " + num(n1 + n3 + n5 + p) + " channels";
    f.weights = m * (n1 + r3 + r5 + p) + 9 * r3 * n3 + k * k * r5 * n5;
    f.madds = h * w * f.weights;
    return f;
  }

  std::optional<ir::ParamMap> compare_config(std::int64_t out_c, std::int64_t stride) const override {
    // inception (3a)'s proportions: 1x1 1/4, 3x3 1/2, 5x5 1/8, pool proj 1/8 of the output;
    // reductions 3/4 of the 3x3 and 1/2 of the 5x5 filters.
    if (stride != 1 || out_c < 8 || out_c % 8 != 0) return std::nullopt;
    return ir::ParamMap{{"out1x1", out_c / 4},    {"reduce3x3", out_c * 3 / 8}, {"out3x3", out_c / 2},
                        {"reduce5x5", out_c / 16 > 0 ? out_c / 16 : 1},       {"out5x5", out_c / 8},
                        {"pool_proj", out_c / 8}};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_inception_block() { return std::make_unique<InceptionBlock>(); }

}  // namespace convscope::blocks
