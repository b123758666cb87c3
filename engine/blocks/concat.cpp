// Channel concatenation of inputs with equal height and width.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class ConcatBlock final : public BlockKind {
 public:
  ConcatBlock()
      : BlockKind({.name = "concat",
                   .title = "Concat",
                   .category = Category::Layer,
                   .summary = "Stack inputs along channels (heights and widths must match)",
                   .reference = "",
                   .params = {},
                   .min_inputs = 1,
                   .max_inputs = kVariadic}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    for (std::size_t i = 1; i < c.n_inputs(); ++i)
      if (c.in(i).h != c.in(0).h || c.in(i).w != c.in(0).w)
        checks.error("inputs", "heights and widths must match: input 0 is " + c.in(0).str() + ", input " +
                                   std::to_string(i) + " is " + c.in(i).str());
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    std::vector<ir::Shape> shapes;
    std::vector<ir::TensorRef> refs;
    for (std::size_t i = 0; i < c.n_inputs(); ++i) shapes.push_back(c.in(i));
    ir::OpBuilder b(shapes);
    for (std::size_t i = 0; i < c.n_inputs(); ++i) refs.push_back(b.input(i));
    return std::move(b).finish(b.concat(refs, "concat"));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "concatenation moves data but has no arithmetic"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_concat_block() { return std::make_unique<ConcatBlock>(); }

}  // namespace convscope::blocks
