#include "blocks/registry.h"

namespace convscope::blocks {

// One factory per block kind, each defined in its own file.
std::unique_ptr<BlockKind> make_input_block();
std::unique_ptr<BlockKind> make_conv_block();
std::unique_ptr<BlockKind> make_separable_block();
std::unique_ptr<BlockKind> make_fire_block();
std::unique_ptr<BlockKind> make_inception_block();
std::unique_ptr<BlockKind> make_igcv1_block();
std::unique_ptr<BlockKind> make_igcv2_block();
std::unique_ptr<BlockKind> make_igcv3_block();
std::unique_ptr<BlockKind> make_inverted_residual_block();
std::unique_ptr<BlockKind> make_depthwise_block();
std::unique_ptr<BlockKind> make_conv_transpose_block();
std::unique_ptr<BlockKind> make_upsample_block();
std::unique_ptr<BlockKind> make_pool_block();
std::unique_ptr<BlockKind> make_global_pool_block();
std::unique_ptr<BlockKind> make_fully_connected_block();
std::unique_ptr<BlockKind> make_add_block();
std::unique_ptr<BlockKind> make_concat_block();
std::unique_ptr<BlockKind> make_split_block();
std::unique_ptr<BlockKind> make_channel_shuffle_block();
std::unique_ptr<BlockKind> make_crelu_block();
std::unique_ptr<BlockKind> make_activation_block();
std::unique_ptr<BlockKind> make_batch_norm_block();
std::unique_ptr<BlockKind> make_scale_block();

Registry::Registry() {
  kinds_.push_back(make_input_block());
  // The efficient building blocks.
  kinds_.push_back(make_conv_block());
  kinds_.push_back(make_separable_block());
  kinds_.push_back(make_fire_block());
  kinds_.push_back(make_inception_block());
  kinds_.push_back(make_igcv1_block());
  kinds_.push_back(make_igcv2_block());
  kinds_.push_back(make_igcv3_block());
  kinds_.push_back(make_inverted_residual_block());
  // Primitive layers for whole networks.
  kinds_.push_back(make_depthwise_block());
  kinds_.push_back(make_conv_transpose_block());
  kinds_.push_back(make_upsample_block());
  kinds_.push_back(make_pool_block());
  kinds_.push_back(make_global_pool_block());
  kinds_.push_back(make_fully_connected_block());
  kinds_.push_back(make_add_block());
  kinds_.push_back(make_concat_block());
  kinds_.push_back(make_split_block());
  kinds_.push_back(make_channel_shuffle_block());
  kinds_.push_back(make_crelu_block());
  kinds_.push_back(make_activation_block());
  kinds_.push_back(make_batch_norm_block());
  kinds_.push_back(make_scale_block());
}

const Registry& Registry::builtin() {
  static const Registry registry;
  return registry;
}

const BlockKind* Registry::find(std::string_view name) const {
  for (const auto& k : kinds_)
    if (k->name() == name) return k.get();
  return nullptr;
}

}  // namespace convscope::blocks
