// Channel split: takes part `index` of `parts` equal channel ranges
// (ShuffleNet V2 feeds one half to each branch).
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class SplitBlock final : public BlockKind {
 public:
  SplitBlock()
      : BlockKind({.name = "split",
                   .title = "Channel split",
                   .category = Category::Layer,
                   .summary = "One of `parts` equal channel ranges (ShuffleNet V2 channel split)",
                   .reference = "Ma et al., ShuffleNet V2, ECCV 2018",
                   .params = {int_param("parts", 2, 1, kDimLimit, "number of equal parts"),
                              int_param("index", 0, 0, kDimLimit, "which part, from 0")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    check_divides(c.i("parts"), c.in().c, "parts", "input channels", checks);
    if (c.i("index") >= c.i("parts"))
      checks.error("index", "must be < parts " + num(c.i("parts")) + ", got " + num(c.i("index")));
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const std::int64_t part = c.in().c / c.i("parts");
    return std::move(b).finish(b.slice(b.input(0), c.i("index") * part, part, "split"));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "a split moves data but has no arithmetic"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_split_block() { return std::make_unique<SplitBlock>(); }

}  // namespace convscope::blocks
