// Fixed upsampling by an integer factor (nearest or bilinear).
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class UpsampleBlock final : public BlockKind {
 public:
  UpsampleBlock()
      : BlockKind({.name = "upsample",
                   .title = "Upsample",
                   .category = Category::Layer,
                   .summary = "Resize by an integer factor, nearest or bilinear",
                   .reference = "",
                   .params = {int_param("scale", 2, 1, 64, "factor for height and width"),
                              choice_param("mode", "nearest", {"nearest", "bilinear"}, "interpolation")}}) {}

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const auto mode = c.s("mode") == "nearest" ? ir::UpsampleMode::Nearest : ir::UpsampleMode::Bilinear;
    return std::move(b).finish(b.upsample(b.input(0), mode, c.i("scale"), "upsample"));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "interpolation is counted as other ops, not multiply-adds"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_upsample_block() { return std::make_unique<UpsampleBlock>(); }

}  // namespace convscope::blocks
