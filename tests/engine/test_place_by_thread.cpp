// The memory plan on several threads (runtime/core_walk.h,
// plan_arena_by_thread): tensors moved so each thread writes lines it held
// last, with fewer bytes crossing between cores than the plan by size, no two
// live tensors sharing memory, the arena at most an eighth larger, and the
// same results as the plan by size.
#include <algorithm>
#include <cstddef>
#include <cstdint>
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
  return runtime::placement_cost(
      runtime::steady_traffic(s, runtime::schedule_touches(s), runtime::value_offsets(s), s.arena_floats));
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

TEST(PlaceByThread, AThreadsBandsWalkAsOneStretch) {
  // MobileNetV2 fused in row bands at two threads: each thread runs several
  // bands of a chain one after another; the walk sees one write per thread
  // covering all of them, and reads of the block input as the thread's own
  // pixels plus at most a halo on either side (not one halo per band).
  const ir::Graph g = testing::load_preset("mobilenet_v2");
  runtime::PlanOptions o;
  o.threads = 2;
  o.fuse_rows = true;
  o.kernels = &kernels::kernels_for(kernels::Isa::Portable);
  const auto s = Schedule::build(g, cost::analyze(g), o);
  ASSERT_TRUE(s.has_value());
  int banded = 0;
  for (std::size_t i = 0; i < s->steps.size(); ++i) {
    const auto& st = s->steps[i];
    if (!st.bottleneck || st.bottleneck->band_rows == 0) continue;
    const std::vector<runtime::PixelPart> p0 = s->row_parts(i, 0), p1 = s->row_parts(i, 1);
    if (p0.size() < 2) continue;
    ++banded;
    const runtime::StepTouches t = runtime::step_touches(*s, i);
    ASSERT_EQ(t.writes.size(), 2u) << st.info.name;
    const std::int64_t stride = runtime::pixel_stride(s->values, st.out);
    EXPECT_EQ(t.writes[0].lo, p0.front().out0 * stride) << st.info.name;
    EXPECT_EQ(t.writes[0].hi, p0.back().out1 * stride) << st.info.name;
    EXPECT_EQ(t.writes[1].lo, p1.front().out0 * stride) << st.info.name;
    int halos = 0;
    for (const runtime::Touch& r : t.reads) halos += r.halo && r.root == t.reads[0].root ? 1 : 0;
    EXPECT_LE(halos, 4) << st.info.name;  // above and below each thread's part, no more
  }
  EXPECT_GE(banded, 5);
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

/// CoreWalk against a float-by-float walk of the same rules on random touches:
/// the stretches it cuts, merges and finds must count exactly what a holder
/// per float would (up to rounding: it sums floats per holder class, the
/// brute force float by float).
TEST(PlaceByThread, CoreWalkCountsWhatAHolderPerFloatWould) {
  struct Holder {
    int writer = runtime::kNobody;
    std::uint64_t readers = 0;
    double touched = -1e300;
  };
  constexpr std::int64_t kFloats = 3000;
  std::uint64_t seed = 12345;
  auto rnd = [&](std::int64_t n) {  // [0, n)
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::int64_t>((seed >> 33) % static_cast<std::uint64_t>(n));
  };
  for (int threads : {2, 3}) {
    const double share = 1.0 / threads, others = static_cast<double>(threads - 1) / threads;
    auto bit = [](int t) { return std::uint64_t{1} << static_cast<unsigned>(t); };
    const std::vector<std::int64_t> offset{0, 700, 1900};  // three roots, 1000 floats each at most
    const std::vector<double> lost_after{runtime::kL2FitBytes, runtime::kL3FitBytes};
    runtime::CoreWalk walk(threads, lost_after);
    std::vector<Holder> h(kFloats + 1100);
    double now = 0;
    for (int step = 0; step < 300; ++step) {
      runtime::StepTouches st;
      auto touch = [&] {
        runtime::Touch t;
        t.root = static_cast<int>(rnd(3));
        t.lo = rnd(1000);
        t.hi = t.lo + rnd(1000 - t.lo + 1);
        t.density = rnd(3) == 0 ? 0.6 : 1.0;
        t.thread = static_cast<int>(rnd(threads));
        return t;
      };
      for (std::int64_t k = rnd(6); k > 0; --k) {
        runtime::Touch r = touch();
        r.halo = rnd(4) == 0;
        st.reads.push_back(r);
      }
      // Writes: one root, disjoint parts in thread order or reversed, some by every thread.
      const int root = static_cast<int>(rnd(3));
      std::int64_t at = rnd(200);
      const bool every = rnd(4) == 0;
      for (std::int64_t k = 1 + rnd(5); k > 0 && at < 1000; --k) {
        runtime::Touch w = touch();
        w.root = root;
        w.lo = at;
        w.hi = std::min<std::int64_t>(1000, at + rnd(300));
        at = w.hi + rnd(3);
        w.share = every ? share : 1.0;
        w.holder = every ? runtime::kEveryone : w.thread;
        st.writes.push_back(w);
      }
      if (rnd(2) == 0) std::reverse(st.writes.begin(), st.writes.end());
      st.out_root = root;
      st.out_lo = 0;
      st.out_hi = 1000;
      st.out_density = rnd(2) == 0 ? 1.0 : 0.5;
      const double step_bytes = static_cast<double>(rnd(3'000'000));

      // What each write would cost at another place (stale lines counted), on the state before the step.
      const std::int64_t elsewhere = offset[rnd(3)] + rnd(100);
      double expect_cost = 0;
      for (const auto& w : st.writes)
        for (std::int64_t x = elsewhere + w.lo; x < elsewhere + w.hi; ++x) {
          const Holder& f = h[static_cast<std::size_t>(x)];
          double c = (f.readers & ~bit(w.thread)) != 0 || (f.writer >= 0 && f.writer != w.thread) ? 1.0
                     : f.writer == runtime::kEveryone                                             ? others
                                                                                                  : 0.0;
          const double age = now - f.touched;
          c += age > runtime::kL3FitBytes ? 1.0 : age > runtime::kL2FitBytes ? 0.25 : 0.0;
          expect_cost += 4.0 * w.density * w.share * c;
        }
      // The expected counts, float by float.
      std::vector<double> read(threads, 0.0), halo(threads, 0.0), write(threads, 0.0), lost(2, 0.0);
      for (const auto& r : st.reads)
        for (std::int64_t x = offset[r.root] + r.lo; x < offset[r.root] + r.hi; ++x) {
          Holder& f = h[static_cast<std::size_t>(x)];
          if ((f.readers & bit(r.thread)) == 0)
            (r.halo ? halo : read)[r.thread] += 4.0 * r.density *
                                                (f.writer == runtime::kEveryone          ? others
                                                 : f.writer >= 0 && f.writer != r.thread ? 1.0
                                                                                         : 0.0);
          f.readers |= bit(r.thread);
          f.touched = now;
        }
      for (std::int64_t x = offset[root]; x < offset[root] + 1000; ++x)
        for (std::size_t k = 0; k < 2; ++k)
          if (now - h[static_cast<std::size_t>(x)].touched > lost_after[k]) lost[k] += st.out_density;
      for (const auto& w : st.writes)
        for (std::int64_t x = offset[w.root] + w.lo; x < offset[w.root] + w.hi; ++x) {
          const Holder& f = h[static_cast<std::size_t>(x)];
          write[w.thread] += 4.0 * w.density * w.share *
                             ((f.readers & ~bit(w.thread)) != 0 || (f.writer >= 0 && f.writer != w.thread) ? 1.0
                              : f.writer == runtime::kEveryone                                             ? others
                                                                                                           : 0.0);
        }
      for (const auto& w : st.writes)
        for (std::int64_t x = offset[w.root] + w.lo; x < offset[w.root] + w.hi; ++x)
          h[static_cast<std::size_t>(x)] = {w.holder, w.holder >= 0 ? bit(w.holder) : 0, now};
      now += step_bytes;

      // write_cost on the state before the step; the step's reads and lost lines before its writes.
      EXPECT_NEAR(walk.write_cost(st, elsewhere), expect_cost, 1e-9 * (1 + expect_cost)) << step;
      const runtime::StepTraffic& got = walk.step(st, offset, step_bytes);
      for (int t = 0; t < threads; ++t) {
        EXPECT_NEAR(got.read[t], read[t], 1e-9 * (1 + read[t])) << "step " << step << " thread " << t;
        EXPECT_NEAR(got.halo_read[t], halo[t], 1e-9 * (1 + halo[t])) << "step " << step << " thread " << t;
        EXPECT_NEAR(got.write[t], write[t], 1e-9 * (1 + write[t])) << "step " << step << " thread " << t;
      }
      for (std::size_t k = 0; k < 2; ++k) EXPECT_NEAR(got.out_lost[k], lost[k], 1e-9 * (1 + lost[k])) << step;
      if (::testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace convscope
