// SqueezeNet fire module: squeeze 1x1 (s1x1 filters), then expand 1x1 (e1x1)
// and expand 3x3 (e3x3) side by side, concatenated; optional simple bypass.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class FireBlock final : public BlockKind {
 public:
  FireBlock()
      : BlockKind({.name = "fire",
                   .title = "Fire module",
                   .category = Category::Block,
                   .summary = "Squeeze 1x1, then expand 1x1 and 3x3 concatenated (SqueezeNet)",
                   .reference = "Iandola et al., SqueezeNet, 2016",
                   .params = {channels_param("squeeze", 16, "s1x1: squeeze filters"),
                              channels_param("expand1x1", 64, "e1x1: expand 1x1 filters"),
                              channels_param("expand3x3", 64, "e3x3: expand 3x3 filters"),
                              bool_param("bypass", false, "simple bypass: add the input (needs C_in = e1x1 + e3x3)"),
                              bool_param("bias", true, "learned bias on every convolution"),
                              bool_param("bn", false, "batch norm after every convolution"),
                              activation_param("activation", "relu", "activation after each convolution")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    const std::int64_t out = c.i("expand1x1") + c.i("expand3x3");
    if (c.b("bypass") && c.in().c != out)
      checks.error("bypass", "needs input channels equal to e1x1 + e3x3, got " + num(c.in().c) + " and " + num(out));
    check_kernel_fits(c.in(), 3, 1, 1, checks, "expand3x3");
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const bool bias = c.b("bias"), bn = c.b("bn");
    const ir::Activation act = c.act("activation");
    const auto sq = b.conv_bn_act(b.input(0), {.out_c = c.i("squeeze"), .k = 1, .bias = bias}, bn, act, "squeeze");
    const auto e1 = b.conv_bn_act(sq, {.out_c = c.i("expand1x1"), .k = 1, .bias = bias}, bn, act, "expand1x1");
    const auto e3 =
        b.conv_bn_act(sq, {.out_c = c.i("expand3x3"), .k = 3, .pad = 1, .bias = bias}, bn, act, "expand3x3");
    auto out = b.concat({e1, e3}, "concat");
    if (c.b("bypass")) out = b.add(out, b.input(0), "bypass");
    return std::move(b).finish(out);
  }

  Formula formula(const BlockContext& c) const override {
    const std::int64_t m = c.in().c, s = c.i("squeeze"), e1 = c.i("expand1x1"), e3 = c.i("expand3x3");
    const std::int64_t h = c.in().h, w = c.in().w;
    Formula f;
    f.symbolic = "H*W*(M*s1 + s1*e1 + 9*s1*e3)";
    f.filled = num(h) + "*" + num(w) + "*(" + num(m) + "*" + num(s) + " + " + num(s) + "*" + num(e1) + " + 9*" +
               num(s) + "*" + num(e3) + ")";
    f.legend = "HxW=" + num(h) + "x" + num(w) + ", M=" + num(m) + " input channels, s1=" + num(s) +
               " squeeze, e1=" + num(e1) + " expand 1x1, e3=" + num(e3) + " expand 3x3";
    f.weights = m * s + s * e1 + 9 * s * e3;
    f.madds = f.weights * h * w;
    return f;
  }

  std::optional<ir::ParamMap> compare_config(std::int64_t out_c, std::int64_t stride) const override {
    // SqueezeNet's own ratios: squeeze ratio 1/8, half of the expand filters 3x3.
    if (stride != 1 || out_c < 2 || out_c % 2 != 0) return std::nullopt;
    return ir::ParamMap{
        {"squeeze", std::max<std::int64_t>(1, out_c / 8)}, {"expand1x1", out_c / 2}, {"expand3x3", out_c / 2}};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_fire_block() { return std::make_unique<FireBlock>(); }

}  // namespace convscope::blocks
