// MobileNetV2 inverted residual with linear bottleneck: 1x1 expansion to t*C_in
// (skipped when t = 1) + BN + act, depthwise k x k with stride + BN + act,
// optional squeeze-excite (MobileNetV3; EfficientNet's MBConv with swish and a
// squeeze of C_in / 4), linear 1x1 projection + BN, and the shortcut exactly
// when stride is 1 and C_in = C_out.
#include <cmath>

#include "blocks/common.h"
#include "ir/graph.h"

namespace convscope::blocks {
namespace {

class InvertedResidualBlock final : public BlockKind {
 public:
  InvertedResidualBlock()
      : BlockKind(
            {.name = "inverted_residual",
             .title = "Inverted residual",
             .category = Category::Block,
             .summary = "Expand 1x1, depthwise k x k, [squeeze-excite], linear 1x1 project, shortcut "
                        "(MobileNetV2/V3, EfficientNet's MBConv)",
             .reference = "Sandler et al., MobileNetV2, CVPR 2018; Howard et al., MobileNetV3, ICCV 2019; "
                          "Tan and Le, EfficientNet, ICML 2019",
             .params = {channels_param("out", 24, "d'': output channels"),
                        int_param("expansion", 6, 1, 64, "t: expansion factor (1 skips the expansion conv)"),
                        [] {
                          auto p = channels_param(
                              "expanded", 96,
                              "expanded channels e; when given it replaces t * input channels (MobileNetV3)");
                          p.optional = true;
                          return p;
                        }(),
                        kernel_param(3, "depthwise kernel size k"), stride_param("s: depthwise stride"),
                        dilation_param(), activation_param("activation", "relu6", "activation (ReLU6, h-swish or swish)"),
                        bool_param("se", false, "squeeze-excite after the depthwise (MobileNetV3)"),
                        int_param("se_reduction", 4, 1, 64, "squeeze channels = make_divisible(expanded / r, 8)"),
                        [] {
                          auto p = channels_param("se_channels", 8,
                                                  "squeeze channels q; when given they replace the se_reduction rule "
                                                  "(EfficientNet: input channels / 4)");
                          p.optional = true;
                          return p;
                        }(),
                        activation_param("se_activation", "relu", "squeeze-excite's activation after the squeeze "
                                                                  "(ReLU; swish in EfficientNet)"),
                        activation_param("se_gate", "hsigmoid", "squeeze-excite gate (h-sigmoid or sigmoid)"),
                        bool_param("bn", true, "batch norm after each convolution")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    const std::int64_t k = c.i("kernel"), d = c.i("dilation");
    check_kernel_fits(c.in(), k, d * (k - 1) / 2, d, checks);
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const Dims v = dims(c);
    const bool bn = c.b("bn");
    const ir::Activation act = c.act("activation");
    auto x = b.input(0);
    if (v.expand) x = b.conv_bn_act(x, {.out_c = v.e, .k = v.k, .groups = 1}, bn, act, "expand");
    x = b.conv_bn_act(
        x, {.out_c = v.e, .k = v.kd, .stride = v.s, .pad = v.dil * (v.kd - 1) / 2, .dilation = v.dil, .groups = v.e},
        bn, act, "dw");
    if (v.se) {
      auto g = b.global_pool(x, ir::PoolMode::Avg, "se_pool");
      g = b.activation(b.fully_connected(g, v.sq, true, "se_reduce"), c.act("se_activation"), "se_act");
      g = b.activation(b.fully_connected(g, v.e, true, "se_expand"), c.act("se_gate"), "se_gate");
      x = b.mul(x, g, "se_scale");
    }
    x = b.conv_bn_act(x, {.out_c = v.n, .k = 1}, bn, ir::Activation::None, "project");
    if (v.shortcut) x = b.add(x, b.input(0), "shortcut");
    return std::move(b).finish(x);
  }

  Formula formula(const BlockContext& c) const override {
    const Dims v = dims(c);
    const std::int64_t h = c.in().h, w = c.in().w, d1 = c.in().c;
    const std::int64_t pad = v.dil * (v.kd - 1) / 2;
    const std::int64_t ho = conv_out(h, v.kd, v.s, pad, v.dil), wo = conv_out(w, v.kd, v.s, pad, v.dil);
    const bool paper_form = !c.has("expanded") && v.expand && v.s == 1;
    Formula f;
    if (paper_form) {
      f.symbolic = "h*w*d'*t*(d' + k^2 + d'')";
      f.filled = num(h) + "*" + num(w) + "*" + num(d1) + "*" + num(v.t) + "*(" + num(d1) + " + " + num(v.kd) + "^2 + " +
                 num(v.n) + ")";
    } else {
      f.symbolic = std::string(v.expand ? "h*w*d'*e + " : "") + "h'*w'*e*(k^2 + d'')";
      f.filled = (v.expand ? num(h) + "*" + num(w) + "*" + num(d1) + "*" + num(v.e) + " + " : std::string()) + num(ho) +
                 "*" + num(wo) + "*" + num(v.e) + "*(" + num(v.kd) + "^2 + " + num(v.n) + ")";
    }
    if (v.se) {
      f.symbolic += " + 2*e*q";
      f.filled += " + 2*" + num(v.e) + "*" + num(v.sq);
    }
    f.legend = "hxw=" + num(h) + "x" + num(w) + ", h'xw'=" + num(ho) + "x" + num(wo) + ", d'=" + num(d1) +
               ", t=" + num(v.t) + ", e=" + num(v.e) + " expanded, k=" + num(v.kd) + ", d''=" + num(v.n) +
               (v.se ? ", q=" + num(v.sq) + " squeeze" : "") + (v.shortcut ? "; shortcut" : "; no shortcut");
    const std::int64_t expand_w = v.expand ? d1 * v.e : 0;
    f.weights = expand_w + v.e * v.kd * v.kd + v.e * v.n + (v.se ? 2 * v.e * v.sq : 0);
    f.madds = h * w * expand_w + ho * wo * v.e * (v.kd * v.kd + v.n) + (v.se ? 2 * v.e * v.sq : 0);
    return f;
  }

  std::optional<ir::ParamMap> compare_config(std::int64_t out_c, std::int64_t stride) const override {
    return ir::ParamMap{{"out", out_c}, {"stride", stride}};
  }

 private:
  struct Dims {
    std::int64_t t, e, n, kd, k = 1, s, dil, sq;
    bool expand, se, shortcut;
  };
  std::optional<ir::ParamValue> derived(const BlockContext& c, std::string_view name) const override {
    if (c.n_inputs() == 0 || c.has(name)) return std::nullopt;
    if (name == "expanded") return ir::ParamValue{dims(c).e};
    if (name == "se_channels" && c.b("se")) return ir::ParamValue{dims(c).sq};
    return std::nullopt;
  }

  static Dims dims(const BlockContext& c) {
    Dims v{};
    v.t = c.i("expansion");
    v.e = c.has("expanded") ? c.i("expanded") : c.in().c * v.t;
    v.expand = v.e != c.in().c;  // t = 1 (or expanded = C_in) has no expansion conv
    v.n = c.i("out");
    v.kd = c.i("kernel");
    v.s = c.i("stride");
    v.dil = c.i("dilation");
    v.se = c.b("se");
    v.sq = c.has("se_channels") ? c.i("se_channels")
                                : ir::make_divisible(static_cast<double>(v.e / c.i("se_reduction")), 8);
    v.shortcut = v.s == 1 && c.in().c == v.n;
    return v;
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_inverted_residual_block() { return std::make_unique<InvertedResidualBlock>(); }

}  // namespace convscope::blocks
