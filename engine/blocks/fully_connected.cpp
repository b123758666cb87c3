// Fully connected layer over the flattened input (H*W*C -> N).
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class FullyConnectedBlock final : public BlockKind {
 public:
  FullyConnectedBlock()
      : BlockKind({.name = "fc",
                   .title = "Fully connected",
                   .category = Category::Layer,
                   .summary = "Dense layer over the flattened input: C_in x C_out multiply-adds",
                   .reference = "",
                   .params = {channels_param("out", 1000, "output features (the class count for a classifier)"),
                              bool_param("bias", true, "learned bias"),
                              activation_param("activation", "none", "activation after the layer")}}) {}

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    auto x = b.fully_connected(b.input(0), c.i("out"), c.b("bias"), "fc");
    return std::move(b).finish(b.activation(x, c.act("activation"), "fc_" + c.s("activation")));
  }

  Formula formula(const BlockContext& c) const override {
    const std::int64_t cin = c.in().elements(), n = c.i("out");
    return {.symbolic = "C_in*C_out",
            .filled = num(cin) + "*" + num(n),
            .legend = "C_in=" + num(cin) + " (" + c.in().str() + " flattened), C_out=" + num(n),
            .madds = cin * n,
            .weights = cin * n};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_fully_connected_block() { return std::make_unique<FullyConnectedBlock>(); }

}  // namespace convscope::blocks
