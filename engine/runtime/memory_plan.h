#pragma once
/// Where each tensor of a plan lives in the one arena: a pure function of the
/// tensors' sizes and live ranges, with no knowledge of steps or kernels, so
/// it can be tested (and replaced) on its own.

#include <cstdint>
#include <vector>

namespace convscope::runtime {

/// Floats of alignment for every block in the arena (64 bytes: a cache line,
/// a whole AVX-512 vector).
inline constexpr std::int64_t kArenaAlignFloats = 16;

/// One tensor to place: its size, and the steps during which it is live
/// (first and last inclusive; two tensors whose ranges share a step may not
/// share memory). A tensor of size 0 gets offset 0 and takes no space.
struct ArenaRequest {
  std::int64_t floats = 0;
  int first = 0, last = 0;
};

struct ArenaPlan {
  std::vector<std::int64_t> offsets;  ///< floats into the arena, one per request, multiples of kArenaAlignFloats
  std::int64_t floats = 0;            ///< the arena's size
};

/// Sizes rounded up to kArenaAlignFloats.
std::int64_t arena_block_floats(std::int64_t floats);

/// Places every request: largest first, each at the lowest aligned offset
/// that overlaps no tensor already placed whose live range meets its own
/// (greedy by size, as TFLite's and ONNX Runtime's planners do). Ties keep
/// the requests' order, so the result is deterministic.
ArenaPlan plan_arena(const std::vector<ArenaRequest>& requests);

/// The largest total of tensors live at one step: a lower bound of any plan's arena.
std::int64_t arena_lower_bound(const std::vector<ArenaRequest>& requests);

}  // namespace convscope::runtime
