// Transposed convolution (learned upsampling): every input pixel scatters a
// k x k x N/g patch into the output.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class ConvTransposeBlock final : public BlockKind {
 public:
  ConvTransposeBlock()
      : BlockKind({.name = "conv_transpose",
                   .title = "Transposed convolution",
                   .category = Category::Layer,
                   .summary = "Learned upsampling: output (H-1)*s - 2p + k (+ output_padding)",
                   .reference = "Long et al., Fully Convolutional Networks, CVPR 2015",
                   .params = {channels_param("out", 32, "output channels N"), kernel_param(4),
                              int_param("stride", 2, 1, 16, "upsampling stride s"),
                              int_param("padding", 1, 0, 64, "padding p removed from each side of the output"),
                              int_param("output_padding", 0, 0, 15, "extra rows/columns at the bottom/right"),
                              int_param("groups", 1, 1, kDimLimit, "channel groups g"),
                              bool_param("bias", false, "learned per-channel bias"),
                              bool_param("bn", true, "batch norm after the convolution"),
                              activation_param("activation", "relu", "activation after batch norm")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    check_divides(c.i("groups"), c.in().c, "groups", "input channels", checks);
    check_divides(c.i("groups"), c.i("out"), "groups", "output channels", checks);
    if (c.i("output_padding") >= c.i("stride"))
      checks.error("output_padding",
                   "must be smaller than stride " + num(c.i("stride")) + ", got " + num(c.i("output_padding")));
    if ((c.in().h - 1) * c.i("stride") + c.i("kernel") <= 2 * c.i("padding"))
      checks.error("padding", "padding " + num(c.i("padding")) + " removes the whole output");
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const ir::ConvSpec spec{.out_c = c.i("out"),
                            .k = c.i("kernel"),
                            .stride = c.i("stride"),
                            .pad = c.i("padding"),
                            .groups = c.i("groups"),
                            .bias = c.b("bias")};
    auto x = b.conv_transpose(b.input(0), spec, c.i("output_padding"), "convT");
    return std::move(b).finish(b.bn_act(x, c.b("bn"), c.act("activation"), "convT"));
  }

  Formula formula(const BlockContext& c) const override {
    const std::int64_t k = c.i("kernel"), g = c.i("groups"), m = c.in().c, n = c.i("out");
    Formula f;
    f.symbolic = "H*W*M*(N/g)*k^2";
    f.filled = num(c.in().h) + "*" + num(c.in().w) + "*" + num(m) + "*(" + num(n) + "/" + num(g) + ")*" + num(k) + "^2";
    f.legend = "HxW=" + num(c.in().h) + "x" + num(c.in().w) + " input, M=" + num(m) + ", N=" + num(n) +
               ", g=" + num(g) + ", k=" + num(k);
    f.weights = m * (n / g) * k * k;
    f.madds = c.in().h * c.in().w * f.weights;
    return f;
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_conv_transpose_block() { return std::make_unique<ConvTransposeBlock>(); }

}  // namespace convscope::blocks
