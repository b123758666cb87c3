// A stand-alone activation: ReLU, ReLU6, h-swish, h-sigmoid, sigmoid or swish (SiLU).
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class ActivationBlock final : public BlockKind {
 public:
  ActivationBlock()
      : BlockKind({.name = "activation",
                   .title = "Activation",
                   .category = Category::Layer,
                   .summary = "Element-wise ReLU, ReLU6, h-swish, h-sigmoid, sigmoid or swish (x * sigmoid(x), SiLU)",
                   .reference = "",
                   .params = {choice_param("function", "relu", {"relu", "relu6", "hswish", "hsigmoid", "sigmoid", "swish"},
                                           "the nonlinearity")}}) {}

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    return std::move(b).finish(b.activation(b.input(0), c.act("function"), c.s("function")));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "activations are counted as other ops, not multiply-adds"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_activation_block() { return std::make_unique<ActivationBlock>(); }

}  // namespace convscope::blocks
