// Depthwise-separable convolution (MobileNetV1): depthwise k x k + BN + act,
// then pointwise 1x1 + BN + act. `inner` selects the Xception variant (no
// activation, or nothing at all, between the two); `crelu` halves the pointwise
// output and restores it with CReLU (the channel-compensation trick).
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class SeparableBlock final : public BlockKind {
 public:
  SeparableBlock()
      : BlockKind(
            {.name = "separable",
             .title = "Depthwise separable",
             .category = Category::Block,
             .summary = "Depthwise k x k then pointwise 1x1 (MobileNetV1, Xception)",
             .reference = "Howard et al., MobileNets, 2017; Chollet, Xception, CVPR 2017",
             .params = {channels_param("out", 64, "output channels N"), kernel_param(3), stride_param(),
                        dilation_param(),
                        choice_param("inner", "bn_act", {"bn_act", "bn", "none"},
                                     "between depthwise and pointwise: BN + act (MobileNet), BN only, or "
                                     "nothing (Xception)"),
                        bool_param("bn", true, "batch norm after the convolutions"),
                        activation_param("activation", "relu", "activation (after BN)"),
                        bool_param("crelu", false,
                                   "pointwise makes N/2 channels and CReLU doubles them (replaces activation)")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    const std::int64_t k = c.i("kernel"), d = c.i("dilation");
    check_kernel_fits(c.in(), k, d * (k - 1) / 2, d, checks);
    if (c.b("crelu") && c.i("out") % 2 != 0)
      checks.error("crelu", "needs an even output channel count, got " + num(c.i("out")));
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const std::int64_t k = c.i("kernel"), d = c.i("dilation"), m = c.in().c;
    const bool bn = c.b("bn"), crelu = c.b("crelu");
    const ir::Activation act = c.act("activation");
    const std::string& inner = c.s("inner");
    auto x =
        b.conv(b.input(0),
               {.out_c = m, .k = k, .stride = c.i("stride"), .pad = d * (k - 1) / 2, .dilation = d, .groups = m}, "dw");
    x = b.bn_act(x, bn && inner != "none", inner == "bn_act" ? act : ir::Activation::None, "dw");
    const std::int64_t pw_out = crelu ? c.i("out") / 2 : c.i("out");
    x = b.conv(x, {.out_c = pw_out, .k = 1}, "pw");
    if (crelu) {
      if (bn) x = b.batch_norm(x, "pw_bn");
      x = b.crelu(x, "pw_crelu");
    } else {
      x = b.bn_act(x, bn, act, "pw");
    }
    return std::move(b).finish(x);
  }

  Formula formula(const BlockContext& c) const override {
    const std::int64_t k = c.i("kernel"), d = c.i("dilation"), s = c.i("stride"), m = c.in().c;
    const std::int64_t n = c.b("crelu") ? c.i("out") / 2 : c.i("out");
    const std::int64_t pad = d * (k - 1) / 2;
    const std::int64_t ho = conv_out(c.in().h, k, s, pad, d), wo = conv_out(c.in().w, k, s, pad, d);
    Formula f;
    f.symbolic = c.b("crelu") ? "k^2*M*D^2 + M*(N/2)*D^2" : "k^2*M*D^2 + M*N*D^2";
    f.filled = num(k) + "^2*" + num(m) + "*" + num(ho) + "*" + num(wo) + " + " + num(m) + "*" + num(n) + "*" + num(ho) +
               "*" + num(wo);
    f.legend = "k=" + num(k) + " kernel, M=" + num(m) + " input channels, N=" + num(c.i("out")) +
               " output channels, D^2=" + num(ho) + "x" + num(wo) + " output";
    f.weights = k * k * m + m * n;
    f.madds = f.weights * ho * wo;
    return f;
  }

  std::optional<TheoryRatio> theory_ratio(std::int64_t out_c, std::int64_t kernel) const override {
    // MobileNets, eq. 5: (k^2*M*D^2 + M*N*D^2) / (k^2*M*N*D^2) = 1/N + 1/k^2.
    return TheoryRatio{"1/N + 1/k^2", 1.0 / static_cast<double>(out_c) + 1.0 / static_cast<double>(kernel * kernel)};
  }

  std::optional<ir::ParamMap> compare_config(std::int64_t out_c, std::int64_t stride) const override {
    return ir::ParamMap{{"out", out_c}, {"stride", stride}};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_separable_block() { return std::make_unique<SeparableBlock>(); }

}  // namespace convscope::blocks
