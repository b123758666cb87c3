// Max or average pooling with a k x k window.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class PoolBlock final : public BlockKind {
 public:
  PoolBlock()
      : BlockKind(
            {.name = "pool",
             .title = "Pooling",
             .category = Category::Layer,
             .summary = "Max or average pooling over a k x k window",
             .reference = "",
             .params = {choice_param("mode", "max", {"max", "avg"}, "max or average"), kernel_param(2, "window k"),
                        int_param("stride", 2, 1, 16, "stride s"), int_param("padding", 0, 0, 15, "padding per side"),
                        bool_param("ceil_mode", false, "round the output size up (as Caffe and SqueezeNet do)")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    if (2 * c.i("padding") > c.i("kernel"))
      checks.error("padding", "must be at most half the window " + num(c.i("kernel")) + ", got " + num(c.i("padding")));
    check_kernel_fits(c.in(), c.i("kernel"), c.i("padding"), 1, checks);
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    const auto mode = c.s("mode") == "max" ? ir::PoolMode::Max : ir::PoolMode::Avg;
    return std::move(b).finish(
        b.pool(b.input(0), mode, c.i("kernel"), c.i("stride"), c.i("padding"), c.b("ceil_mode"), "pool"));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "pooling has no multiply-adds (counted as other ops)"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_pool_block() { return std::make_unique<PoolBlock>(); }

}  // namespace convscope::blocks
