// The arena planner on its own (runtime/memory_plan.h): no two tensors live
// at the same step share memory, memory is reused once a tensor is dead, and
// on a chain the plan reaches the lower bound.
#include <random>

#include <gtest/gtest.h>

#include "runtime/memory_plan.h"

namespace convscope::runtime {
namespace {

/// Fails the test if two requests live at the same step overlap in the arena,
/// or if a block runs past the arena or is misaligned.
void expect_valid(const std::vector<ArenaRequest>& r, const ArenaPlan& p) {
  ASSERT_EQ(p.offsets.size(), r.size());
  for (std::size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(p.offsets[i] % kArenaAlignFloats, 0) << "request " << i;
    EXPECT_LE(p.offsets[i] + arena_block_floats(r[i].floats), p.floats) << "request " << i;
    for (std::size_t j = i + 1; j < r.size(); ++j) {
      if (r[i].floats == 0 || r[j].floats == 0) continue;
      const bool same_time = r[i].first <= r[j].last && r[j].first <= r[i].last;
      const bool same_place = p.offsets[i] < p.offsets[j] + arena_block_floats(r[j].floats) &&
                              p.offsets[j] < p.offsets[i] + arena_block_floats(r[i].floats);
      EXPECT_FALSE(same_time && same_place) << "requests " << i << " and " << j << " overlap";
    }
  }
}

TEST(MemoryPlan, EmptyAndZeroSized) {
  EXPECT_EQ(plan_arena({}).floats, 0);
  const std::vector<ArenaRequest> r{{0, 0, 3}, {5, 1, 2}};
  const ArenaPlan p = plan_arena(r);
  EXPECT_EQ(p.floats, 16);  // 5 floats take one aligned block; the empty one takes nothing
  EXPECT_EQ(p.offsets[0], 0);
}

TEST(MemoryPlan, AChainReusesDeadTensors) {
  // x0 -> x1 -> x2 -> x3: each step reads one tensor and writes the next, so
  // at most two are live at once and x2 can take x0's place.
  const std::vector<ArenaRequest> r{{1600, 0, 1}, {800, 1, 2}, {1600, 2, 3}, {160, 3, 4}};
  const ArenaPlan p = plan_arena(r);
  expect_valid(r, p);
  EXPECT_EQ(p.floats, 2400);
  EXPECT_EQ(p.floats, arena_lower_bound(r));
  EXPECT_EQ(p.offsets[0], p.offsets[2]);
}

TEST(MemoryPlan, LargestFirstAtTheLowestFreeOffset) {
  // A long-lived small tensor and two short-lived large ones that never meet:
  // the large ones share offset 0, the small one goes above them.
  const std::vector<ArenaRequest> r{{64, 0, 9}, {1024, 1, 3}, {2048, 4, 6}};
  const ArenaPlan p = plan_arena(r);
  expect_valid(r, p);
  EXPECT_EQ(p.offsets[2], 0);
  EXPECT_EQ(p.offsets[1], 0);
  EXPECT_EQ(p.offsets[0], 2048);
  EXPECT_EQ(p.floats, 2048 + 64);
}

TEST(MemoryPlan, RandomLifetimesNeverOverlapAndStayNearTheBound) {
  std::mt19937 rng(5);
  for (int round = 0; round < 200; ++round) {
    std::vector<ArenaRequest> r;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      const int first = static_cast<int>(rng() % 30);
      r.push_back({static_cast<std::int64_t>(rng() % 5000), first, first + static_cast<int>(rng() % 6)});
    }
    const ArenaPlan p = plan_arena(r);
    expect_valid(r, p);
    const std::int64_t bound = arena_lower_bound(r);
    EXPECT_GE(p.floats, bound);
    // Greedy by size is not optimal, but on lifetimes like a network's it
    // stays within a small factor of the bound.
    EXPECT_LE(p.floats, 2 * bound) << "round " << round;
  }
}

TEST(MemoryPlan, DeterministicForTies) {
  const std::vector<ArenaRequest> r{{256, 0, 2}, {256, 1, 3}, {256, 2, 4}};
  const ArenaPlan a = plan_arena(r), b = plan_arena(r);
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.offsets[0], 0);  // equal sizes keep the requests' order
  EXPECT_EQ(a.offsets[1], 256);
  EXPECT_EQ(a.offsets[2], 512);
}

}  // namespace
}  // namespace convscope::runtime
