// A graph input: an image of height x width x channels. The graph's
// `resolution` setting overrides height and width.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class InputBlock final : public BlockKind {
 public:
  InputBlock()
      : BlockKind({.name = "input",
                   .title = "Input",
                   .category = Category::Input,
                   .summary = "Graph input: height x width x channels (resolution setting overrides height and width)",
                   .reference = "",
                   .params = {int_param("height", 224, 1, kDimLimit, "input height in pixels"),
                              int_param("width", 224, 1, kDimLimit, "input width in pixels"),
                              int_param("channels", 3, 1, kDimLimit, "input channels")},
                   .min_inputs = 0,
                   .max_inputs = 0}) {}

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::BlockLowering l;
    l.tensors = {ir::Shape{c.i("height"), c.i("width"), c.i("channels")}};
    l.output = 0;
    return l;
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "inputs cost nothing", .madds = 0, .weights = 0};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_input_block() { return std::make_unique<InputBlock>(); }

}  // namespace convscope::blocks
