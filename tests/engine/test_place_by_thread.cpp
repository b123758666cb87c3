// The memory plan on several threads (runtime/core_walk.h,
// plan_arena_by_thread): tensors moved so each thread writes lines it held
// last, with fewer bytes crossing between cores than the plan by size, no two
// live tensors sharing memory, the arena at most an eighth larger, and the
// same results as the plan by size.
#include <algorithm>
#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

#include "cost/analysis.h"
#include "kernels/kernels.h"
#include "profile/core_traffic.h"
#include "runtime/core_walk.h"
#include "runtime/plan.h"
#include "runtime/schedule.h"
#include "test_util.h"

namespace convscope {
namespace {

using runtime::Schedule;

Schedule build(const ir::Graph& g, int threads, bool by_thread) {
  runtime::PlanOptions o;
  o.threads = threads;
  o.place_by_thread = by_thread;
  o.kernels = &kernels::kernels_for(kernels::Isa::Portable);
  auto s = Schedule::build(g, cost::analyze(g), o);
  EXPECT_TRUE(s.has_value());
  return s ? std::move(*s) : Schedule{};
}

/// Fails if two values with memory of their own, live at the same step, overlap.
void expect_disjoint(const Schedule& s, const std::string& what) {
  for (std::size_t a = 0; a < s.values.size(); ++a)
    for (std::size_t b = a + 1; b < s.values.size(); ++b) {
      const runtime::ScheduledValue &x = s.values[a], &y = s.values[b];
      if (x.parent >= 0 || y.parent >= 0) continue;
      auto floats = [&](const runtime::ScheduledValue& v) {
        return s.batch * v.shape.h * v.shape.w * (v.shape.c + v.pad_c);
      };
      if (floats(x) == 0 || floats(y) == 0) continue;
      const bool same_time = x.first <= y.last && y.first <= x.last;
      const bool same_place = x.offset < y.offset + floats(y) && y.offset < x.offset + floats(x);
      EXPECT_FALSE(same_time && same_place) << what << ": values " << a << " and " << b;
      EXPECT_EQ(x.offset % runtime::kArenaAlignFloats, 0) << what;
      EXPECT_LE(x.offset + floats(x), s.arena_floats) << what;
    }
}

double cost(const Schedule& s) {
  return runtime::placement_cost(s, runtime::schedule_touches(s), runtime::value_offsets(s));
}

TEST(PlaceByThread, EveryPresetCostsLessInAtMostAnEighthMore) {
  for (const std::string& name : testing::preset_names()) {
    const ir::Graph g = testing::load_preset(name);
    for (int threads : {2, 3, 4}) {
      const std::string what = name + " at " + std::to_string(threads) + " threads";
      const Schedule by_size = build(g, threads, false), moved = build(g, threads, true);
      expect_disjoint(moved, what);
      EXPECT_LE(moved.arena_floats, by_size.arena_floats + runtime::arena_block_floats(by_size.arena_floats / 8))
          << what;
      // Fewer bytes written over other cores' lines or on lines the caches
      // lost, or the plan by size itself.
      const double before = cost(by_size), after = cost(moved);
      ASSERT_GT(before, 0.0) << what;
      if (after == before)
        for (std::size_t v = 0; v < moved.values.size(); ++v)
          EXPECT_EQ(moved.values[v].offset, by_size.values[v].offset) << what;
      else
        EXPECT_LT(after, before) << what;
    }
    // One thread: nothing crosses, nothing moves.
    EXPECT_EQ(build(g, 1, true).arena_floats, build(g, 1, false).arena_floats) << name;
  }
}

TEST(PlaceByThread, MobileNetV1DepthwiseWritesWhereItsThreadsWere) {
  // Its first depthwise (112 x 112 x 32, rows split in halves) wrote each
  // thread's half over the other's lines of the stem's output, 1.6 MB before
  // it: 602 KB on the busiest thread. Placed by thread, each half lands where
  // the same thread wrote the stem's, but for less than one row of it (the
  // stem's rows split in GEMM row tiles, not in halves of whole rows).
  const ir::Graph g = testing::load_preset("mobilenet_v1");
  const Schedule by_size = build(g, 2, false), moved = build(g, 2, true);
  std::size_t dw = 0;
  while (dw < moved.steps.size() && moved.steps[dw].info.kind != runtime::StepKind::Depthwise) ++dw;
  ASSERT_LT(dw, moved.steps.size());
  EXPECT_GT(profile::core_traffic(by_size)[dw].write_bytes, 500e3);
  EXPECT_LT(profile::core_traffic(moved)[dw].write_bytes, 112.0 * 32 * 4);
}

TEST(PlaceByThread, SameResultsAsThePlanBySize) {
  // Branches, channel splits, concats written in place, shortcuts.
  for (const char* name : {"shufflenet_v2_x1_0", "mobilenet_v2", "squeezenet1_1_bypass"}) {
    const ir::Graph g = testing::load_preset(name);
    const cost::Analysis a = cost::analyze(g);
    std::vector<std::vector<float>> outputs[2];
    for (int by_thread = 0; by_thread < 2; ++by_thread) {
      runtime::PlanOptions o;
      o.threads = 2;
      o.place_by_thread = by_thread == 1;
      auto plan = runtime::Plan::build(g, a, o);
      ASSERT_TRUE(plan.has_value()) << name;
      for (int run = 0; run < 2; ++run) {  // the second from what the first left in the arena
        for (std::size_t i = 0; i < plan->n_inputs(); ++i) {
          const ir::Shape sh = plan->input_shape(i);
          float* x = plan->input(i);
          for (std::int64_t k = 0; k < plan->batch() * sh.h * sh.w * sh.c; ++k)
            x[k] = static_cast<float>((k * 7919) % 255) / 255.0f - 0.5f;
        }
        plan->run();
      }
      for (std::size_t i = 0; i < plan->n_outputs(); ++i) {
        const ir::Shape sh = plan->output_shape(i);
        const float* y = plan->output(i);
        outputs[by_thread].emplace_back(y, y + plan->batch() * sh.h * sh.w * sh.c);
      }
    }
    ASSERT_EQ(outputs[0].size(), outputs[1].size()) << name;
    for (std::size_t i = 0; i < outputs[0].size(); ++i)
      EXPECT_EQ(outputs[0][i], outputs[1][i]) << name << " output " << i;
  }
}

}  // namespace
}  // namespace convscope
