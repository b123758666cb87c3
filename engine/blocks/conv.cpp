// Standard convolution: k x k, stride, padding, dilation, groups, optional bias,
// batch norm and activation. The baseline every efficient block is compared with.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class ConvBlock final : public BlockKind {
 public:
  ConvBlock()
      : BlockKind({.name = "conv",
                   .title = "Convolution",
                   .category = Category::Block,
                   .summary = "Standard k x k convolution (+ batch norm + activation)",
                   .reference = "LeCun et al. 1998; counting as in Howard et al., MobileNets, 2017",
                   .params = {channels_param("out", 32, "output channels N"), kernel_param(3), stride_param(),
                              padding_param(), dilation_param(),
                              int_param("groups", 1, 1, kDimLimit, "channel groups g (must divide input and output)"),
                              bool_param("bias", false, "learned per-channel bias"),
                              bool_param("bn", true, "batch norm after the convolution"),
                              activation_param("activation", "relu", "activation after batch norm")},
                   .compare_reference = true}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    const std::int64_t k = c.i("kernel"), d = c.i("dilation"), g = c.i("groups");
    check_divides(g, c.in().c, "groups", "input channels", checks);
    check_divides(g, c.i("out"), "groups", "output channels", checks);
    check_kernel_fits(c.in(), k, c.padding("padding", k, d), d, checks);
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const std::int64_t k = c.i("kernel"), d = c.i("dilation");
    const ir::ConvSpec spec{.out_c = c.i("out"),
                            .k = k,
                            .stride = c.i("stride"),
                            .pad = c.padding("padding", k, d),
                            .dilation = d,
                            .groups = c.i("groups"),
                            .bias = c.b("bias")};
    return std::move(b).finish(b.conv_bn_act(b.input(0), spec, c.b("bn"), c.act("activation"), "conv"));
  }

  Formula formula(const BlockContext& c) const override {
    const std::int64_t k = c.i("kernel"), d = c.i("dilation"), s = c.i("stride"), g = c.i("groups");
    const std::int64_t pad = c.padding("padding", k, d);
    const std::int64_t ho = conv_out(c.in().h, k, s, pad, d), wo = conv_out(c.in().w, k, s, pad, d);
    const std::int64_t m = c.in().c, n = c.i("out");
    Formula f;
    f.symbolic = g == 1 ? "k^2*M*N*H'*W'" : "k^2*(M/g)*N*H'*W'";
    f.filled = num(k) + "^2*" + (g == 1 ? num(m) : "(" + num(m) + "/" + num(g) + ")") + "*" + num(n) + "*" + num(ho) +
               "*" + num(wo);
    f.legend = "k=" + num(k) + " kernel, M=" + num(m) + " input channels, N=" + num(n) + " output channels" +
               (g == 1 ? "" : ", g=" + num(g) + " groups") + ", H'xW'=" + num(ho) + "x" + num(wo) + " output";
    f.weights = k * k * (m / g) * n;
    f.madds = f.weights * ho * wo;
    return f;
  }

  std::optional<ir::ParamMap> compare_config(std::int64_t out_c, std::int64_t stride) const override {
    return ir::ParamMap{{"out", out_c}, {"stride", stride}};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_conv_block() { return std::make_unique<ConvBlock>(); }

}  // namespace convscope::blocks
