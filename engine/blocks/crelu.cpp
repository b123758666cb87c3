// CReLU: concat(relu(x), relu(-x)) doubles the channels without arithmetic,
// so a layer before it needs only half the filters (channel compensation).
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class CReluBlock final : public BlockKind {
 public:
  CReluBlock()
      : BlockKind({.name = "crelu",
                   .title = "CReLU",
                   .category = Category::Layer,
                   .summary = "concat(relu(x), relu(-x)): doubles channels for free",
                   .reference = "Shang et al., Concatenated ReLU, ICML 2016",
                   .params = {}}) {}

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    return std::move(b).finish(b.crelu(b.input(0), "crelu"));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "negation and ReLU are counted as other ops"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_crelu_block() { return std::make_unique<CReluBlock>(); }

}  // namespace convscope::blocks
