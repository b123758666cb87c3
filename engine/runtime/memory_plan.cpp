#include "runtime/memory_plan.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace convscope::runtime {

std::int64_t arena_block_floats(std::int64_t floats) {
  return (floats + kArenaAlignFloats - 1) / kArenaAlignFloats * kArenaAlignFloats;
}

ArenaPlan plan_arena(const std::vector<ArenaRequest>& requests) {
  ArenaPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<std::size_t> order(requests.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return arena_block_floats(requests[x].floats) > arena_block_floats(requests[y].floats);
  });
  std::vector<std::size_t> placed;
  std::vector<std::pair<std::int64_t, std::int64_t>> busy;
  for (std::size_t v : order) {
    const ArenaRequest& r = requests[v];
    const std::int64_t size = arena_block_floats(r.floats);
    if (size == 0) continue;
    busy.clear();
    for (std::size_t q : placed) {
      const ArenaRequest& o = requests[q];
      if (o.first <= r.last && r.first <= o.last)
        busy.emplace_back(plan.offsets[q], plan.offsets[q] + arena_block_floats(o.floats));
    }
    std::sort(busy.begin(), busy.end());
    std::int64_t offset = 0;
    for (const auto& [b, e] : busy) {
      if (offset + size <= b) break;
      offset = std::max(offset, e);
    }
    plan.offsets[v] = offset;
    plan.floats = std::max(plan.floats, offset + size);
    placed.push_back(v);
  }
  return plan;
}

std::int64_t arena_lower_bound(const std::vector<ArenaRequest>& requests) {
  int last_step = -1;
  for (const ArenaRequest& r : requests) last_step = std::max(last_step, r.last);
  std::int64_t best = 0;
  for (int s = 0; s <= last_step; ++s) {
    std::int64_t live = 0;
    for (const ArenaRequest& r : requests)
      if (r.first <= s && s <= r.last) live += arena_block_floats(r.floats);
    best = std::max(best, live);
  }
  return best;
}

}  // namespace convscope::runtime
