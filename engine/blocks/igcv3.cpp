// IGCV3 block: group 1x1 expansion (g1 groups), interleaving permutation,
// depthwise k x k, group 1x1 linear projection (g2 groups), permutation, and a
// residual when the shapes allow. Its complementary condition is checked on the
// real channel connectivity (it is usually loose: several paths per pair).
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class Igcv3Block final : public BlockKind {
 public:
  Igcv3Block()
      : BlockKind({.name = "igcv3",
                   .title = "IGCV3 low-rank group conv",
                   .category = Category::Block,
                   .summary = "Group 1x1 expand, permute, depthwise, group 1x1 linear project, permute, residual",
                   .reference = "Sun et al., IGCV3, BMVC 2018",
                   .params = {channels_param("out", 32, "output channels"),
                              int_param("expansion", 6, 1, 64, "t: expanded channels = t * input channels"),
                              int_param("groups1", 2, 1, kDimLimit, "g1: groups of the 1x1 expansion"),
                              int_param("groups2", 2, 1, kDimLimit, "g2: groups of the 1x1 projection"),
                              kernel_param(3, "depthwise kernel size k"), stride_param(),
                              bool_param("bn", true, "batch norm after each convolution"),
                              activation_param("activation", "relu6", "activation after expansion and depthwise"),
                              bool_param("residual", true, "add the input when stride is 1 and channels match")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    const std::int64_t e = c.in().c * c.i("expansion");
    check_divides(c.i("groups1"), c.in().c, "groups1", "input channels", checks);
    check_divides(c.i("groups1"), e, "groups1", "expanded channels", checks);
    check_divides(c.i("groups2"), e, "groups2", "expanded channels", checks);
    check_divides(c.i("groups2"), c.i("out"), "groups2", "output channels", checks);
    const std::int64_t k = c.i("kernel");
    check_kernel_fits(c.in(), k, (k - 1) / 2, 1, checks);
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const std::int64_t cin = c.in().c, e = cin * c.i("expansion"), k = c.i("kernel"), n = c.i("out");
    const std::int64_t g1 = c.i("groups1"), g2 = c.i("groups2"), s = c.i("stride");
    const bool bn = c.b("bn");
    const ir::Activation act = c.act("activation");
    auto x = b.conv_bn_act(b.input(0), {.out_c = e, .k = 1, .groups = g1}, bn, act, "expand");
    x = b.channel_shuffle(x, g1, "permute1");
    x = b.conv_bn_act(x, {.out_c = e, .k = k, .stride = s, .pad = (k - 1) / 2, .groups = e}, bn, act, "dw");
    x = b.conv_bn_act(x, {.out_c = n, .k = 1, .groups = g2}, bn, ir::Activation::None, "project");
    x = b.channel_shuffle(x, g2, "permute2");
    b.mark_connectivity_output(x);
    if (c.b("residual") && s == 1 && cin == n) x = b.add(x, b.input(0), "residual");
    return std::move(b).finish(x);
  }

  Formula formula(const BlockContext& c) const override {
    const std::int64_t cin = c.in().c, t = c.i("expansion"), e = cin * t, k = c.i("kernel"), n = c.i("out");
    const std::int64_t g1 = c.i("groups1"), g2 = c.i("groups2"), s = c.i("stride");
    const std::int64_t h = c.in().h, w = c.in().w;
    const std::int64_t ho = conv_out(h, k, s, (k - 1) / 2), wo = conv_out(w, k, s, (k - 1) / 2);
    Formula f;
    f.symbolic = "H*W*(C/g1)*tC + H'*W'*tC*k^2 + H'*W'*(tC/g2)*N";
    f.filled = num(h) + "*" + num(w) + "*(" + num(cin) + "/" + num(g1) + ")*" + num(e) + " + " + num(ho) + "*" +
               num(wo) + "*" + num(e) + "*" + num(k) + "^2 + " + num(ho) + "*" + num(wo) + "*(" + num(e) + "/" +
               num(g2) + ")*" + num(n);
    f.legend = "HxW=" + num(h) + "x" + num(w) + ", H'xW'=" + num(ho) + "x" + num(wo) + ", C=" + num(cin) +
               ", t=" + num(t) + ", k=" + num(k) + ", N=" + num(n) + ", g1=" + num(g1) + ", g2=" + num(g2);
    f.madds = h * w * (cin / g1) * e + ho * wo * e * k * k + ho * wo * (e / g2) * n;
    f.weights = (cin / g1) * e + e * k * k + (e / g2) * n;
    return f;
  }

  std::optional<ir::ParamMap> compare_config(std::int64_t out_c, std::int64_t stride) const override {
    return ir::ParamMap{{"out", out_c}, {"stride", stride}};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_igcv3_block() { return std::make_unique<Igcv3Block>(); }

}  // namespace convscope::blocks
