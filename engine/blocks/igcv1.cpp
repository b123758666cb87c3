// Interleaved group convolution (IGCV1): a primary k x k group convolution with
// L partitions, an interleaving permutation, a secondary 1x1 group convolution
// with M partitions, and the permutation back. With N = L*M channels each output
// channel reaches each input channel through exactly one path (the strict
// complementary condition); the cost model checks this on the real connectivity.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class Igcv1Block final : public BlockKind {
 public:
  Igcv1Block()
      : BlockKind(
            {.name = "igcv1",
             .title = "IGCV1 interleaved group conv",
             .category = Category::Block,
             .summary = "Primary k x k group conv (L partitions), interleave, secondary 1x1 group conv (M partitions)",
             .reference = "Zhang et al., Interleaved Group Convolutions, ICCV 2017",
             .params = {
                 channels_param("out", 64, "output channels N (strict condition: N = L*M)"),
                 int_param("primary_groups", 4, 1, kDimLimit, "L: partitions of the primary group conv"),
                 int_param("secondary_groups", 16, 1, kDimLimit, "M: partitions of the secondary 1x1 group conv"),
                 kernel_param(3, "primary kernel size k"), stride_param(),
                 bool_param("bn", true, "batch norm after each group conv"),
                 activation_param("activation", "relu", "activation after the block")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    const std::int64_t l = c.i("primary_groups"), m = c.i("secondary_groups"), n = c.i("out");
    check_divides(l, c.in().c, "primary_groups", "input channels", checks);
    check_divides(l, n, "primary_groups", "output channels", checks);
    check_divides(m, n, "secondary_groups", "output channels", checks);
    const std::int64_t k = c.i("kernel");
    check_kernel_fits(c.in(), k, (k - 1) / 2, 1, checks);
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const std::int64_t l = c.i("primary_groups"), m = c.i("secondary_groups"), n = c.i("out"), k = c.i("kernel");
    const bool bn = c.b("bn");
    auto x =
        b.conv(b.input(0), {.out_c = n, .k = k, .stride = c.i("stride"), .pad = (k - 1) / 2, .groups = l}, "primary");
    if (bn) x = b.batch_norm(x, "primary_bn");
    x = b.channel_shuffle(x, l, "interleave");
    x = b.conv(x, {.out_c = n, .k = 1, .groups = m}, "secondary");
    x = b.channel_shuffle(x, n / l, "deinterleave");
    b.mark_connectivity_output(x);
    return std::move(b).finish(b.bn_act(x, bn, c.act("activation"), "out"));
  }

  Formula formula(const BlockContext& c) const override {
    const std::int64_t l = c.i("primary_groups"), m = c.i("secondary_groups"), n = c.i("out"), k = c.i("kernel");
    const std::int64_t cin = c.in().c, s = c.i("stride");
    const std::int64_t ho = conv_out(c.in().h, k, s, (k - 1) / 2), wo = conv_out(c.in().w, k, s, (k - 1) / 2);
    Formula f;
    f.symbolic = "H'*W'*(k^2*(C/L)*N + (N/M)*N)";
    f.filled = num(ho) + "*" + num(wo) + "*(" + num(k) + "^2*(" + num(cin) + "/" + num(l) + ")*" + num(n) + " + (" +
               num(n) + "/" + num(m) + ")*" + num(n) + ")";
    f.legend = "H'xW'=" + num(ho) + "x" + num(wo) + ", k=" + num(k) + ", C=" + num(cin) +
               " input channels, N=" + num(n) + " output channels, L=" + num(l) + " primary partitions, M=" + num(m) +
               " secondary partitions";
    f.weights = k * k * (cin / l) * n + (n / m) * n;
    f.madds = f.weights * ho * wo;
    return f;
  }

  std::optional<ir::ParamMap> compare_config(std::int64_t out_c, std::int64_t stride) const override {
    // The strict condition needs N = L*M; take L = 4 partitions when they fit.
    const std::int64_t l = out_c % 4 == 0 ? 4 : (out_c % 2 == 0 ? 2 : 1);
    return ir::ParamMap{{"out", out_c}, {"stride", stride}, {"primary_groups", l}, {"secondary_groups", out_c / l}};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_igcv1_block() { return std::make_unique<Igcv1Block>(); }

}  // namespace convscope::blocks
