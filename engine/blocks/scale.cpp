// Channel-wise scale: x (H x W x C) times s (1 x 1 x C), as squeeze-excite
// applies its gate. Used by imported models whose SE is spelled out.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class ScaleBlock final : public BlockKind {
 public:
  ScaleBlock()
      : BlockKind({.name = "scale",
                   .title = "Channel scale",
                   .category = Category::Layer,
                   .summary = "x times a per-channel factor s (1x1xC), as a squeeze-excite gate does",
                   .reference = "Hu et al., Squeeze-and-Excitation Networks, CVPR 2018",
                   .params = {},
                   .min_inputs = 2,
                   .max_inputs = 2}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    if (c.in(1).h != 1 || c.in(1).w != 1 || c.in(1).c != c.in(0).c)
      checks.error("inputs", "the scale (input 1) must be 1x1x" + num(c.in(0).c) + ", got " + c.in(1).str());
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in(0), c.in(1)});
    return std::move(b).finish(b.mul(b.input(0), b.input(1), "scale"));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "the multiply is counted as other ops, not multiply-adds"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_scale_block() { return std::make_unique<ScaleBlock>(); }

}  // namespace convscope::blocks
