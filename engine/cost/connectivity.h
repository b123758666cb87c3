#pragma once
/// Channel connectivity of a lowered block: how many paths lead from each input
/// channel to each output channel through its group convolutions and
/// permutations. This is what the complementary condition of interleaved group
/// convolutions is about, computed from the ops rather than assumed.

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "ir/lowering.h"

namespace convscope::cost {

enum class Complementary {
  Strict,  ///< exactly one path between every input and output channel
  Loose,   ///< every pair connected, some by more than one path
  Broken,  ///< some output channel cannot see some input channel
};

std::string_view complementary_name(Complementary c);

struct Connectivity {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::vector<std::uint8_t> paths;  ///< out_channels x in_channels, row-major, saturating at kPathCountCap
  Complementary condition = Complementary::Strict;
  std::uint8_t min_paths = 0;
  std::uint8_t max_paths = 0;
  /// A pair (input channel, output channel) with no path, when Broken.
  std::optional<std::pair<std::int64_t, std::int64_t>> missing;

  [[nodiscard]] std::uint8_t at(std::int64_t out, std::int64_t in) const {
    return paths[static_cast<std::size_t>(out * in_channels + in)];
  }
};

/// Path counts saturate here: the condition only needs 0, 1 or more.
inline constexpr std::uint8_t kPathCountCap = 255;

/// Largest channel count for which connectivity is computed (the matrix is C x C).
inline constexpr std::int64_t kConnectivityChannelLimit = 4096;

/// Path counts from the lowering's input 0 to tensor `to`; nullopt when the
/// channel counts exceed kConnectivityChannelLimit.
std::optional<Connectivity> channel_connectivity(const ir::BlockLowering& lowering, ir::TensorRef to);

}  // namespace convscope::cost
