// Depthwise convolution as a layer of its own: one k x k filter per input
// channel (groups = C_in), optionally `multiplier` filters per channel.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class DepthwiseBlock final : public BlockKind {
 public:
  DepthwiseBlock()
      : BlockKind({.name = "depthwise",
                   .title = "Depthwise convolution",
                   .category = Category::Layer,
                   .summary = "k x k convolution per channel (groups = input channels)",
                   .reference = "Sifre 2014; Howard et al., MobileNets, 2017",
                   .params = {kernel_param(3), stride_param(), padding_param(), dilation_param(),
                              int_param("multiplier", 1, 1, 64, "output channels per input channel"),
                              bool_param("bias", false, "learned per-channel bias"),
                              bool_param("bn", true, "batch norm after the convolution"),
                              activation_param("activation", "relu", "activation after batch norm")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    const std::int64_t k = c.i("kernel"), d = c.i("dilation");
    check_kernel_fits(c.in(), k, c.padding("padding", k, d), d, checks);
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const std::int64_t k = c.i("kernel"), d = c.i("dilation"), m = c.in().c;
    const ir::ConvSpec spec{.out_c = m * c.i("multiplier"),
                            .k = k,
                            .stride = c.i("stride"),
                            .pad = c.padding("padding", k, d),
                            .dilation = d,
                            .groups = m,
                            .bias = c.b("bias")};
    return std::move(b).finish(b.conv_bn_act(b.input(0), spec, c.b("bn"), c.act("activation"), "dw"));
  }

  Formula formula(const BlockContext& c) const override {
    const std::int64_t k = c.i("kernel"), d = c.i("dilation"), s = c.i("stride"), mult = c.i("multiplier");
    const std::int64_t pad = c.padding("padding", k, d);
    const std::int64_t ho = conv_out(c.in().h, k, s, pad, d), wo = conv_out(c.in().w, k, s, pad, d);
    const std::int64_t m = c.in().c;
    Formula f;
    f.symbolic = mult == 1 ? "k^2*M*H'*W'" : "k^2*M*m*H'*W'";
    f.filled = num(k) + "^2*" + num(m) + (mult == 1 ? "" : "*" + num(mult)) + "*" + num(ho) + "*" + num(wo);
    f.legend = "k=" + num(k) + " kernel, M=" + num(m) + " channels" +
               (mult == 1 ? "" : ", m=" + num(mult) + " multiplier") + ", H'xW'=" + num(ho) + "x" + num(wo) + " output";
    f.weights = k * k * m * mult;
    f.madds = f.weights * ho * wo;
    return f;
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_depthwise_block() { return std::make_unique<DepthwiseBlock>(); }

}  // namespace convscope::blocks
