// Stand-alone inference batch norm: per-channel scale and shift.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class BatchNormBlock final : public BlockKind {
 public:
  BatchNormBlock()
      : BlockKind({.name = "batch_norm",
                   .title = "Batch norm",
                   .category = Category::Layer,
                   .summary = "Per-channel scale and shift (2 parameters per channel)",
                   .reference = "Ioffe and Szegedy, Batch Normalization, ICML 2015",
                   .params = {}}) {}

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    return std::move(b).finish(b.batch_norm(b.input(0), "bn"));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "batch norm is counted as other ops, not multiply-adds"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_batch_norm_block() { return std::make_unique<BatchNormBlock>(); }

}  // namespace convscope::blocks
