// Statistics, the profiler's contract (counts, progress, cancel) and the
// calibration's roofline arithmetic and cache.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "profile/calibration.h"
#include "profile/layers.h"
#include "profile/profiler.h"
#include "profile/stats.h"
#include "test_util.h"

namespace convscope {
namespace {

TEST(Stats, ExactValues) {
  const auto s = profile::summarize({5, 1, 4, 2, 3});
  EXPECT_EQ(s.n, 5);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.p90, 5);  // nearest rank: ceil(0.9 * 5) = 5th
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_NEAR(s.cv, std::sqrt(2.5) / 3.0, 1e-12);
  const auto e = profile::summarize({4, 1, 3, 2});
  EXPECT_DOUBLE_EQ(e.median, 2.5);
  std::vector<double> ten;
  for (int i = 1; i <= 10; ++i) ten.push_back(i);
  EXPECT_DOUBLE_EQ(profile::summarize(ten).p90, 9);
  EXPECT_EQ(profile::summarize({}).n, 0);
  EXPECT_DOUBLE_EQ(profile::summarize({7}).cv, 0);
}

TEST(Calibration, RooflineArithmetic) {
  profile::Calibration c;
  c.cores = 2;
  c.peak_gflops_1 = 100;
  c.peak_gflops_all = 200;
  c.cache_gbps = 100;
  c.l3_gbps = 50;
  c.dram_gbps = 20;
  // Compute bound: 1e6 FLOPs at 100 GFLOP/s = 10 us; 1e3 bytes at 100 GB/s = 10 ns.
  EXPECT_DOUBLE_EQ(c.roofline_ns(1e6, 1e3, 1), 1e4);
  EXPECT_EQ(c.bound(1e6, 1e3, 1), "compute");
  EXPECT_DOUBLE_EQ(c.roofline_ns(1e6, 1e3, 2), 5e3);
  // DRAM bound: 64 MiB at 20 GB/s.
  const double big = 64.0 * 1024 * 1024;
  EXPECT_DOUBLE_EQ(c.roofline_ns(1e3, big, 1), big / 20);
  EXPECT_EQ(c.bound(1e3, big, 1), "DRAM");
  EXPECT_EQ(c.bound(1e3, 4.0 * 1024 * 1024, 1), "L3");
  EXPECT_EQ(c.bound(1e3, 512.0 * 1024, 1), "L2");
}

// A Winograd step runs a quarter of the multiplies its layer counts: the
// layer's roofline bound, given the schedule, is what the step runs (else a
// "floor" above the measured time), and the other layers' stay as counted.
TEST(Calibration, OpBoundsFollowWhatTheScheduleRuns) {
  profile::Calibration c;
  c.cores = 1;
  c.peak_gflops_1 = c.peak_gflops_all = 100;
  c.cache_gbps = c.l3_gbps = c.dram_gbps = 100;
  const ir::Graph g = testing::load_preset("squeezenet1_1");
  const auto a = cost::analyze(g);
  const auto s = runtime::Schedule::build(g, a, {});
  ASSERT_TRUE(s.has_value());
  const auto counted = profile::predict_ops_ns(a, c, 1);
  const auto run = profile::predict_ops_ns(a, c, 1, &*s);
  int winograd = 0, same = 0;
  for (const auto& st : s->steps) {
    const auto i = static_cast<std::size_t>(st.info.ops.front());
    if (st.info.kind == runtime::StepKind::Winograd) {
      ++winograd;
      // 36 products of 144 (0.25), plus the transforms and the clipped last
      // tiles (55 x 55 computed as 56 x 56, 13 x 13 as 16 x 16).
      EXPECT_GT(run[i] / counted[i], 0.25) << st.info.name;
      EXPECT_LT(run[i] / counted[i], 0.45) << st.info.name;
    } else {
      same += run[i] == counted[i];
    }
  }
  EXPECT_EQ(winograd, 8);  // every fire's 3x3 expand
  EXPECT_EQ(same, static_cast<int>(s->steps.size()) - 8);
}

/// A preset at 64 x 64 pixels, planned as a run plans it.
runtime::Plan plan_at_64(const std::string& preset) {
  ir::Graph g = testing::load_preset(preset);
  g.settings.resolution = 64;
  return runtime::Plan::build(g, cost::analyze(g)).value();
}

/// A quick profile: one warm-up, `runs` runs per phase, no minimum time.
profile::ProfileOptions quick(int runs) {
  profile::ProfileOptions o;
  o.warmup = 1;
  o.min_runs = runs;
  o.min_seconds = 0.0;
  return o;
}

TEST(Profiler, TimesEveryStepAndTheWholeNetwork) {
  auto plan = plan_at_64("mobilenet_v3_small");
  profile::ProfileOptions o = quick(5);
  std::vector<double> progress;
  o.progress = [&](double f) { progress.push_back(f); };
  const auto r = profile::profile_plan(plan, o);
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.network_ns.n, 5);
  ASSERT_EQ(r.step_ns.size(), plan.n_steps());
  for (const auto& s : r.step_ns) {
    EXPECT_EQ(s.n, 5);
    EXPECT_GT(s.median, 0);
    EXPECT_LE(s.min, s.median);
    EXPECT_LE(s.median, s.p90);
  }
  EXPECT_GT(r.network_ns.median, 0);
  EXPECT_GT(r.sum_of_step_medians_ns, 0);
  ASSERT_FALSE(progress.empty());
  EXPECT_DOUBLE_EQ(progress.back(), 1.0);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_FALSE(r.isa.empty());
  EXPECT_FALSE(r.cpu.empty());
}

// The latency calibration's kernel probes time their steps only; sweeps time
// whole runs only. Progress still runs 0 -> 1 in order.
TEST(Profiler, StepsOnlyAndWholeNetworkOnly) {
  auto plan = plan_at_64("mobilenet_v3_small");
  profile::ProfileOptions o = quick(4);
  std::vector<double> progress;
  o.progress = [&](double f) { progress.push_back(f); };
  o.steps_only = true;
  const auto steps = profile::profile_plan(plan, o);
  EXPECT_EQ(steps.network_ns.n, 0);
  EXPECT_EQ(steps.network_ns.median, 0);
  ASSERT_EQ(steps.step_ns.size(), plan.n_steps());
  for (std::size_t s = 0; s < plan.n_steps(); ++s) {
    if (!plan.step(s).no_work) {
      EXPECT_EQ(steps.step_ns[s].n, 4) << s;
    }
  }
  ASSERT_EQ(progress.size(), 5u);  // one per run and the final 1.0, none for a whole-network phase
  EXPECT_DOUBLE_EQ(progress.back(), 1.0);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));

  o.steps_only = false;
  o.whole_network_only = true;
  o.progress = nullptr;
  const auto whole = profile::profile_plan(plan, o);
  EXPECT_EQ(whole.network_ns.n, 4);
  EXPECT_GT(whole.network_ns.median, 0);
  EXPECT_TRUE(whole.step_ns.empty());
}

// ShuffleNet V2's in-place concats and slices read in place have no work: runs
// skip them and the profiler does not time them (median 0, no samples).
TEST(Profiler, StepsWithNoWorkAreNotTimed) {
  auto plan = plan_at_64("shufflenet_v2_x1_0");
  const auto r = profile::profile_plan(plan, quick(3));
  int skipped = 0;
  for (std::size_t s = 0; s < plan.n_steps(); ++s) {
    if (plan.step(s).no_work) {
      ++skipped;
      EXPECT_EQ(r.step_ns[s].n, 0) << plan.step(s).name;
      EXPECT_EQ(r.step_ns[s].median, 0) << plan.step(s).name;
    } else {
      EXPECT_EQ(r.step_ns[s].n, 3) << plan.step(s).name;
    }
  }
  EXPECT_EQ(skipped, 13 + 16);  // each basic unit's split1 read in place; every unit's concat written in place
}

TEST(Profiler, CancelFromAnotherThreadStopsEarly) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  g.settings.resolution = 96;
  const auto a = cost::analyze(g);
  auto plan = runtime::Plan::build(g, a);
  ASSERT_TRUE(plan.has_value());
  std::atomic<bool> cancel{false};
  profile::ProfileOptions o;
  o.min_seconds = 60;  // would run a minute
  o.cancel = &cancel;
  o.progress = [&](double f) {
    if (f > 0.02) cancel = true;  // stands in for a button press on the GUI thread
  };
  const auto r = profile::profile_plan(*plan, o);
  EXPECT_TRUE(r.cancelled);
  // It stopped long before the minute it was asked for: the runs it timed add up
  // to a fraction of it (whatever the speed of this CPU).
  EXPECT_LT(r.network_ns.n * r.network_ns.mean, 0.5 * 60e9) << r.network_ns.n << " runs";
}

TEST(Calibration, MeasuresOnceThenUsesTheCache) {
  const auto dir = std::filesystem::temp_directory_path() / "convscope_test_calibration";
  std::filesystem::remove_all(dir);
  ::setenv("CONVSCOPE_CACHE_DIR", dir.c_str(), 1);
  const auto& kt = kernels::best_kernels();
  auto first = profile::load_or_measure(kt);
  ASSERT_TRUE(first.has_value());
  EXPECT_GT(first->peak_gflops_1, 0.1);
  EXPECT_GE(first->peak_gflops_all, first->peak_gflops_1 * 0.5);
  EXPECT_GT(first->dram_gbps, 0.1);
  EXPECT_GT(first->cache_gbps, 0.1);
  EXPECT_TRUE(std::filesystem::exists(profile::cache_path()));
  auto second = profile::load_or_measure(kt);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->measured_at, first->measured_at);
  EXPECT_EQ(second->peak_gflops_1, first->peak_gflops_1);
  ::unsetenv("CONVSCOPE_CACHE_DIR");
  std::filesystem::remove_all(dir);
}

// Issue 15.8: a calibration is trusted only while no step runs faster than its
// peak; a step above it (by more than 5 %) has the ceilings measured again.
TEST(Calibration, AStepAboveThePeakIsCaughtAndRemeasured) {
  profile::ProfileSummary s;
  s.peak_gflops = 100;
  auto layer = [](const char* name, std::int64_t flops, double ns) {
    profile::LayerTiming l;
    l.block = name;
    l.step = "conv";
    l.flops = flops;
    l.median_ns = ns;
    return l;
  };
  s.layers = {layer("a", 1'000'000, 20'000), layer("b", 2'000'000, 20'400), layer("c", 0, 500)};
  auto c = profile::check_peak(s);
  EXPECT_EQ(c.layer, 1);
  EXPECT_NEAR(c.gflops, 2e6 / 20'400, 1e-9);  // 98.04 GFLOP/s
  EXPECT_FALSE(c.beaten());
  s.layers[1].median_ns = 19'100;  // 104.7 GFLOP/s: within 5 %
  EXPECT_FALSE(profile::check_peak(s).beaten());
  EXPECT_FALSE(profile::recalibrate_if_beaten(s, kernels::best_kernels()).has_value());
  s.layers[1].median_ns = 18'000;  // 111.1 GFLOP/s
  c = profile::check_peak(s);
  EXPECT_TRUE(c.beaten());

  // Measured again into a scratch cache: a real peak, and a note naming the step.
  const auto dir = std::filesystem::temp_directory_path() / "convscope_test_recalibration";
  std::filesystem::remove_all(dir);
  ::setenv("CONVSCOPE_CACHE_DIR", dir.c_str(), 1);
  auto again = profile::recalibrate_if_beaten(s, kernels::best_kernels());
  ::unsetenv("CONVSCOPE_CACHE_DIR");
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(again.has_value());
  EXPECT_GT(again->calibration.peak_gflops_1, 0.1);
  EXPECT_NE(again->note.find("step b/conv ran at 111.1 GFLOP/s, above the calibrated peak of 100.0"), std::string::npos)
      << again->note;
}

}  // namespace
}  // namespace convscope
