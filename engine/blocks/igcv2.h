#pragma once
/// IGCV2's balance condition (Xie et al. 2018): the parameter count of an
/// interleaved structured sparse block as a function of its branch sizes, and
/// the depth L that minimises it. Shared by the block kind and its tests.

#include <cstdint>
#include <optional>
#include <vector>

namespace convscope::blocks::igcv2 {

/// Weights of a block with C input channels, N outputs, a k x k channel-wise
/// convolution and 1x1 group convolutions of K_2..K_L channels per branch:
/// k^2*C + C*(K_2 + ... + K_{L-1}) + K_L*N.
std::int64_t weights(std::int64_t c, std::int64_t n, std::int64_t k, const std::vector<std::int64_t>& branches);

/// `parts` integers >= 2 whose product is `c` with the smallest sum (the most
/// balanced split), largest first; nullopt when c has fewer than `parts` prime
/// factors (so no such split exists).
std::optional<std::vector<std::int64_t>> balanced_branches(std::int64_t c, std::int64_t parts);

/// The depth with the fewest weights for a C -> C block under the strict
/// condition (branch sizes >= 2 multiplying to C); ties go to the shallower block.
struct Optimum {
  std::int64_t layers = 0;               ///< L, the channel-wise convolution included
  std::vector<std::int64_t> branches;    ///< K_2..K_L
  std::int64_t weights = 0;              ///< k^2*C + C*(K_2 + ... + K_L)
};
Optimum optimum(std::int64_t c, std::int64_t k);

}  // namespace convscope::blocks::igcv2
