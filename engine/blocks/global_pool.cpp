// Global pooling: average (or max) over all pixels, output 1x1xC.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class GlobalPoolBlock final : public BlockKind {
 public:
  GlobalPoolBlock()
      : BlockKind({.name = "global_pool",
                   .title = "Global pooling",
                   .category = Category::Layer,
                   .summary = "Average or max over all pixels: output 1x1xC",
                   .reference = "Lin et al., Network in Network, 2013",
                   .params = {choice_param("mode", "avg", {"avg", "max"}, "average or max")}}) {}

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const auto mode = c.s("mode") == "max" ? ir::PoolMode::Max : ir::PoolMode::Avg;
    return std::move(b).finish(b.global_pool(b.input(0), mode, "global_pool"));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "pooling has no multiply-adds (counted as other ops)"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_global_pool_block() { return std::make_unique<GlobalPoolBlock>(); }

}  // namespace convscope::blocks
