// Lines that move between cores on several threads (profile/core_traffic.h):
// who wrote and who read each part of the arena, as the executor splits steps.
#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "cost/analysis.h"
#include "io/graph_json.h"
#include "kernels/kernels.h"
#include "profile/core_traffic.h"
#include "profile/latency_model.h"
#include "runtime/schedule.h"
#include "test_util.h"

namespace convscope {
namespace {

using runtime::StepKind;
using runtime::ThreadSplit;

/// Two 1x1 convolutions over 28x28 pixels (each split by rows on two threads),
/// a global pool (on the calling thread) and a classifier of one row (split by
/// columns).
constexpr const char* kGraph = R"({"format": "convscope-graph", "version": 1, "name": "traffic",
  "blocks": [{"id": "input", "kind": "input", "height": 28, "width": 28, "channels": 64},
             {"id": "c1", "kind": "conv", "inputs": ["input"], "out": 256, "kernel": 1},
             {"id": "c2", "kind": "conv", "inputs": ["c1"], "out": 256, "kernel": 1},
             {"id": "pool", "kind": "global_pool", "inputs": ["c2"]},
             {"id": "fc", "kind": "fc", "inputs": ["pool"], "out": 1000}]})";

runtime::Schedule schedule(int threads, const char* graph = kGraph) {
  auto g = io::graph_from_json(graph);
  EXPECT_TRUE(g.has_value());
  runtime::PlanOptions o;
  o.threads = threads;
  o.kernels = &kernels::kernels_for(kernels::Isa::Portable);
  auto s = runtime::Schedule::build(*g, cost::analyze(*g), o);
  EXPECT_TRUE(s.has_value());
  return s ? std::move(*s) : runtime::Schedule{};
}

std::size_t step_of(const runtime::Schedule& s, StepKind kind, int nth = 0) {
  for (std::size_t i = 0; i < s.steps.size(); ++i)
    if (s.steps[i].info.kind == kind && nth-- == 0) return i;
  ADD_FAILURE() << "no such step";
  return 0;
}

TEST(CoreTraffic, NoneOnOneThread) {
  const runtime::Schedule s = schedule(1);
  for (std::size_t i = 0; i < s.steps.size(); ++i) EXPECT_EQ(s.thread_split(i), ThreadSplit::One);
  for (const profile::CoreTraffic& t : profile::core_traffic(s)) {
    EXPECT_EQ(t.read_bytes, 0.0);
    EXPECT_EQ(t.write_bytes, 0.0);
  }
}

// Placing buffers by thread walks the plan it keeps; core_traffic takes that
// walk's counts, which must be what walking the laid-out schedule again gives.
TEST(CoreTraffic, ThePlacementsWalkIsTheSchedulesWalk) {
  for (const char* name : {"squeezenet1_1", "mobilenet_v3_small", "shufflenet_v2_x1_0"}) {
    const ir::Graph g = testing::load_preset(name);
    runtime::PlanOptions o;
    o.threads = 2;
    auto s = runtime::Schedule::build(g, cost::analyze(g), o);
    ASSERT_TRUE(s.has_value()) << name;
    ASSERT_TRUE(s->traffic) << name;
    const auto kept = profile::core_traffic(*s);
    s->traffic.reset();
    const auto walked = profile::core_traffic(*s);
    ASSERT_EQ(kept.size(), walked.size());
    double cross = 0;
    for (std::size_t i = 0; i < kept.size(); ++i) {
      EXPECT_EQ(kept[i].read_bytes, walked[i].read_bytes) << name << " step " << i;
      EXPECT_EQ(kept[i].halo_read_bytes, walked[i].halo_read_bytes) << name << " step " << i;
      EXPECT_EQ(kept[i].write_bytes, walked[i].write_bytes) << name << " step " << i;
      EXPECT_EQ(kept[i].out_l2_lost, walked[i].out_l2_lost) << name << " step " << i;
      EXPECT_EQ(kept[i].out_l3_lost, walked[i].out_l3_lost) << name << " step " << i;
      cross += walked[i].read_bytes + walked[i].write_bytes;
    }
    EXPECT_GT(cross, 0.0) << name;  // two threads do move lines between cores
  }
}

TEST(CoreTraffic, FollowsWhoWroteAndWhoReadEachPart) {
  const runtime::Schedule s = schedule(2);
  const std::size_t c1 = step_of(s, StepKind::Gemm, 0), c2 = step_of(s, StepKind::Gemm, 1);
  const std::size_t pool = step_of(s, StepKind::GlobalPool), fc = step_of(s, StepKind::Gemm, 2);
  ASSERT_EQ(s.thread_split(c1), ThreadSplit::Rows);
  ASSERT_EQ(s.thread_split(c2), ThreadSplit::Rows);
  ASSERT_EQ(s.thread_split(pool), ThreadSplit::Rows);   // each thread pools the rows it wrote
  ASSERT_EQ(s.thread_split(fc), ThreadSplit::Columns);  // one row: each thread its columns
  const auto t = profile::core_traffic(s);
  const double half = 28.0 * 28 * 256 * 4 / 2;  // the second thread's pixels of c2's output
  // c2 reads the rows each thread wrote in c1.
  EXPECT_EQ(t[c2].read_bytes, 0.0);
  // The pool's threads read their own rows: at most the pixels of a GEMM row
  // tile across the boundary (c2 splits its pixels by tiles, the pool by rows).
  EXPECT_LT(t[pool].read_bytes, half / 50);
  // So in the next run the second thread writes its half of c2 again over fewer
  // lines another core read than the whole half a pool on one thread fetched
  // (what remains depends on the arena).
  EXPECT_LT(t[c2].write_bytes, half);
  // The classifier's second thread reads the whole pooled vector the first wrote.
  EXPECT_DOUBLE_EQ(t[fc].read_bytes, 256.0 * 4);
  // (c1's reads depend on the arena: the input's memory holds c2's output too.)
}

TEST(CoreTraffic, AreFeaturesOfEveryKind) {
  // The classifier's second thread reads the pooled vector the first wrote.
  const runtime::Schedule s = schedule(2);
  const std::size_t fc = step_of(s, StepKind::Gemm, 2);
  const auto names = profile::feature_names(StepKind::Gemm, true);
  const auto at = static_cast<std::size_t>(
      std::find(names.begin(), names.end(), "bytes read from lines another core wrote (busiest thread)") -
      names.begin());
  ASSERT_LT(at, names.size());
  const profile::StepFeatures f = profile::step_features(s, fc);
  EXPECT_DOUBLE_EQ(f.x[at], profile::core_traffic(s)[fc].read_bytes);
  EXPECT_GT(f.x[at], 0.0);
}

/// Two 3x3 depthwise convolutions over 56 x 56 x 64: each splits its output
/// rows 28 / 28 on two threads, and a window reads a row beyond its own.
constexpr const char* kDepthwiseChain = R"({"format": "convscope-graph", "version": 1, "name": "halo",
  "blocks": [{"id": "input", "kind": "input", "height": 56, "width": 56, "channels": 64},
             {"id": "dw1", "kind": "depthwise", "inputs": ["input"], "activation": "none"},
             {"id": "dw2", "kind": "depthwise", "inputs": ["dw1"], "activation": "none"}]})";

TEST(CoreTraffic, WindowsReadTheHaloRowTheNeighbourWrote) {
  const runtime::Schedule s = schedule(2, kDepthwiseChain);
  const std::size_t dw1 = step_of(s, StepKind::Depthwise, 0), dw2 = step_of(s, StepKind::Depthwise, 1);
  ASSERT_EQ(s.thread_split(dw2), ThreadSplit::Rows);
  // Each thread's rows and the input rows its windows read.
  const auto first = s.row_parts(dw2, 0), second = s.row_parts(dw2, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].out0, 0);
  EXPECT_EQ(first[0].out1, 28 * 56);
  EXPECT_EQ(first[0].in1, 29 * 56);  // row 28 is the second thread's
  EXPECT_EQ(second[0].in0, 27 * 56);
  EXPECT_EQ(second[0].out1, 56 * 56);
  const auto t = profile::core_traffic(s);
  const double row = 56.0 * 64 * 4;
  // dw2 reads one row of dw1's output that the other core wrote, a halo row
  // (counted apart from lines streamed in whole)...
  EXPECT_DOUBLE_EQ(t[dw2].halo_read_bytes, row);
  EXPECT_EQ(t[dw2].read_bytes, 0.0);
  // ...and in the next run dw1 writes that row again, over the reader's copy.
  EXPECT_DOUBLE_EQ(t[dw1].write_bytes, row);
}

/// A depthwise convolution after a 1x1 convolution split by row tiles: the
/// halo rows are its own feature, the GEMM's reads have none.
TEST(CoreTraffic, HaloRowsAreAFeatureOfWindowKinds) {
  constexpr const char* kPwDw = R"({"format": "convscope-graph", "version": 1, "name": "pw-dw",
    "blocks": [{"id": "input", "kind": "input", "height": 28, "width": 28, "channels": 32},
               {"id": "pw", "kind": "conv", "inputs": ["input"], "out": 64, "kernel": 1},
               {"id": "dw", "kind": "depthwise", "inputs": ["pw"], "stride": 2, "activation": "none"},
               {"id": "pw2", "kind": "conv", "inputs": ["dw"], "out": 64, "kernel": 1}]})";
  const runtime::Schedule s = schedule(2, kPwDw);
  const std::size_t dw = step_of(s, StepKind::Depthwise);
  ASSERT_EQ(s.thread_split(dw), ThreadSplit::Rows);
  const auto t = profile::core_traffic(s);
  // The second thread's output rows 7..13 read input rows 13..27: row 13 is
  // the first thread's (its pixels 0..391 at stride 2). With 28 x 28 pixels
  // in row tiles, the GEMM's boundary may fall inside a row: at most the row
  // and one tile of the next, at least what lies on the first thread's side.
  const double row = 28.0 * 64 * 4;
  EXPECT_GT(t[dw].halo_read_bytes, 0.0);
  EXPECT_LE(t[dw].halo_read_bytes, row + static_cast<double>(s.kt->gemm_mr) * 64 * 4);
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    if (s.steps[i].info.kind == StepKind::Gemm) {
      EXPECT_EQ(t[i].halo_read_bytes, 0.0) << i;
    }
  }
  const auto names = profile::feature_names(StepKind::Depthwise, true);
  const auto at = static_cast<std::size_t>(
      std::find(names.begin(), names.end(), "bytes of halo rows read from lines another core wrote (busiest thread)") -
      names.begin());
  ASSERT_LT(at, names.size());
  EXPECT_DOUBLE_EQ(profile::step_features(s, dw).x[at], t[dw].halo_read_bytes);
  // On one thread there is no other core.
  const runtime::Schedule one = schedule(1, kPwDw);
  EXPECT_EQ(profile::core_traffic(one)[step_of(one, StepKind::Depthwise)].halo_read_bytes, 0.0);
}

/// Parts in the executor's grains: a GEMM's row tiles, eight pixels of an element-wise step.
TEST(CoreTraffic, PartsFollowTheExecutorsGrains) {
  const runtime::Schedule s = schedule(2);
  const std::size_t c2 = step_of(s, StepKind::Gemm, 1);
  const std::int64_t mr = s.kt->gemm_mr, tiles = (28 * 28 + mr - 1) / mr;
  const auto first = s.row_parts(c2, 0), second = s.row_parts(c2, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].out1, tiles / 2 * mr);
  EXPECT_EQ(second[0].out0, first[0].out1);
  EXPECT_EQ(second[0].out1, 28 * 28);
  EXPECT_EQ(first[0].in1, first[0].out1);  // a 1x1 convolution reads the pixels it writes
}

/// A ReLU of a size x size x 64 input: at 112 its 3.2 MB output's lines were
/// last written a run ago, the run's 6.4 MB of traffic in between; at 14
/// (50 KB) they stay in L2.
std::string relus(int size) {
  return R"({"format": "convscope-graph", "version": 1, "name": "relus",
    "blocks": [{"id": "input", "kind": "input", "height": )" +
         std::to_string(size) + R"(, "width": )" + std::to_string(size) + R"(, "channels": 64},
               {"id": "r", "kind": "activation", "inputs": ["input"]}]})";
}

TEST(CoreTraffic, CountsOutputLinesTheCachesLost) {
  for (int threads : {1, 2}) {
    const std::string big = relus(112), small = relus(14);
    const runtime::Schedule sb = schedule(threads, big.c_str()), ss = schedule(threads, small.c_str());
    const std::size_t rb = step_of(sb, StepKind::Activation), rs = step_of(ss, StepKind::Activation);
    const auto tb = profile::core_traffic(sb), ts = profile::core_traffic(ss);
    // A run's traffic (6.4 MB) passed since the big output's lines were last
    // written: more than L2 holds, less than L3.
    EXPECT_DOUBLE_EQ(tb[rb].out_l2_lost, 112.0 * 112 * 64) << threads;
    EXPECT_EQ(tb[rb].out_l3_lost, 0.0) << threads;
    EXPECT_EQ(ts[rs].out_l2_lost, 0.0) << threads;
    // They are features of the kinds that stream their inputs.
    const auto names = profile::feature_names(StepKind::Activation, false);
    const auto at = static_cast<std::size_t>(
        std::find(names.begin(), names.end(), "output elements L2 lost before the write") - names.begin());
    ASSERT_LT(at, names.size());
    EXPECT_GT(profile::step_features(sb, rb).x[at], 0.0);
    EXPECT_EQ(profile::step_features(ss, rs).x[at], 0.0);
  }
}

}  // namespace
}  // namespace convscope
