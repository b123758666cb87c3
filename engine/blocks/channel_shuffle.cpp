// Channel shuffle: view channels as groups x (C/groups), transpose, flatten.
#include "blocks/common.h"

namespace convscope::blocks {
namespace {

class ChannelShuffleBlock final : public BlockKind {
 public:
  ChannelShuffleBlock()
      : BlockKind({.name = "channel_shuffle",
                   .title = "Channel shuffle",
                   .category = Category::Layer,
                   .summary = "Interleave the channels of g groups (ShuffleNet, IGC permutation)",
                   .reference = "Zhang et al., ShuffleNet, CVPR 2018",
                   .params = {int_param("groups", 2, 1, kDimLimit, "g: number of channel groups")}}) {}

  void check(const BlockContext& c, Checks& checks) const override {
    check_divides(c.i("groups"), c.in().c, "groups", "input channels", checks);
  }

  ir::BlockLowering lower(const BlockContext& c) const override {
    ir::OpBuilder b({c.in()});
    return std::move(b).finish(b.channel_shuffle(b.input(0), c.i("groups"), "shuffle"));
  }

  Formula formula(const BlockContext&) const override {
    return {.symbolic = "0", .filled = "0", .legend = "a permutation moves data but has no arithmetic"};
  }
};

}  // namespace

std::unique_ptr<BlockKind> make_channel_shuffle_block() { return std::make_unique<ChannelShuffleBlock>(); }

}  // namespace convscope::blocks
