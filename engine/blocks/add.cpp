// Element-wise sum of two or more equal-shaped inputs (residual connections).
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class AddBlock final : public BlockKind {
 public:
  AddBlock()
      : BlockKind({.name = "add",
                   .title = "Add",
                   .category = Category::Layer,
                   .summary = "Element-wise sum of equal-shaped inputs (residual connection)",
                   .reference = "He et al., ResNet, CVPR 2016",
                   .params = {activation_param("activation", "none", "activation after the sum")},
                   .min_inputs = 2,
                   .max_inputs = kVariadic}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    for (std::size_t i = 1; i < c.n_inputs(); ++i)
      if (!(c.in(i) == c.in(0)))
        checks.error("inputs", "shapes must match: input 0 is " + c.in(0).str() + ", input " + std::to_string(i) +
                                   " is " + c.in(i).str());
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    std::vector<ir::Shape> shapes;
    for (std::size_t i = 0; i < c.n_inputs(); ++i) shapes.push_back(c.in(i));
    ir::OpBuilder b(shapes);
    auto x = b.input(0);
    for (std::size_t i = 1; i < c.n_inputs(); ++i)
      x = b.add(x, b.input(i), i == 1 ? "add" : "add_" + std::to_string(i));
    return std::move(b).finish(b.activation(x, c.act("activation"), "add_" + c.s("activation")));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "additions are counted as other ops, not multiply-adds"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_add_block() { return std::make_unique<AddBlock>(); }

}  // namespace convscope::blocks
