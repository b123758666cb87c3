// The schedule a plan is built from, and the latency model that predicts it:
// features, the non-negative fit, the model file and its stale detection, and
// a short calibration whose predictions are checked against the steps it timed.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <thread>
#include <tuple>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/graph_json.h"
#include "kernels/cpu.h"
#include "kernels/kernels.h"
#include "profile/calibration.h"
#include "profile/fusion_choice.h"
#include "profile/latency_calibration.h"
#include "profile/latency_model.h"
#include "profile/latency_validation.h"
#include "profile/speed_probe.h"
#include "runtime/plan.h"
#include "test_util.h"

namespace convscope {
namespace {

using runtime::StepKind;

/// g's plan under table `isa` (features only: nothing runs) and the index of
/// its first step of `kind` (steps.size() when it has none).
std::pair<runtime::Schedule, std::size_t> first_step(const ir::Graph& g, kernels::Isa isa, StepKind kind) {
  runtime::PlanOptions o;
  o.kernels = &kernels::kernels_for(isa);
  auto s = runtime::Schedule::build(g, cost::analyze(g), o);
  EXPECT_TRUE(s.has_value()) << kernels::isa_name(isa);
  if (!s) return {runtime::Schedule{}, 0};
  std::size_t i = 0;
  while (i < s->steps.size() && s->steps[i].info.kind != kind) ++i;
  EXPECT_LT(i, s->steps.size()) << kernels::isa_name(isa);
  return {std::move(*s), i};
}

/// The position of feature `name` among a kind's features (with its weight features).
std::size_t feature_at(StepKind kind, const std::string& name) {
  const auto names = profile::feature_names(kind, profile::has_weights(kind));
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

runtime::Schedule schedule_of(const std::string& preset, std::int64_t split = 0, int threads = 1) {
  const ir::Graph g = testing::load_preset(preset);
  const cost::Analysis a = cost::analyze(g);
  runtime::PlanOptions o;
  o.split = split;
  o.threads = threads;
  auto s = runtime::Schedule::build(g, a, o);
  EXPECT_TRUE(s.has_value());
  return s ? *s : runtime::Schedule{};
}

TEST(Schedule, IsWhatThePlanRuns) {
  for (std::int64_t split : {0, 6}) {
    const ir::Graph g = testing::load_preset("mobilenet_v2");
    const cost::Analysis a = cost::analyze(g);
    runtime::PlanOptions o;
    o.split = split;
    auto s = runtime::Schedule::build(g, a, o);
    auto p = runtime::Plan::build(g, a, o);
    ASSERT_TRUE(s && p);
    ASSERT_EQ(s->steps.size(), p->n_steps());
    for (std::size_t i = 0; i < s->steps.size(); ++i) {
      EXPECT_EQ(s->steps[i].info.kind, p->step(i).kind) << i;
      EXPECT_EQ(s->steps[i].info.bytes, p->step(i).bytes) << i;
      EXPECT_EQ(s->steps[i].info.name, p->step(i).name) << i;
    }
    EXPECT_EQ(s->weight_floats * 4, p->weight_bytes());
    EXPECT_EQ(s->arena_floats * 4, p->arena_bytes());
    // 17 inverted residuals; the first (t = 1) has no expansion to fuse.
    int fused = 0;
    for (const auto& st : s->steps) fused += st.info.kind == StepKind::FusedBottleneck ? 1 : 0;
    EXPECT_EQ(fused, split > 0 ? 16 : 0);
  }
}

TEST(Schedule, Im2colCoverKeepsWindowsInside) {
  ir::Op op;
  op.kind = ir::OpKind::Conv;
  op.k_h = op.k_w = 3;
  op.stride = 1;
  op.pad = 1;
  // 56 x 56, pad 1: column 0 and 55 and row 0 and 55 reach into the padding.
  auto c = runtime::im2col_cover(op, {56, 56, 32}, {56, 56, 32});
  EXPECT_EQ(c.x_lo, 1);
  EXPECT_EQ(c.x_hi, 55);
  EXPECT_EQ(c.y_lo, 1);
  EXPECT_EQ(c.y_hi, 55);
  EXPECT_TRUE(c.implicit);
  EXPECT_EQ(c.implicit_pixels(), 54 * 54);
  EXPECT_FALSE(c.row_implicit(0));
  EXPECT_TRUE(c.row_implicit(1));
  // Stride 2 on 224: output 112, x = 0 reaches column -1; the last window ends at 223.
  op.stride = 2;
  c = runtime::im2col_cover(op, {224, 224, 3}, {112, 112, 32});
  EXPECT_EQ(c.x_lo, 1);
  EXPECT_EQ(c.x_hi, 112);
  // Narrower than 16 pixels: every window is gathered.
  op.stride = 1;
  c = runtime::im2col_cover(op, {7, 7, 64}, {7, 7, 64});
  EXPECT_FALSE(c.implicit);
  EXPECT_EQ(c.implicit_pixels(), 0);
}

TEST(LatencyModel, EveryKindsFeaturesFitTheArray) {
  // StepFeatures holds kMaxFeatures; a kind with more would write past it.
  for (int k = 0; k < runtime::kStepKinds; ++k) {
    const auto kind = static_cast<StepKind>(k);
    EXPECT_LE(profile::feature_names(kind, profile::has_weights(kind)).size(),
              static_cast<std::size_t>(profile::kMaxFeatures))
        << runtime::step_kind_name(kind);
  }
}

TEST(LatencyModel, RowBandsPayWeightsBeyondL2OncePerBand) {
  // MobileNetV1 fused in row bands: sep7's pointwise (512 x 512, 1 MiB) does
  // not stay in L2 beside a band's buffers and comes back from L3 for every
  // band; sep1's (32 x 64) stays.
  const ir::Graph g = testing::load_preset("mobilenet_v1");
  runtime::PlanOptions o;
  o.fuse_rows = true;
  const auto s = runtime::Schedule::build(g, cost::analyze(g), o);
  ASSERT_TRUE(s.has_value());
  const std::size_t at =
      feature_at(StepKind::FusedBottleneck, "weight floats x bands (weights beyond L2: from L3 every band)");
  const auto features = profile::schedule_features(*s);
  int checked = 0;
  for (std::size_t i = 0; i < s->steps.size(); ++i) {
    const auto& st = s->steps[i];
    if (!st.bottleneck) continue;
    const std::string& id = g.nodes[static_cast<std::size_t>(st.info.node)].id;
    const double bands = static_cast<double>(st.bottleneck->bands());
    if (id == "sep7") {
      EXPECT_GT(bands, 1.0);
      EXPECT_DOUBLE_EQ(features[i].x[at], bands * static_cast<double>(st.weight_floats)) << id;
      ++checked;
    } else if (id == "sep1") {
      EXPECT_EQ(features[i].x[at], 0.0) << id;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2);
}

TEST(LatencyModel, FeaturesFollowTheShapes) {
  const runtime::Schedule s = schedule_of("mobilenet_v1");
  const auto& kt = *s.kt;
  // sep12's and sep13's pointwise: 7 x 7 pixels, 512 or 1024 -> 1024, one GEMM each.
  bool seen = false;
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    const auto& st = s.steps[i];
    if (st.info.kind != StepKind::Gemm || st.info.out.h != 7 || st.op.out_c != 1024) continue;
    seen = true;
    const auto f = profile::step_features(s, i);
    ASSERT_EQ(f.n, static_cast<int>(profile::feature_names(StepKind::Gemm, true).size()));
    const double np = std::ceil(1024.0 / static_cast<double>(kt.gemm_nr)) * static_cast<double>(kt.gemm_nr);
    EXPECT_DOUBLE_EQ(f.x[0], 1.0);
    const auto k = static_cast<double>(st.k_gemm);
    EXPECT_TRUE(k == 512 || k == 1024) << k;
    EXPECT_DOUBLE_EQ(f.x[2], 49.0 * np * k);                                               // m * padded n * k
    EXPECT_DOUBLE_EQ(f.x[3], 0.0);                                                         // no narrow panel
    EXPECT_DOUBLE_EQ(f.x[4], std::ceil(49.0 / static_cast<double>(kt.gemm_mr)) * np * k);  // weight passes
    EXPECT_DOUBLE_EQ(f.x[5], 49.0 * 1024.0);                                               // output
    EXPECT_DOUBLE_EQ(f.x[6], 49.0 * k);                                                    // input
    // 2 or 4 MiB of weights do not stay in L2; the network's 17 MB do not fit in 16 MiB either.
    EXPECT_GT(f.x[7], 0.0);
    EXPECT_DOUBLE_EQ(f.x[f.n - 1], static_cast<double>(st.weight_floats));
    for (int j = 9; j <= 14; ++j) EXPECT_DOUBLE_EQ(f.x[j], 0.0) << j;  // 49 rows: more than one row tile
  }
  EXPECT_TRUE(seen);
  // The classifier: one row, 1024 x 1000 weights in a network of about 17 MB, so past L2, past a
  // shared L3's share, past 8 and 16 MiB, and a little into the 16 -> 32 MiB ramp.
  const auto& fc = s.steps.back();
  ASSERT_EQ(fc.op.kind, ir::OpKind::FullyConnected);
  const auto ff = profile::step_features(s, s.steps.size() - 1);
  const double wfc = static_cast<double>(fc.weight_floats);
  EXPECT_DOUBLE_EQ(ff.x[9], 1.0);
  for (int j = 10; j <= 12; ++j) EXPECT_DOUBLE_EQ(ff.x[j], wfc) << j;  // 1 -> 4, 4 -> 8, 8 -> 16 MiB
  const double footprint = static_cast<double>(s.weight_floats + s.arena_floats) * 4.0;
  EXPECT_NEAR(ff.x[13], wfc * std::log(footprint / (16.0 * 1048576)) / std::log(2.0), 1e-6 * wfc);
  EXPECT_GT(ff.x[13], 0.0);
  EXPECT_LT(ff.x[13], wfc);
  EXPECT_DOUBLE_EQ(ff.x[14], 0.0);  // below 32 MiB
  // Depthwise: stride 1 and stride 2 work go to different features.
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    if (s.steps[i].info.kind != StepKind::Depthwise) continue;
    const auto f = profile::step_features(s, i);
    EXPECT_EQ(f.x[1] > 0, s.steps[i].op.stride == 1);
    EXPECT_EQ(f.x[2] > 0, s.steps[i].op.stride > 1);
  }
}

TEST(LatencyModel, NarrowLastPanelIsAFeatureOfItsOwn) {
  // SqueezeNet 1.0's squeeze layers: 16 and 48 output channels on 55 x 55 and 27 x 27 pixels.
  const runtime::Schedule s = schedule_of("squeezenet1_0");
  const auto& kt = *s.kt;
  int seen = 0;
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    const auto& st = s.steps[i];
    if (st.info.kind != StepKind::Gemm || (st.op.out_c != 16 && st.op.out_c != 48)) continue;
    ++seen;
    const auto f = profile::step_features(s, i);
    const double mk = static_cast<double>(st.info.out.h * st.info.out.w * st.k_gemm);
    // Columns in whole panels and in a narrow last one, as each table's micro-kernel runs them.
    double whole = 0, narrow = 0;
    switch (kt.isa) {
      case kernels::Isa::Avx512:  // panels of 32, vectors of 16: 16 = one narrow vector; 48 = 32 + 16
        whole = st.op.out_c == 16 ? 0 : 32;
        narrow = 16;
        break;
      case kernels::Isa::Avx2:  // panels of 16: both whole
        whole = static_cast<double>(st.op.out_c);
        break;
      case kernels::Isa::Portable:  // panels of 16, always run whole
        whole = static_cast<double>(st.op.out_c);
        break;
    }
    EXPECT_DOUBLE_EQ(f.x[2], mk * whole) << st.info.name;
    EXPECT_DOUBLE_EQ(f.x[3], mk * narrow) << st.info.name;
  }
  EXPECT_EQ(seen, 4);  // fire2, fire3 (16), fire6, fire7 (48)
}

TEST(LatencyModel, DataStepsPayPerPixel) {
  // SqueezeNet 1.1's first max pooling: 3x3/2 over 111 x 111 x 64 into 55 x 55 x 64.
  // The same elements as 13 x 13 x 1152 would be, with 18 times the windows.
  const runtime::Schedule s = schedule_of("squeezenet1_1");
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    if (s.steps[i].info.kind != StepKind::Pool) continue;
    const auto f = profile::step_features(s, i);
    // 5 of the shape, 2 input and 2 output caches lost, across threads, 2 between cores, halo rows
    ASSERT_EQ(f.n, 13);
    // windows x taps x blocks of up to 4 vectors (64 channels: one on AVX-512, two on AVX2)
    const double blocks = static_cast<double>(s.kt->pool_loops(64));
    EXPECT_DOUBLE_EQ(f.x[1], 55.0 * 55.0 * 9.0 * blocks);
    EXPECT_DOUBLE_EQ(f.x[2], 55.0 * 55.0 * 64.0 * 9.0);  // 64 channels: whole vectors on every table
    EXPECT_DOUBLE_EQ(f.x[3], 111.0 * 111.0 * 64.0);
    EXPECT_DOUBLE_EQ(f.x[4], 0.0);  // stride 2: nothing at stride 1
    // Its input was written by the step just before, but at 3.2 MB it outgrows
    // L2 twice over: every line misses there (model v20).
    EXPECT_DOUBLE_EQ(f.x[5], 111.0 * 111.0 * 64.0);
    EXPECT_DOUBLE_EQ(f.x[6], 0.0);
    EXPECT_DOUBLE_EQ(f.x[9], 0.0);  // one thread: no hand-off
    break;
  }
  // At two threads the busiest thread does 28 of its 55 output rows, and the step pays the hand-off.
  const runtime::Schedule s2 = schedule_of("squeezenet1_1", 0, 2);
  for (std::size_t i = 0; i < s2.steps.size(); ++i) {
    if (s2.steps[i].info.kind != StepKind::Pool) continue;
    const auto f = profile::step_features(s2, i);
    ASSERT_TRUE(s2.steps[i].info.parallel);
    EXPECT_DOUBLE_EQ(f.x[0], 1.0);
    EXPECT_DOUBLE_EQ(f.x[1], 55.0 * 55.0 * 9.0 * static_cast<double>(s2.kt->pool_loops(64)) * 28.0 / 55.0);
    EXPECT_DOUBLE_EQ(f.x[3], 111.0 * 111.0 * 64.0 * 28.0 / 55.0);
    EXPECT_DOUBLE_EQ(f.x[9], 1.0);
    break;
  }
  // GoogLeNet's pooling branches, 3x3 at stride 1, count their taps apart from strided pooling's.
  const runtime::Schedule gn = schedule_of("googlenet");
  int branches = 0;
  for (std::size_t i = 0; i < gn.steps.size(); ++i) {
    const auto& st = gn.steps[i];
    if (st.info.kind != StepKind::Pool || st.op.stride != 1) continue;
    const auto f = profile::step_features(gn, i);
    EXPECT_DOUBLE_EQ(f.x[2], 0.0) << st.info.name;
    EXPECT_GE(f.x[4], static_cast<double>(st.info.out.elements()) * 9.0) << st.info.name;
    ++branches;
  }
  EXPECT_EQ(branches, 9);  // one per inception block
  // ShuffleNet V2's 7x7x464 shuffles at two threads: 49 pixels in 7 grains of 8, 4 grains (32 pixels) on one thread.
  const runtime::Schedule sh2 = schedule_of("shufflenet_v2_x1_0", 0, 2);
  int small = 0;
  for (std::size_t i = 0; i < sh2.steps.size(); ++i) {
    const auto& st = sh2.steps[i];
    if (st.info.kind != StepKind::Shuffle || st.info.out.h != 7) continue;
    const auto f = profile::step_features(sh2, i);
    EXPECT_DOUBLE_EQ(f.x[1], 49.0 * 464.0 * 32.0 / 49.0) << st.info.name;
    EXPECT_DOUBLE_EQ(f.x[3], 32.0) << st.info.name;
    EXPECT_DOUBLE_EQ(f.x[8], 1.0) << st.info.name;  // the hand-off
    ++small;
  }
  EXPECT_EQ(small, 3);  // the fourth, before conv5, is folded into it (PlanOptions::fold_shuffles)
  // mobilenet_seg's decoder concats copy the encoder's features, written long before (many
  // MB of other steps' traffic): those elements come back from L3 or DRAM.
  const runtime::Schedule seg = schedule_of("mobilenet_seg");
  int skips = 0, cat5 = 0;
  for (std::size_t i = 0; i < seg.steps.size(); ++i) {
    const auto& st = seg.steps[i];
    if (st.info.kind != StepKind::Concat || st.info.no_work) continue;
    const auto f = profile::step_features(seg, i);
    ASSERT_EQ(f.n, 12);
    EXPECT_GT(f.x[5], 0.0) << st.info.name;
    EXPECT_LE(f.x[5], f.x[1]) << st.info.name;  // only copied elements count
    EXPECT_LE(f.x[6], f.x[5]) << st.info.name;  // beyond L3: some of those
    // The lines the copies touch: at least one per pixel copied, at most the
    // elements' worth plus one per pixel.
    EXPECT_GE(f.x[4], f.x[3]) << st.info.name;
    EXPECT_LE(f.x[4], f.x[1] / 16.0 + f.x[3]) << st.info.name;
    if (st.info.out.c == 35) {
      // The 3-channel input at channel 32 of rows of 35 (not whole lines apart):
      // (3 - 1) / 16 + 1 lines per pixel on average.
      EXPECT_DOUBLE_EQ(f.x[4], static_cast<double>(st.info.out.h * st.info.out.w) * (2.0 / 16.0 + 1.0)) << st.info.name;
      ++cat5;
    }
    ++skips;
  }
  EXPECT_GT(skips, 0);
  EXPECT_EQ(cat5, 1);
  // ShuffleNet V2: shuffles and copied slices count their pixels; slices read in place count nothing.
  const runtime::Schedule sh = schedule_of("shufflenet_v2_x1_0");
  int shuffles = 0, views = 0, copies = 0, off_line = 0;
  for (std::size_t i = 0; i < sh.steps.size(); ++i) {
    const auto& st = sh.steps[i];
    const auto f = profile::step_features(sh, i);
    const double px = static_cast<double>(st.info.out.h * st.info.out.w);
    if (st.info.kind == StepKind::Shuffle) {
      ++shuffles;
      EXPECT_DOUBLE_EQ(f.x[3], px) << st.info.name;
    }
    if (st.info.kind == StepKind::Slice && sh.values[static_cast<std::size_t>(st.out)].parent == st.in[0]) {
      ++views;
      EXPECT_TRUE(st.info.no_work) << st.info.name;  // runs skip it
    } else if (st.info.kind == StepKind::Slice) {
      // Copied halves: those whose rows start off a 64-byte line (58 or 116 channels in a
      // tensor of 116 or 232) count every element again; 232 of 464, on lines, do not.
      ++copies;
      ASSERT_EQ(f.n, static_cast<int>(profile::feature_names(StepKind::Slice, false).size()));
      EXPECT_GT(f.x[1], 0.0) << st.info.name;
      const bool off = st.op.slice_start % 16 != 0 || runtime::pixel_stride(sh.values, st.in[0]) % 16 != 0 ||
                       runtime::pixel_stride(sh.values, st.out) % 16 != 0;
      EXPECT_DOUBLE_EQ(f.x[3], off ? f.x[1] : 0.0) << st.info.name;
      // Each copies the left half into the concat's buffer: rows inside wider
      // ones, counted per pixel (model v47).
      EXPECT_GT(runtime::pixel_stride(sh.values, st.out), st.info.out.c) << st.info.name;
      EXPECT_DOUBLE_EQ(f.x[4], f.x[2]) << st.info.name;
      EXPECT_DOUBLE_EQ(f.x[2], px) << st.info.name;
      off_line += off ? 1 : 0;
    }
  }
  EXPECT_GT(shuffles, 10);
  EXPECT_GT(views, 0);
  EXPECT_GT(copies, off_line);
  EXPECT_GT(off_line, 0);
  // SqueezeNet's concats are written in place by the expand convolutions: no work, predicted 0
  // (and not counted in the whole run's cost per step).
  int in_place = 0;
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    if (s.steps[i].info.kind != StepKind::Concat) continue;
    EXPECT_TRUE(s.steps[i].info.no_work) << s.steps[i].info.name;
    EXPECT_DOUBLE_EQ(profile::step_features(s, i).x[1], 0.0);  // nothing copied
    ++in_place;
  }
  EXPECT_EQ(in_place, 8);
  profile::LatencyModel per_step = profile::LatencyModel::per_step(1000);
  per_step.network_step_ns = 100;
  const auto pred = per_step.predict(s);
  int working = 0;
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    if (s.steps[i].info.no_work)
      EXPECT_EQ(pred.steps[i].ns, 0.0) << s.steps[i].info.name;
    else
      ++working;
  }
  EXPECT_NEAR(pred.total_ns, working * (1000.0 * per_step.network_factor + 100.0), 1e-6);
}

TEST(LatencyModel, FusedFeaturesTellRowBandsFromSlices) {
  const ir::Graph g = testing::load_preset("mobilenet_v2");
  const cost::Analysis a = cost::analyze(g);
  const auto names = profile::feature_names(StepKind::FusedBottleneck, true);
  auto at = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
  };
  for (bool rows : {false, true}) {
    runtime::PlanOptions o;
    o.split = 6;
    o.fuse_rows = rows;
    auto s = runtime::Schedule::build(g, a, o);
    ASSERT_TRUE(s.has_value());
    int seen = 0;
    for (std::size_t i = 0; i < s->steps.size(); ++i) {
      if (!s->steps[i].bottleneck) continue;
      const auto& b = *s->steps[i].bottleneck;
      const auto f = profile::step_features(*s, i);
      ++seen;
      EXPECT_EQ(f.x[at("slices")], rows ? 0.0 : 6.0);
      EXPECT_EQ(f.x[at("row bands")], rows ? static_cast<double>(b.bands()) : 0.0);
      EXPECT_EQ(f.x[at("expand + project m*n*k (slices)")] > 0, !rows);
      EXPECT_EQ(f.x[at("expand + project m*n*k (row bands)")] > 0, rows);
      // Row bands expand every input row once: the work is the whole-image GEMMs' (n padded to
      // whole panels, the last panel only to the vectors it runs).
      if (rows) {
        const auto& kt = *s->kt;
        auto padded = [&](std::int64_t n) {
          const std::int64_t full = n / kt.gemm_nr * kt.gemm_nr;
          return static_cast<double>(full + (n - full + kt.gemm_lanes - 1) / kt.gemm_lanes * kt.gemm_lanes);
        };
        const double np_e = padded(b.e), np_o = padded(b.cout);
        // ir1 (t = 1) has no expand: its depthwise reads the block input in place.
        const double expand =
            b.expand >= 0 ? static_cast<double>(b.mid_in.h * b.mid_in.w) * np_e * static_cast<double>(b.cin) : 0.0;
        const double whole = expand + static_cast<double>(b.mid_out.h * b.mid_out.w) * np_o * static_cast<double>(b.e);
        EXPECT_DOUBLE_EQ(f.x[at("expand + project m*n*k (row bands)")], whole) << s->steps[i].info.name;
      }
    }
    EXPECT_EQ(seen, rows ? 17 : 16);  // in row bands ir1's depthwise -> project too
  }
}

TEST(LatencyModel, RowBandFeaturesAreTheBusiestThreads) {
  // MobileNetV1's last block (7 x 7 x 1024 -> 1024) on one thread is one band
  // of 7 rows with the AVX-512 table (a band holds at least four GEMM row
  // tiles: 56 pixels of 14-row tiles), two of 4 and 3 rows with the AVX2 one
  // (6-row tiles, the band buffers' 256 KiB). On two
  // threads the busiest one does 4 rows either way (rows 3..6 of the one band,
  // or the first band) and streams the project weights for its own band.
  ir::Graph g = testing::load_preset("mobilenet_v1");
  const cost::Analysis a = cost::analyze(g);
  const auto names = profile::feature_names(StepKind::FusedBottleneck, true);
  auto at = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
  };
  std::map<int, profile::StepFeatures> last;  // threads -> the last block's features
  double mr = 0;
  std::int64_t band_rows = 0;
  for (int threads : {1, 2}) {
    runtime::PlanOptions o;
    o.fuse_rows = true;
    o.threads = threads;
    auto s = runtime::Schedule::build(g, a, o);
    ASSERT_TRUE(s.has_value());
    for (std::size_t i = 0; i < s->steps.size(); ++i)
      if (s->steps[i].bottleneck) {
        last[threads] = profile::step_features(*s, i);
        if (threads == 1) band_rows = s->steps[i].bottleneck->band_rows;
      }
    mr = static_cast<double>(s->kt->gemm_mr);
  }
  const double n = 1024, k = 1024;
  const auto& one = last.at(1).x;
  const auto& two = last.at(2).x;
  if (band_rows != 7 && band_rows != 4)
    GTEST_SKIP()
        << "expected values written for bands of 7 rows (AVX-512) or 4 (AVX2); this CPU's table makes bands of "
        << band_rows;
  EXPECT_EQ(one[at("row bands")], band_rows == 7 ? 1.0 : 2.0);
  EXPECT_EQ(two[at("row bands")], 1.0);  // the busiest thread's
  EXPECT_DOUBLE_EQ(one[at("expand + project m*n*k (row bands)")], 49 * n * k);
  EXPECT_DOUBLE_EQ(two[at("expand + project m*n*k (row bands)")], 28 * n * k);  // rows 3..6
  EXPECT_DOUBLE_EQ(two[at("input + output")], one[at("input + output")] * 28 / 49);
  // Weight passes: one per row tile of the thread's band.
  const double passes = band_rows == 7 ? std::ceil(49 / mr) : std::ceil(28 / mr) + std::ceil(21 / mr);
  EXPECT_DOUBLE_EQ(one[at("expand + project weight passes")], passes * n * k);
  EXPECT_DOUBLE_EQ(two[at("expand + project weight passes")], std::ceil(28 / mr) * n * k);
}

TEST(LatencyModel, GraphInputsCountAsWrittenARunAgo) {
  // A depthwise step alone reads the graph's input, written before the previous
  // run: the run's own traffic decides where it comes from (L2, L3, DRAM).
  const auto names = profile::feature_names(StepKind::Depthwise, true);
  const auto at = static_cast<std::size_t>(
      std::find(names.begin(), names.end(), "input elements L2 lost before the read") - names.begin());
  ASSERT_LT(at, names.size());
  for (const ir::Shape in : {ir::Shape{8, 8, 16}, ir::Shape{56, 56, 256}}) {
    const ir::Graph g = testing::graph_for_kind("depthwise", {}, in);
    runtime::PlanOptions o;
    auto s = runtime::Schedule::build(g, cost::analyze(g), o);
    ASSERT_TRUE(s.has_value());
    std::size_t dw = 0;
    while (s->steps[dw].info.kind != StepKind::Depthwise) ++dw;
    const auto f = profile::step_features(*s, dw);
    // 8 x 8 x 16 (4 KiB in, 4 KiB out) stays in L2 between runs; 56 x 56 x 256 (3 MiB each way) does not.
    EXPECT_DOUBLE_EQ(f.x[at], in.h == 56 ? static_cast<double>(in.elements()) : 0.0) << in.h;
  }
}

TEST(LatencyModel, InputsLargerThanACacheMissInItRightAfterTheirWriter) {
  // SqueezeNet 1.0's first max pool reads conv1's 109 x 109 x 96 output (4.5 MB,
  // beyond twice L2: all of it comes back from L3); MobileNetV2's first
  // depthwise reads the stem's 112 x 112 x 32 (1.53 MiB: of the last 1 MiB
  // written, 0.47 MiB survives the reads of the first 0.53 MiB).
  for (const auto& [preset, kind] :
       {std::pair{"squeezenet1_0", StepKind::Pool}, std::pair{"mobilenet_v2", StepKind::Depthwise}}) {
    const ir::Graph g = testing::load_preset(preset);
    const auto names = profile::feature_names(kind, true);
    auto at = [&](const std::string& n) {
      return static_cast<std::size_t>(std::find(names.begin(), names.end(), n) - names.begin());
    };
    const std::size_t l2 = at("input elements L2 lost before the read");
    const std::size_t l3 = at("input elements L3 lost before the read");
    ASSERT_LT(l3, names.size());
    runtime::PlanOptions o;
    o.fuse_rows = false;
    auto s = runtime::Schedule::build(g, cost::analyze(g), o);
    ASSERT_TRUE(s.has_value());
    std::size_t i = 0;
    while (i < s->steps.size() && s->steps[i].info.kind != kind) ++i;
    ASSERT_LT(i, s->steps.size()) << preset;
    ASSERT_GT(i, 0u);
    ASSERT_EQ(s->steps[i - 1].out, s->steps[i].in[0]) << preset << ": written by the step before";
    const double elements = static_cast<double>(s->values[static_cast<std::size_t>(s->steps[i].in[0])].shape.elements());
    // Half the writer's weights passed through the cache after an average line
    // of its output (model v25).
    const double writer_weights = 4.0 * static_cast<double>(s->steps[i - 1].weight_floats);
    const double size = 4 * elements, free = profile::kL2FitBytes - writer_weights / 2;
    const double expected = (size - std::max(0.0, std::min(size, 2 * free - size))) / 4;
    const auto f = profile::step_features(*s, i);
    EXPECT_DOUBLE_EQ(f.x[l2], expected) << preset;
    EXPECT_GT(f.x[l2], 0.0) << preset;
    EXPECT_EQ(f.x[l3], 0.0) << preset;  // well within L3
    // SqueezeNet 1.0's conv1 7x7x3x96 + 96 biases; MobileNetV2's stem 3x3x3x32 + 32 (1792 bytes).
    EXPECT_EQ(s->steps[i - 1].weight_floats, kind == StepKind::Pool ? 14208 : 896) << preset;
    EXPECT_DOUBLE_EQ(f.x[l2], kind == StepKind::Pool ? 109 * 109 * 96 : 112 * 112 * 32 - 122880 + 896);
  }
}

TEST(LatencyModel, ANetworkThatFitsL3LosesNothingFromIt) {
  // IGCV2-MobileNet's steps move about 150 MiB a run over 10 MiB of weights and
  // arena: an LRU L3 of kL3FitBytes keeps all of it (model v46), where counting
  // the bytes moved priced its first depthwise as if its output came from DRAM.
  // Xception's 88 MiB of weights do not fit: some of its steps lose lines.
  for (const char* preset : {"igcv2_mobilenet", "xception"}) {
    const ir::Graph g = testing::load_preset(preset);
    auto s = runtime::Schedule::build(g, cost::analyze(g), runtime::PlanOptions{});
    ASSERT_TRUE(s.has_value());
    const double footprint = 4.0 * static_cast<double>(s->weight_floats + s->arena_floats);
    double moved = 0, lost = 0;
    const auto features = profile::schedule_features(*s);
    for (std::size_t i = 0; i < s->steps.size(); ++i) {
      moved += static_cast<double>(s->steps[i].info.bytes);
      const auto names = profile::feature_names(features[i].kind, profile::has_weights(features[i].kind));
      for (std::size_t j = 0; j < names.size(); ++j)
        if (names[j].find("L3 lost") != std::string::npos) lost += features[i].x[j];
    }
    EXPECT_GT(moved, 4 * profile::kL3FitBytes) << preset;
    if (footprint <= profile::kL3FitBytes)
      EXPECT_EQ(lost, 0.0) << preset;
    else
      EXPECT_GT(lost, 0.0) << preset;
    EXPECT_EQ(footprint <= profile::kL3FitBytes, std::string(preset) == "igcv2_mobilenet") << footprint;
  }
}

// Depthwise in column order (AVX-512) pays per row of each channel
// vector; pixel-major tables per row. A fused h-swish has a feature of its own.
TEST(LatencyModel, DepthwiseRowPassesFollowTheTablesOrder) {
  const auto names = profile::feature_names(StepKind::Depthwise, true);
  auto at = [&](const std::string& n) {
    return static_cast<std::size_t>(std::find(names.begin(), names.end(), n) - names.begin());
  };
  const std::size_t rows = at("row passes (output rows, per channel vector in column order)");
  const std::size_t hard = at("pixels*c (h-swish, h-sigmoid fused)");
  ASSERT_LT(rows, names.size());
  ASSERT_LT(hard, names.size());
  for (const std::string act : {"relu6", "hswish"})
    for (const std::int64_t k : {3, 5})
      for (const kernels::Isa isa : kernels::available_isas()) {  // the tables this CPU runs
        const ir::Graph g =
            testing::graph_for_kind("depthwise", {{"kernel", k}, {"activation", act}}, ir::Shape{14, 14, 40});
        const auto [s, dw] = first_step(g, isa, StepKind::Depthwise);
        ASSERT_LT(dw, s.steps.size());
        const auto f = profile::step_features(s, dw);
        EXPECT_EQ(kernels::kernels_for(isa).dw_columns, isa == kernels::Isa::Avx512);
        const bool columns = isa == kernels::Isa::Avx512;  // 3x3 and 5x5 alike
        EXPECT_DOUBLE_EQ(f.x[rows], columns ? 14.0 * 3 : 14.0) << kernels::isa_name(isa) << " k=" << k;
        EXPECT_DOUBLE_EQ(f.x[hard], act == "hswish" ? 14.0 * 14 * 40 : 0.0) << act;
      }
}

// A grouped 1x1 convolution that the table runs by narrow_groups pays per
// permute (pixels x output vectors x inputs per group), not per GEMM tile; one
// of wider groups, or on a table without narrow_groups, the other way round.
TEST(LatencyModel, NarrowGroupsPayPerPermuteNotPerTile) {
  const auto names = profile::feature_names(StepKind::Gemm, true);
  auto at = [](const std::string& n) { return feature_at(StepKind::Gemm, n); };
  const std::size_t narrow = at("pixels*vectors*cin_g (narrow groups: a permute and an FMA each)");
  const std::size_t tiles = at("m*n*k (whole panels)"), thin = at("m*n*k (narrow last panel)");
  const std::size_t passes = at("weight passes"), out = at("m*n (output)");
  ASSERT_LT(narrow, names.size());
  ASSERT_LT(std::max({tiles, thin, passes, out}), names.size());
  for (const kernels::Isa isa : kernels::available_isas())
    for (const std::int64_t groups : {8, 2}) {  // 32 -> 64: 4 -> 8 per group (narrow), 16 -> 32 (a GEMM)
      const ir::Graph g =
          testing::graph_for_kind("conv", {{"kernel", 1}, {"out", 64}, {"groups", groups}}, ir::Shape{14, 14, 32});
      const auto [s, i] = first_step(g, isa, StepKind::Gemm);
      ASSERT_LT(i, s.steps.size());
      const kernels::KernelTable& kt = kernels::kernels_for(isa);
      const bool runs_narrow = kt.narrow_groups != nullptr && groups == 8;
      ASSERT_EQ(s.steps[i].narrow_groups, runs_narrow) << kernels::isa_name(isa) << " groups " << groups;
      const auto f = profile::step_features(s, i);
      const std::string what = std::string(kernels::isa_name(isa)) + " groups " + std::to_string(groups);
      EXPECT_DOUBLE_EQ(f.x[narrow],
                       runs_narrow ? 14.0 * 14 * static_cast<double>(64 / kt.gemm_lanes * (32 / groups)) : 0.0)
          << what;
      EXPECT_EQ(f.x[tiles] + f.x[thin] > 0, !runs_narrow) << what;
      EXPECT_EQ(f.x[passes] > 0, !runs_narrow) << what;
      EXPECT_DOUBLE_EQ(f.x[out], 14.0 * 14 * 64) << what;
    }
}

// Model v22: a pooling window's taps loop once per block of up to four
// vectors, once per vector left over and once for a masked tail (pool_simd),
// or once per 32 channels (the portable pool_loop).
TEST(LatencyModel, PoolPaysPerWindowLoopOverChannelBlocks) {
  const std::size_t loops =
      feature_at(StepKind::Pool, "output pixels*k^2*blocks (a window loop per block of up to 4 vectors)");
  ASSERT_LT(loops, profile::feature_names(StepKind::Pool, false).size());
  // Loops per window tap for 16, 20, 96 and 256 channels.
  const std::map<kernels::Isa, std::array<double, 4>> expected{
      {kernels::Isa::Avx512, {1, 2, 3, 4}},     // 1 vector; 1 + a tail; 4 + 2; 4 x 4
      {kernels::Isa::Avx2, {2, 3, 3, 8}},       // 2 vectors; 2 + a tail; 3 x 4; 8 x 4
      {kernels::Isa::Portable, {1, 1, 3, 8}}};  // per 32 channels
  for (const kernels::Isa isa : kernels::available_isas())
    for (std::size_t j = 0; j < 4; ++j) {
      const std::int64_t c = std::array<std::int64_t, 4>{16, 20, 96, 256}[j];
      const ir::Graph g = testing::graph_for_kind("pool", {{"kernel", 3}, {"stride", 2}}, ir::Shape{15, 15, c});
      const auto [s, i] = first_step(g, isa, StepKind::Pool);
      ASSERT_LT(i, s.steps.size());
      const auto f = profile::step_features(s, i);
      EXPECT_DOUBLE_EQ(f.x[loops], 7.0 * 7 * 9 * expected.at(isa)[j]) << kernels::isa_name(isa) << " " << c;
    }
}

// Model v22: a depthwise step counts the tiles its table runs per row.
TEST(LatencyModel, DepthwiseCountsTheTilesItRuns) {
  // A tile of 4 at 3x3 stride 1 over 512 channels puts 9 lines in each of two L1 sets.
  EXPECT_EQ(kernels::dw_tile_width(3, 1, 14, 512, 8, 8), 2);
  EXPECT_EQ(kernels::dw_tile_width(3, 1, 14, 512, 8, 12), 4);
  EXPECT_EQ(kernels::dw_tile_width(3, 1, 14, 528, 8, 8), 8);  // padded by a line: no conflict
  const std::int64_t crowded = kernels::l1d_ways() >= 9 ? 4 : 7;
  struct Case {
    int k, s;
    std::int64_t in_w, px_stride, out_w;
    std::map<kernels::Isa, std::int64_t> tiles;
  };
  const std::vector<Case> cases{
      // 19 pixels: column order 8 + 8 + 2 + 1; AVX2's 3x3 tiles of 4: 4 x 4 + 2 + 1.
      {3, 1, 19, 728, 19, {{kernels::Isa::Avx512, 4}, {kernels::Isa::Avx2, 6}, {kernels::Isa::Portable, 19}}},
      // Rows of 14: two tiles of 7 in column order; AVX2 5x5 tiles of 8: 8 + 4 + 2.
      {5, 1, 14, 96, 14, {{kernels::Isa::Avx512, 2}, {kernels::Isa::Avx2, 3}, {kernels::Isa::Portable, 14}}},
      // 512 channels 2 KiB apart crowd L1: pixel-major tiles of 2 in an 8-way L1 (7 per row), of 4
      // in a 12-way one (4 + 4 + 4 + 2), on every table that tiles.
      {3,
       1,
       14,
       512,
       14,
       {{kernels::Isa::Avx512, crowded}, {kernels::Isa::Avx2, crowded}, {kernels::Isa::Portable, 14}}},
      // The same padded by a cache line (as plans lay it out): column order again.
      {3, 1, 14, 528, 14, {{kernels::Isa::Avx512, 2}, {kernels::Isa::Avx2, 4}, {kernels::Isa::Portable, 14}}},
      // Stride 2 from 112 to 56: seven tiles of 8; dilated or 9x9 kernels go pixel by pixel.
      {3, 2, 112, 96, 56, {{kernels::Isa::Avx512, 7}, {kernels::Isa::Avx2, 14}, {kernels::Isa::Portable, 56}}},
      {9, 1, 20, 32, 20, {{kernels::Isa::Avx512, 20}, {kernels::Isa::Avx2, 20}, {kernels::Isa::Portable, 20}}}};
  for (const kernels::Isa isa : kernels::available_isas())
    for (const Case& c : cases)
      EXPECT_EQ(kernels::dw_walk(kernels::kernels_for(isa), c.k, c.s, c.in_w, c.px_stride, c.out_w).tiles(c.out_w),
                c.tiles.at(isa))
          << kernels::isa_name(isa) << " k" << c.k << " s" << c.s << " w" << c.in_w << " stride " << c.px_stride;

  // The feature: output rows x tiles per row x channel vectors (Xception's 19 x 19 x 728).
  const std::size_t at =
      feature_at(StepKind::Depthwise, "tiles*vectors (output rows x tiles per row x channel vectors)");
  const std::size_t loaded =
      feature_at(StepKind::Depthwise, "input vectors loaded (k rows x the columns of each tile)");
  ASSERT_LT(at, profile::feature_names(StepKind::Depthwise, true).size());
  ASSERT_LT(loaded, profile::feature_names(StepKind::Depthwise, true).size());
  const ir::Graph g = testing::graph_for_kind("depthwise", {{"kernel", 3}}, ir::Shape{19, 19, 728});
  for (const kernels::Isa isa : kernels::available_isas()) {
    const auto [s, i] = first_step(g, isa, StepKind::Depthwise);
    ASSERT_LT(i, s.steps.size());
    const double vectors = std::ceil(728.0 / static_cast<double>(kernels::kernels_for(isa).gemm_lanes));
    const double tiles = static_cast<double>(cases[0].tiles.at(isa));
    const profile::StepFeatures f = profile::step_features(s, i);
    EXPECT_DOUBLE_EQ(f.x[at], 19.0 * tiles * vectors) << kernels::isa_name(isa);
    // The input vectors its tiles load: 3 rows of the 19 columns and 2 more per tile
    // (AVX-512: 19 rows x 46 vectors x 3 x (19 + 4 x 2)), for each output row.
    EXPECT_DOUBLE_EQ(f.x[loaded], 19.0 * vectors * 3.0 * (19.0 + 2.0 * tiles)) << kernels::isa_name(isa);
  }
}

// Column order leaves a shape whose input rows crowd L1 to pixel-major
// order (dw_column_rows_crowd_l1), on the kernels and in the model alike.
TEST(LatencyModel, DepthwiseLeavesColumnOrderWhereItsRowsCrowdL1) {
  // Lines a set for one channel vector's three rows: 112 pixels 384 bytes
  // apart fall in the 32 even sets, 10 or 11 a set; 56 pixels 512 bytes apart
  // in 8 sets, 21 a set; 576 bytes apart in all 64, 2 or 3.
  EXPECT_EQ(kernels::dw_column_rows_per_set(3, 112, 96), 11);
  EXPECT_EQ(kernels::dw_column_rows_per_set(3, 56, 128), 21);
  EXPECT_EQ(kernels::dw_column_rows_per_set(3, 56, 144), 3);
  for (const int ways : {8, 12}) {
    EXPECT_TRUE(kernels::dw_column_rows_crowd_l1(3, 2, 112, 96, ways)) << ways;   // stride 2: beyond 2/3 of the ways
    EXPECT_FALSE(kernels::dw_column_rows_crowd_l1(3, 1, 112, 32, ways)) << ways;  // stride 1: 11 <= 16
    EXPECT_TRUE(kernels::dw_column_rows_crowd_l1(3, 1, 56, 128, ways)) << ways;   // 21 > 16
    EXPECT_FALSE(kernels::dw_column_rows_crowd_l1(3, 2, 56, 144, ways)) << ways;  // 3
    EXPECT_FALSE(kernels::dw_column_rows_crowd_l1(3, 1, 56, 144, ways)) << ways;  // padded by a line
  }
  const std::vector<kernels::Isa> isas = kernels::available_isas();
  if (std::find(isas.begin(), isas.end(), kernels::Isa::Avx512) == isas.end())
    GTEST_SKIP() << "the AVX-512 table's walk (column order): this CPU has no AVX-512";
  const kernels::KernelTable& t512 = kernels::kernels_for(kernels::Isa::Avx512);
  EXPECT_FALSE(kernels::dw_walk(t512, 3, 2, 112, 96, 56).columns);
  EXPECT_TRUE(kernels::dw_walk(t512, 3, 2, 56, 144, 28).columns);
  EXPECT_TRUE(kernels::dw_walk(t512, 3, 1, 112, 32, 112).columns);
  // The model's row passes follow: one per output row in pixel-major order,
  // one per row and channel vector (16 channels) in column order.
  const std::size_t rows =
      feature_at(StepKind::Depthwise, "row passes (output rows, per channel vector in column order)");
  ASSERT_LT(rows, profile::feature_names(StepKind::Depthwise, true).size());
  for (const auto& [hw, c, passes] : {std::tuple{112, 96, 56.0}, std::tuple{56, 144, 28.0 * 9}}) {
    const ir::Graph g = testing::graph_for_kind("depthwise", {{"kernel", 3}, {"stride", 2}}, ir::Shape{hw, hw, c});
    const auto [s, dw] = first_step(g, kernels::Isa::Avx512, StepKind::Depthwise);
    ASSERT_LT(dw, s.steps.size());
    EXPECT_DOUBLE_EQ(profile::step_features(s, dw).x[rows], passes) << hw << " x " << hw << " x " << c;
  }
}

TEST(FusionChoice, ParsesWhatUsersType) {
  EXPECT_EQ(profile::parse_fusion("auto")->mode, profile::FusionSetting::Mode::Auto);
  EXPECT_EQ(profile::parse_fusion("off")->mode, profile::FusionSetting::Mode::Off);
  EXPECT_EQ(profile::parse_fusion("0")->mode, profile::FusionSetting::Mode::Off);
  EXPECT_EQ(profile::parse_fusion("rows")->mode, profile::FusionSetting::Mode::Rows);
  const auto six = profile::parse_fusion("6");
  ASSERT_TRUE(six.has_value());
  EXPECT_EQ(six->mode, profile::FusionSetting::Mode::Slices);
  EXPECT_EQ(six->slices, 6);
  EXPECT_EQ(six->str(), "slices 6");
  for (const char* bad : {"", "-1", "rows2", "1e3", "Auto", "99999999999"}) {
    const auto r = profile::parse_fusion(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().front().where, "--fuse-bottleneck");
    EXPECT_NE(r.error().front().message.find("got '" + std::string(bad) + "'"), std::string::npos)
        << r.error().front().message;
  }
}

TEST(FusionChoice, CheckSetsEachChainBesideItsOwnSteps) {
  // IGCV3-D: its first block runs op by op as expand, permute, depthwise, project and
  // permute; in its last the first permute folds into the depthwise and the last one
  // into the head's 1x1 convolution, whose step is not the block's (it runs other ops too).
  const ir::Graph g = testing::load_preset("igcv3_d");
  const cost::Analysis a = cost::analyze(g);
  const auto flat = profile::LatencyModel::per_step(1000.0);  // every step 1 us
  const auto check = profile::check_fusion(g, a, flat, {}, 2, 1);
  ASSERT_TRUE(check.has_value());
  EXPECT_EQ(check->rounds, 2);
  ASSERT_EQ(check->blocks.size(), 32u);
  EXPECT_EQ(check->blocks.front().name, "igc1");
  EXPECT_DOUBLE_EQ(check->blocks.front().predicted_fused_ns, 1000.0);
  EXPECT_DOUBLE_EQ(check->blocks.front().predicted_unfused_ns, 5000.0);
  EXPECT_EQ(check->blocks.back().name, "igc32");
  EXPECT_DOUBLE_EQ(check->blocks.back().predicted_unfused_ns, 3000.0);
  double best = 0;
  for (const auto& b : check->blocks) {
    EXPECT_GT(b.fused_ns, 0.0) << b.name;
    EXPECT_GT(b.unfused_ns, 0.0) << b.name;
    EXPECT_TRUE(b.chosen) << b.name;  // one step against three or more: fused everywhere
    EXPECT_DOUBLE_EQ(b.lost_ns(), b.fused_ns - std::min(b.fused_ns, b.unfused_ns));
    best += std::min(b.fused_ns, b.unfused_ns);
  }
  EXPECT_DOUBLE_EQ(check->best_ns(), best);
  EXPECT_DOUBLE_EQ(check->auto_ns(), check->total_ns(true));
  EXPECT_FALSE(profile::check_fusion(g, a, flat, {}, 0).has_value());  // no rounds
  // Nothing to fuse: no blocks.
  const ir::Graph sq = testing::load_preset("squeezenet1_1");
  const auto none = profile::check_fusion(sq, cost::analyze(sq), flat, {}, 1, 0);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->blocks.empty());
}

// Forms measured on this machine (calibrate --fusion) decide over the model's
// prediction, beside this machine's model only, and only at this kernel revision.
TEST(FusionChoice, MeasuredFormsDecideOnThisMachine) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("convscope_test_fusion_forms_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ::setenv("CONVSCOPE_CACHE_DIR", dir.c_str(), 1);
  const ir::Graph g = testing::load_preset("mobilenet_v2");
  const cost::Analysis a = cost::analyze(g);
  // Every step costs the same: the model fuses all 17 chains.
  auto model = profile::LatencyModel::per_step(1000.0);
  model.cpu = kernels::cpu_info().model;
  model.isa = kernels::isa_name(kernels::best_kernels().isa);
  model.threads = 1;
  profile::FusionChoice c;
  profile::apply_fusion(g, a, &model, {}, {}, &c);
  EXPECT_EQ(c.fused, 17);
  EXPECT_EQ(c.measured, 0);  // nothing measured yet
  // Measured: ir2's shape and ir3's faster op by op, the rest unmeasured.
  runtime::PlanOptions rows;
  rows.fuse_rows = true;
  const auto fused = runtime::Schedule::build(g, a, rows);
  ASSERT_TRUE(fused.has_value());
  std::vector<std::string> keys;
  for (const auto& st : fused->steps)
    if (st.bottleneck) keys.push_back(profile::chain_key(*st.bottleneck, fused->batch));
  ASSERT_EQ(keys.size(), 17u);
  EXPECT_NE(keys[1], keys[2]);  // ir2 (stride 2) and ir3 (stride 1, shortcut) differ
  ASSERT_TRUE(profile::save_measured_forms(model.isa, 1, {{keys[1], {2000, 1000}}}).has_value());
  ASSERT_TRUE(profile::save_measured_forms(model.isa, 1, {{keys[2], {3000, 1500}}}).has_value());  // merged
  EXPECT_EQ(profile::measured_forms(model.isa, 1).size(), 2u);
  const auto measured =
      static_cast<int>(std::count(keys.begin(), keys.end(), keys[1]) + std::count(keys.begin(), keys.end(), keys[2]));
  runtime::PlanOptions o = profile::apply_fusion(g, a, &model, {}, {}, &c);
  EXPECT_EQ(c.measured, measured);
  EXPECT_EQ(c.fused, 17 - measured);
  ASSERT_TRUE(o.fused_nodes.has_value());
  EXPECT_EQ(static_cast<int>(o.fused_nodes->size()), 17 - measured);
  EXPECT_NE(c.summary().find("measured on this machine for " + std::to_string(measured) + ", latency model for"),
            std::string::npos)
      << c.summary();
  // Another thread count, another machine's model, a synthetic one: not used.
  EXPECT_TRUE(profile::measured_forms(model.isa, 2).empty());
  auto foreign = model;
  foreign.cpu = "another CPU";
  profile::apply_fusion(g, a, &foreign, {}, {}, &c);
  EXPECT_EQ(c.measured, 0);
  EXPECT_EQ(c.fused, 17);
  // Measured at another kernel revision: stale, not used; a damaged file: ignored.
  {
    std::ifstream in(profile::fusion_cache_path());
    nlohmann::json j = nlohmann::json::parse(in);
    for (auto& [key, entry] : j.items()) entry["kernel_revision"] = kernels::kKernelRevision - 1;
    std::ofstream(profile::fusion_cache_path()) << j.dump();
  }
  EXPECT_TRUE(profile::measured_forms(model.isa, 1).empty());
  profile::apply_fusion(g, a, &model, {}, {}, &c);
  EXPECT_EQ(c.fused, 17);
  std::ofstream(profile::fusion_cache_path()) << "{ not json";
  EXPECT_TRUE(profile::measured_forms(model.isa, 1).empty());
  // Saving over a damaged file starts it again.
  ASSERT_TRUE(profile::save_measured_forms(model.isa, 1, {{keys[1], {1000, 2000}}}).has_value());
  EXPECT_EQ(profile::measured_forms(model.isa, 1).size(), 1u);
  ::unsetenv("CONVSCOPE_CACHE_DIR");
  std::filesystem::remove_all(dir);
}

TEST(FusionChoice, AutoFusesWhereTheModelPredictsLess) {
  const ir::Graph g = testing::load_preset("mobilenet_v2");
  const cost::Analysis a = cost::analyze(g);
  using Mode = profile::FusionSetting::Mode;
  // Every step costs the same: one fused step beats the chain's 3 or 4, everywhere.
  const auto flat = profile::LatencyModel::per_step(1000.0);
  profile::FusionChoice c;
  runtime::PlanOptions o = profile::apply_fusion(g, a, &flat, {}, {}, &c);
  EXPECT_TRUE(o.fuse_rows);
  ASSERT_TRUE(o.fused_nodes.has_value());
  EXPECT_EQ(o.fused_nodes->size(), 17u);
  EXPECT_EQ(c.candidates, 17);  // ir1 (t = 1: depthwise -> project) and ir2 to ir17
  EXPECT_EQ(c.fused, 17);
  EXPECT_GT(c.predicted_unfused_ns, c.predicted_ns);
  EXPECT_NE(c.summary().find("17 of 17 blocks fused in row bands"), std::string::npos) << c.summary();
  // Every block chosen: the schedule built on the way is the plan's, given back.
  std::optional<runtime::Schedule> given;
  o = profile::apply_fusion(g, a, &flat, {}, {}, &c, &given);
  ASSERT_TRUE(given.has_value());
  const auto rebuilt = runtime::Schedule::build(g, a, o);
  ASSERT_TRUE(rebuilt.has_value());
  ASSERT_EQ(given->steps.size(), rebuilt->steps.size());
  for (std::size_t i = 0; i < given->steps.size(); ++i)
    EXPECT_EQ(given->steps[i].info.name, rebuilt->steps[i].info.name);
  EXPECT_EQ(given->arena_floats, rebuilt->arena_floats);
  // Forced slices: built on the way to count what fuses (ir1 has no expand:
  // it fuses in row bands only), so given.
  o = profile::apply_fusion(g, a, &flat, {Mode::Slices, 4}, {}, &c, &given);
  ASSERT_TRUE(given.has_value());
  EXPECT_EQ(c.fused, 16);
  EXPECT_EQ(std::count_if(given->steps.begin(), given->steps.end(), [](const auto& st) { return st.bottleneck; }), 16);
  EXPECT_NE(c.summary().find("16 of 17 blocks fused over 4 channel slices (the others"), std::string::npos)
      << c.summary();
  // IGCV3 blocks (grouped convolutions) fuse in row bands only.
  {
    const ir::Graph igcv3 = testing::load_preset("igcv3_d");
    const cost::Analysis ia = cost::analyze(igcv3);
    profile::apply_fusion(igcv3, ia, &flat, {Mode::Slices, 4}, {}, &c);
    EXPECT_EQ(c.candidates, 32);
    EXPECT_EQ(c.fused, 0);
    profile::apply_fusion(igcv3, ia, &flat, {Mode::Rows, 0}, {}, &c);
    EXPECT_EQ(c.fused, 32);
    // EfficientNet's blocks stop at the depthwise for squeeze-excite: no project to slice for.
    const ir::Graph eff = testing::load_preset("efficientnet_b0");
    profile::apply_fusion(eff, cost::analyze(eff), &flat, {Mode::Slices, 4}, {}, &c);
    EXPECT_EQ(c.candidates, 15);
    EXPECT_EQ(c.fused, 0);
    EXPECT_NE(c.summary().find("without an expand or a project"), std::string::npos) << c.summary();
  }
  // A model where the fused step costs more than the ops it covers: nothing fused.
  profile::LatencyModel dear = flat;
  dear.fits[static_cast<std::size_t>(StepKind::FusedBottleneck)].coef[0] = 10000.0;
  o = profile::apply_fusion(g, a, &dear, {}, {}, &c);
  EXPECT_FALSE(o.fuse_rows);
  EXPECT_EQ(c.fused, 0);
  // No model: op by op, and the summary says why.
  o = profile::apply_fusion(g, a, nullptr, {}, {}, &c);
  EXPECT_FALSE(o.fuse_rows);
  EXPECT_EQ(o.split, 0);
  EXPECT_NE(c.summary().find("no latency model"), std::string::npos) << c.summary();
  // Forced forms ignore the model and fuse every chain.
  o = profile::apply_fusion(g, a, &dear, {Mode::Rows, 0}, {}, &c);
  EXPECT_TRUE(o.fuse_rows);
  EXPECT_FALSE(o.fused_nodes.has_value());
  EXPECT_EQ(c.fused, 17);
  o = profile::apply_fusion(g, a, &flat, {Mode::Slices, 4}, {}, &c);
  EXPECT_EQ(o.split, 4);
  EXPECT_FALSE(o.fuse_rows);
  EXPECT_NE(c.summary().find("over 4 channel slices"), std::string::npos) << c.summary();
  o = profile::apply_fusion(g, a, &flat, {Mode::Off, 0}, {}, &c);
  EXPECT_FALSE(o.fuse_rows);
  EXPECT_EQ(o.split, 0);
  EXPECT_EQ(c.fused, 0);
}

/// Samples made from known coefficients over a preset's real steps.
std::vector<profile::Sample> synthetic(const runtime::Schedule& s, const std::vector<double>& coef, StepKind kind) {
  std::vector<profile::Sample> out;
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    const auto f = profile::step_features(s, i);
    if (f.kind != kind) continue;
    double ns = 0;
    for (std::size_t j = 0; j < std::min(coef.size(), static_cast<std::size_t>(f.n)); ++j) ns += coef[j] * f.x[j];
    out.push_back({f, ns});
  }
  return out;
}

TEST(LatencyModel, FitRecoversKnownCoefficients) {
  std::vector<profile::Sample> samples;
  for (const char* p : {"mobilenet_v1", "mobilenet_v2", "xception", "squeezenet1_0", "mobilenet_v3_large"}) {
    for (double alpha : {0.5, 1.0}) {
      ir::Graph g = testing::load_preset(p);
      g.settings.alpha = alpha;
      const cost::Analysis a = cost::analyze(g);
      auto s = runtime::Schedule::build(g, a, {});
      ASSERT_TRUE(s);
      // Depthwise: 2 us fixed, 0.05 ns per stride-1 tap, 0.09 per stride-2 tap, 0.1 per output.
      auto d = synthetic(*s, {2000, 0.05, 0.09, 0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, StepKind::Depthwise);
      samples.insert(samples.end(), d.begin(), d.end());
    }
  }
  profile::LatencyModel m;
  profile::fit(m, samples);
  const auto& k = m.fits[static_cast<std::size_t>(StepKind::Depthwise)];
  // 10 of the shape, 2 input and 2 output caches lost, across threads, 2 between cores, halo rows,
  // 2 of the weights
  ASSERT_EQ(k.coef.size(), 20u);
  EXPECT_NEAR(k.coef[0], 2000, 1e-3);
  EXPECT_NEAR(k.coef[1], 0.05, 1e-9);
  EXPECT_NEAR(k.coef[2], 0.09, 1e-9);
  EXPECT_NEAR(k.coef[3], 0.1, 1e-9);
  EXPECT_LT(k.median_abs_error, 1e-9);
  for (const auto& smp : samples) EXPECT_NEAR(m.predict(smp.f).ns / smp.ns, 1.0, 1e-9);
}

TEST(LatencyModel, FitKeepsCoefficientsNonNegative) {
  // Time falls as the output grows (impossible for a kernel, and noise can suggest it):
  // an unconstrained fit would give that feature a negative cost.
  const runtime::Schedule s = schedule_of("mobilenet_v2");
  std::vector<profile::Sample> samples;
  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    const auto f = profile::step_features(s, i);
    if (f.kind != StepKind::Add) continue;
    samples.push_back({f, 50000.0 - 0.001 * f.x[1]});
  }
  ASSERT_GE(samples.size(), 5u);
  profile::LatencyModel m;
  profile::fit(m, samples);
  for (double c : m.fits[static_cast<std::size_t>(StepKind::Add)].coef) EXPECT_GE(c, 0.0);
}

TEST(LatencyModel, MultiplyAddsCostAtLeastWhatThePeakAllows) {
  // GEMM steps timed at twice a 100 GFLOP/s peak (impossible; a noisy calibration
  // can suggest it by trading features against each other): 0.01 ns per multiply-add
  // plus a fixed 300 ns.
  std::vector<profile::Sample> samples;
  for (const char* p : {"mobilenet_v1", "mobilenet_v2", "squeezenet1_0"}) {
    const runtime::Schedule s = schedule_of(p);
    auto d = synthetic(s, {300, 0, 0.01, 0, 0, 0, 0, 0, 0, 0}, StepKind::Gemm);
    samples.insert(samples.end(), d.begin(), d.end());
  }
  ASSERT_GE(samples.size(), 30u);
  profile::LatencyModel free_fit;
  profile::fit(free_fit, samples);
  EXPECT_NEAR(free_fit.fits[static_cast<std::size_t>(StepKind::Gemm)].coef[2], 0.01, 1e-9);
  profile::LatencyModel floored;
  floored.peak_gflops = 100;  // 2 FLOP per multiply-add: at least 0.02 ns each
  profile::fit(floored, samples);
  const auto& k = floored.fits[static_cast<std::size_t>(StepKind::Gemm)];
  EXPECT_NEAR(k.coef[2], 0.02, 1e-9);
  EXPECT_NEAR(k.coef[3], 0.02, 1e-9);  // a narrow last panel's multiply-adds too
  for (const auto& smp : samples) {
    EXPECT_GE(floored.predict(smp.f).ns, 0.02 * smp.f.x[2] * (1 - 1e-9));
  }
  // Other features are not floored.
  EXPECT_EQ(k.coef[1], 0.0);
}

TEST(LatencyModel, FitUsesOneBlockProbesForFeaturesNetworksLack) {
  // Shuffles of two groups timed inside networks (as ShuffleNet units are), of
  // four and eight groups only in one-block probes. Fitting on the network
  // samples alone would leave "other groups" at zero cost (IGCV2's interleaves
  // were predicted at 0 us that way); the fit must take every sample.
  const runtime::Schedule shuffle_net = schedule_of("shufflenet_v2_x1_0");
  const runtime::Schedule igc = schedule_of("igcv2_mobilenet");
  std::vector<profile::Sample> samples;
  const std::vector<double> coef{1500, 0.1, 0.9, 0};  // fixed ns, ns per element (2 groups), (other groups), pixel
  for (auto s : synthetic(shuffle_net, coef, StepKind::Shuffle)) {
    s.in_network = true;
    samples.push_back(s);
  }
  const auto other = synthetic(igc, coef, StepKind::Shuffle);
  ASSERT_GE(samples.size(), 9u);  // enough network samples to be used alone
  ASSERT_FALSE(other.empty());
  for (const auto& s : other) EXPECT_GT(s.f.x[2], 0.0) << "IGCV2 interleaves more than two groups";
  samples.insert(samples.end(), other.begin(), other.end());
  profile::LatencyModel m;
  profile::fit(m, samples);
  const auto& k = m.fits[static_cast<std::size_t>(StepKind::Shuffle)];
  ASSERT_EQ(k.coef.size(), 11u);
  EXPECT_NEAR(k.coef[2], 0.9, 1e-6);
  for (const auto& s : other) {
    const auto p = m.predict(s.f);
    EXPECT_NEAR(p.ns / s.ns, 1.0, 1e-6);
    EXPECT_FALSE(p.extrapolated);
  }
}

TEST(LatencyModel, ExtrapolatedWhereAnOutOfRangeFeatureMatters) {
  // A kind fitted on features 1..3 in [10, 100]: 1000 ns fixed, 10 ns a unit.
  profile::LatencyModel m;
  auto& k = m.fits[static_cast<std::size_t>(StepKind::Gemm)];
  k.coef = {1000, 10, 10, 10};
  k.lo = {1, 10, 10, 10};
  k.hi = {1, 100, 100, 100};
  auto predict = [&](double a, double b, double c) {
    profile::StepFeatures f;
    f.kind = StepKind::Gemm;
    f.n = 4;
    f.x[0] = 1;
    f.x[1] = a;
    f.x[2] = b;
    f.x[3] = c;
    return m.predict(f);
  };
  EXPECT_FALSE(predict(50, 50, 50).extrapolated);
  EXPECT_FALSE(predict(140, 50, 50).extrapolated) << "within half again of the range";
  EXPECT_TRUE(predict(400, 50, 50).extrapolated) << "4000 ns of 6000 from a feature 4x past the range";
  EXPECT_TRUE(predict(50, 2, 5000).extrapolated);
  // Below the range and worth 20 ns of a 2020 ns prediction: not marked.
  const auto small = predict(50, 2, 50);
  EXPECT_FALSE(small.extrapolated);
  EXPECT_DOUBLE_EQ(small.ns, 1000 + 500 + 20 + 500);
  // Below the range but a tenth of the prediction or more: marked.
  k.coef[2] = 200;
  EXPECT_TRUE(predict(50, 2, 50).extrapolated);
}

TEST(LatencyModel, PairedProbesMeasureTheFusedExp) {
  // One-block pointwise probes timed in pairs (the same shape with and without a
  // fused swish) show 0.16 ns per element; inside networks the swish steps also
  // ran 30 % slower for a reason no feature has (they were timed while the
  // machine was busier). A fit over the networks would charge that to the
  // swish; the pairs' difference must set its cost.
  const runtime::Schedule s = schedule_of("mobilenet_v2");
  const std::vector<double> coef{300, 0, 0.005, 0.01, 0.04, 0.08, 0, 0.005, 0.16, 0.02, 0.03};
  std::vector<profile::Sample> samples;
  const auto base = synthetic(s, coef, StepKind::Gemm);
  ASSERT_GE(base.size(), 30u);
  const int swish = 8, output = 5;
  ASSERT_NE(profile::feature_names(StepKind::Gemm, false)[swish].find("swish"), std::string::npos);
  for (const auto& b : base) {  // one-block pairs: without, then with the swish
    profile::Sample plain = b, fused = b;
    plain.f.x[swish] = 0;
    plain.ns = b.ns - 0.16 * b.f.x[swish];
    fused.f.x[swish] = b.f.x[output];  // every output element
    fused.ns = plain.ns + 0.16 * fused.f.x[swish];
    samples.push_back(plain);
    samples.push_back(fused);
  }
  for (std::size_t i = 0; i < base.size(); ++i) {  // in networks: half the steps fused, those slowed down
    profile::Sample n = samples[2 * i + (i % 2)];
    n.in_network = true;
    if (i % 2 == 1) n.ns *= 1.3;
    samples.push_back(n);
  }
  profile::LatencyModel m;
  profile::fit(m, samples);
  const auto& k = m.fits[static_cast<std::size_t>(StepKind::Gemm)];
  ASSERT_GT(k.coef.size(), static_cast<std::size_t>(swish));
  EXPECT_NEAR(k.coef[swish], 0.16, 1e-9);
  // Without pairs the same network samples put the swish well above its cost.
  std::vector<profile::Sample> networks_only(samples.begin() + static_cast<std::ptrdiff_t>(2 * base.size()),
                                             samples.end());
  profile::LatencyModel confounded;
  profile::fit(confounded, networks_only);
  EXPECT_GT(confounded.fits[static_cast<std::size_t>(StepKind::Gemm)].coef[swish], 0.2);
}

// A cache line between two threads and back: on any machine with two CPUs it
// takes longer than a core's own cache does (a few ns), and under 0.1 s even when
// other tests keep the CPUs busy and each wait waits for the scheduler.
TEST(SpeedProbe, TimesACacheLineBetweenCores) {
  if (std::thread::hardware_concurrency() < 2) {
    EXPECT_EQ(profile::core_round_trip_ns(), 0.0);
    GTEST_SKIP() << "one CPU";
  }
  const double ns = profile::core_round_trip_ns(200, 3);
  if (ns == 0) GTEST_SKIP() << "too busy: no batch within a second";
  EXPECT_GT(ns, 10.0);
  EXPECT_LT(ns, 1e8);
  EXPECT_EQ(profile::core_round_trip_ns(0, 3), 0.0);
}

TEST(LatencyModel, CrossCoreFeaturesScaleWithTheCoresRoundTrip) {
  // Two threads: the features marked cross-core are exactly those named for
  // the hand-off and the lines of another core, and only they scale.
  ir::Graph g = testing::graph_for_kind("inverted_residual", {{"out", 32}, {"expansion", 6}}, ir::Shape{28, 28, 32});
  const cost::Analysis a = cost::analyze(g);
  runtime::PlanOptions po;
  po.threads = 2;
  auto s = runtime::Schedule::build(g, a, po);
  ASSERT_TRUE(s);
  const auto features = profile::schedule_features(*s);
  int marked = 0;
  for (const auto& f : features) {
    const auto names = profile::feature_names(f.kind, profile::has_weights(f.kind));
    ASSERT_EQ(static_cast<int>(names.size()), f.n);
    for (int j = 0; j < f.n; ++j) {
      const std::string& name = names[static_cast<std::size_t>(j)];
      const bool cross = name.find("another core") != std::string::npos || name.find("hand-off") != std::string::npos;
      EXPECT_EQ((f.cross_core >> j & 1u) != 0, cross) << name;
      marked += cross ? 1 : 0;
    }
  }
  EXPECT_GT(marked, 0);
  // A model costing 1 ns per unit of every feature: scaling by 3 adds twice the cross-core features' sum.
  profile::LatencyModel m;
  m.threads = 2;
  for (const auto& f : features) {
    auto& fit = m.fits[static_cast<std::size_t>(f.kind)];
    fit.coef.assign(static_cast<std::size_t>(f.n), 1.0);
    fit.lo.assign(static_cast<std::size_t>(f.n), 0.0);
    fit.hi.assign(static_cast<std::size_t>(f.n), 1e12);
  }
  for (const auto& f : features) {
    double all = 0, cross = 0;
    for (int j = 0; j < f.n; ++j) {
      all += f.x[static_cast<std::size_t>(j)];
      cross += f.cross_core >> j & 1u ? f.x[static_cast<std::size_t>(j)] : 0.0;
    }
    m.cross_core_scale = 1;
    EXPECT_DOUBLE_EQ(m.predict(f).ns, all);
    m.cross_core_scale = 3;
    EXPECT_NEAR(m.predict(f).ns, all + 2 * cross, 1e-9 * (all + cross) + 1e-9);
  }
  // The description says so (the profile's and the app's "predicted ... (model)" line).
  EXPECT_NE(m.describe().find("cross-core costs x3.00"), std::string::npos);
  m.cross_core_scale = 1.05;
  EXPECT_EQ(m.describe().find("cross-core"), std::string::npos);
  // Against what was measured around a run: one thread, or a round trip
  // unknown on either side, has nothing to scale by.
  profile::RunConditions around;
  // (the run's round trip, the model's, its threads) -> the scale
  for (const auto& [run, model, threads, scale] : std::vector<std::tuple<double, double, int, double>>{
           {300, 100, 2, 3.0}, {300, 0, 2, 1.0}, {0, 100, 2, 1.0}, {300, 100, 1, 1.0}}) {
    around.round_trip_ns = run;
    m.round_trip_ns = model;
    m.threads = threads;
    EXPECT_DOUBLE_EQ(around.cross_core_scale(m), scale) << run << " " << model << " " << threads;
  }
  around.probe_ns = 1.5e6;
  m.reference_ns = 1.2e6;
  EXPECT_DOUBLE_EQ(around.speed(m), 1.25);
  m.reference_ns = 0;
  EXPECT_EQ(around.speed(m), 0.0);
}

TEST(SpeedProbe, TimesTheReferenceAndNamesTheDrift) {
  auto probe = profile::SpeedProbe::build(kernels::best_kernels());
  ASSERT_TRUE(probe) << probe.error().front().message;
  const double a = probe->time_ns(0.005), b = probe->time_ns(0.005);
  EXPECT_GT(a, 1e4);  // a network of some 30 M multiply-adds: more than 10 us on any CPU
  EXPECT_LT(a, 1e9);
  EXPECT_GT(b, 1e4);
  // Around a run: the run always happens; no reference or a cancelled run gives no speed.
  int runs = 0;
  auto run = [&] { return ++runs > 0; };
  EXPECT_NEAR(probe->time_around(run) / a, 1.0, 0.9);  // the same probe a moment later: about 1 (a shared machine)
  EXPECT_EQ(probe->time_around([&] { return ++runs < 0; }), 0.0);  // cancelled
  // The conditions around a run: neutral without a model or a reference.
  const profile::RunConditions none = profile::conditions_around(kernels::best_kernels(), nullptr, run);
  EXPECT_EQ(none.probe_ns, 0.0);
  EXPECT_EQ(none.round_trip_ns, 0.0);
  profile::LatencyModel m;
  m.threads = 1;
  m.round_trip_ns = 100;
  EXPECT_EQ(profile::conditions_around(kernels::best_kernels(), &m, run).probe_ns, 0.0);  // no reference time
  m.reference_ns = a;
  const profile::RunConditions one = profile::conditions_around(&*probe, &m, run);
  EXPECT_NEAR(one.speed(m), 1.0, 0.9);
  EXPECT_EQ(one.round_trip_ns, 0.0);  // one thread: no cores to cross
  m.threads = 2;                      // the round trip measured, if this machine lets the process run on a second CPU
  const profile::RunConditions two = profile::conditions_around(kernels::best_kernels(), &m, run);
  EXPECT_GT(two.probe_ns, 0.0);
  EXPECT_GE(two.round_trip_ns, 0.0);
  EXPECT_EQ(runs, 6);
  EXPECT_EQ(profile::describe_drift(1.05), "");
  EXPECT_EQ(profile::describe_drift(0), "");
  EXPECT_EQ(profile::describe_drift(1.2), "the machine runs 20 % slower than when the latency model was calibrated");
  EXPECT_EQ(profile::describe_drift(0.75), "the machine runs 25 % faster than when the latency model was calibrated");
  EXPECT_EQ(profile::describe_drift(1.07, 0.05).find("7 % slower") != std::string::npos, true);
}

TEST(LatencyModel, CacheKeepsOneModelPerPlacementOfTheCores) {
  const auto dir = std::filesystem::temp_directory_path() / ("convscope_placements_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ::setenv("CONVSCOPE_CACHE_DIR", dir.c_str(), 1);
  const kernels::KernelTable& kt = kernels::best_kernels();
  auto model = [&](double trip, const char* at) {
    profile::LatencyModel m;
    m.cpu = kernels::cpu_info().model;
    m.isa = kernels::isa_name(kt.isa);
    m.threads = 2;
    m.kernel_revision = kernels::kKernelRevision;
    m.measured_at = at;
    m.round_trip_ns = trip;
    return m;
  };
  auto trips = [&] {
    std::vector<double> out;
    for (const auto& m : profile::cached_latency_models(kt, 2).placements) out.push_back(m.round_trip_ns);
    return out;
  };
  profile::save_latency_model(kt, model(110, "2026-12-06T20:00:00Z"));
  EXPECT_EQ(trips(), (std::vector<double>{110}));
  // The same placement again replaces it; another keeps both, the newest first.
  profile::save_latency_model(kt, model(130, "2026-12-06T20:01:00Z"));
  EXPECT_EQ(trips(), (std::vector<double>{130}));
  profile::save_latency_model(kt, model(380, "2026-12-06T20:02:00Z"));
  EXPECT_EQ(trips(), (std::vector<double>{380, 130}));
  profile::save_latency_model(kt, model(400, "2026-12-06T20:03:00Z"));  // the far one again: the near one stays
  EXPECT_EQ(trips(), (std::vector<double>{400, 130}));
  profile::save_latency_model(kt, model(100, "2026-12-06T20:04:00Z"));
  EXPECT_EQ(trips(), (std::vector<double>{100, 400}));
  // The model loaded is one of the two whichever placement this machine has now.
  const auto cached = profile::load_latency_model(kt, 2);
  ASSERT_TRUE(cached.model);
  EXPECT_TRUE(cached.model->round_trip_ns == 100 || cached.model->round_trip_ns == 400);
  EXPECT_EQ(cached.placements.size(), 2u);
  // Without measuring, the newest is the model.
  const auto unmeasured = profile::cached_latency_models(kt, 2);
  ASSERT_TRUE(unmeasured.model);
  EXPECT_EQ(unmeasured.model->round_trip_ns, 100);
  // After a run, the model of the placement the run found; the fallback where one thread has no placements.
  EXPECT_EQ(profile::model_for_round_trip(kt, 2, 370, *unmeasured.model).round_trip_ns, 400);
  EXPECT_EQ(profile::model_for_round_trip(kt, 2, 90, *unmeasured.model).round_trip_ns, 100);
  EXPECT_EQ(profile::model_for_round_trip(kt, 3, 90, model(55, "x")).round_trip_ns, 55);
  // One thread has one model: nothing to place.
  profile::LatencyModel one = model(0, "2026-12-06T20:05:00Z");
  one.threads = 1;
  profile::save_latency_model(kt, one);
  EXPECT_EQ(profile::load_latency_model(kt, 1).placements.size(), 1u);
  // A stale model of the other placement is not used.
  {
    std::ifstream in(profile::latency_cache_path());
    nlohmann::json all = nlohmann::json::parse(in);
    for (auto& [key, value] : all.items())
      if (key.find("other core placement") != std::string::npos) value["kernel_revision"] = 1;
    std::ofstream(profile::latency_cache_path()) << all.dump();
  }
  EXPECT_EQ(trips(), (std::vector<double>{100}));
  // A stale model in front, a far one kept: a new far one leaves no second far model.
  profile::save_latency_model(kt, model(390, "2026-12-06T20:06:00Z"));
  EXPECT_EQ(trips(), (std::vector<double>{390, 100}));
  {
    std::ifstream in(profile::latency_cache_path());
    nlohmann::json all = nlohmann::json::parse(in);
    all[kernels::cpu_info().model + " | " + kernels::isa_name(kt.isa) + " | 2"]["kernel_revision"] = 1;
    std::ofstream(profile::latency_cache_path()) << all.dump();
  }
  EXPECT_FALSE(profile::load_latency_model(kt, 2).model);  // the model in front is stale
  EXPECT_FALSE(profile::cached_latency_models(kt, 2).model);
  profile::save_latency_model(kt, model(120, "2026-12-06T20:07:00Z"));
  EXPECT_EQ(trips(), (std::vector<double>{120}));  // the near model of 20:04 was not kept behind the stale one
  ::unsetenv("CONVSCOPE_CACHE_DIR");
  std::filesystem::remove_all(dir);
}

TEST(LatencyCalibration, WaitsForThePlacementAskedForAndSaysWhenItNeverCame) {
  // A round trip no machine has: the calibration waits, then fails naming the range, before timing a probe.
  profile::LatencyCalibrationOptions o;
  o.threads = 2;
  o.probe_stride = 1000;
  o.min_round_trip_ns = 1e9;
  o.placement_wait_seconds = 0.3;
  const auto m = profile::calibrate_latency(kernels::best_kernels(), o);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().front().message.find("the cores' round trip stayed outside 1000000000-inf ns"), std::string::npos)
      << m.error().front().message;
}

TEST(LatencyModel, NearestPlacementByRatio) {
  profile::LatencyModel near, far, fallback;
  near.round_trip_ns = 110;
  far.round_trip_ns = 390;
  const std::vector<profile::LatencyModel> both{near, far};
  EXPECT_EQ(profile::nearest_placement(both, 120, fallback).round_trip_ns, 110);
  EXPECT_EQ(profile::nearest_placement(both, 350, fallback).round_trip_ns, 390);
  EXPECT_EQ(profile::nearest_placement(both, 200, fallback).round_trip_ns, 110);  // 1.82x from 110, 1.95x from 390
  EXPECT_EQ(profile::nearest_placement(both, 1000, fallback).round_trip_ns, 390);
  EXPECT_EQ(&profile::nearest_placement(both, 0, fallback), &fallback);  // not measured
  EXPECT_EQ(&profile::nearest_placement({}, 120, fallback), &fallback);
}

TEST(LatencyModel, FileRoundTripAndStaleDetection) {
  profile::LatencyModel m;
  m.cpu = kernels::cpu_info().model;
  m.isa = "avx2";
  m.threads = 1;
  m.kernel_revision = kernels::kKernelRevision;
  m.measured_at = "2026-12-01T00:00:00Z";
  m.network_factor = 1.04;
  m.network_step_ns = 850;
  m.footprint_slope = 0.055;
  m.footprint_log2_lo = -0.5;
  m.footprint_log2_mid = 3.7;
  m.footprint_log2_hi = 6.1;
  m.peak_gflops = 118.2;
  m.reference_ns = 1.25e6;
  m.calibration_drift = 0.07;
  m.core_round_trip_ns = {480, 137};
  m.round_trip_ns = 402;
  m.other_placement_share = 0.25;
  m.cross_core_scale = 3;  // not saved: a prediction's, not the model's
  m.fits[static_cast<std::size_t>(StepKind::Add)] = {{100, 0.5, 0.1, 0.3, 0.6, 0.2, 0.4, 900, 0.05, 0.1},
                                                     12,
                                                     {1, 10, 0, 0, 0, 0, 0, 0, 0, 0},
                                                     {1, 1e6, 5, 1e6, 1e6, 1e6, 1e6, 1, 1e6, 1e6},
                                                     0.03};
  auto back = profile::latency_model_from_json(profile::to_json(m));
  ASSERT_TRUE(back) << back.error().front().message;
  EXPECT_EQ(back->fits[static_cast<std::size_t>(StepKind::Add)].coef,
            (std::vector<double>{100, 0.5, 0.1, 0.3, 0.6, 0.2, 0.4, 900, 0.05, 0.1}));
  EXPECT_DOUBLE_EQ(back->network_factor, 1.04);
  EXPECT_DOUBLE_EQ(back->network_step_ns, 850);
  EXPECT_DOUBLE_EQ(back->footprint_slope, 0.055);
  EXPECT_DOUBLE_EQ(back->footprint_log2_lo, -0.5);
  EXPECT_DOUBLE_EQ(back->footprint_log2_mid, 3.7);
  EXPECT_DOUBLE_EQ(back->footprint_log2_hi, 6.1);
  EXPECT_DOUBLE_EQ(back->peak_gflops, 118.2);
  EXPECT_DOUBLE_EQ(back->reference_ns, 1.25e6);
  EXPECT_DOUBLE_EQ(back->calibration_drift, 0.07);
  EXPECT_EQ(back->core_round_trip_ns, (std::array<double, 2>{480, 137}));
  EXPECT_DOUBLE_EQ(back->round_trip_ns, 402);
  EXPECT_DOUBLE_EQ(back->other_placement_share, 0.25);
  {
    nlohmann::json bad = profile::to_json(m);
    bad["core_round_trip_other_placement_share"] = 1.5;
    const auto refused = profile::latency_model_from_json(bad);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().front().where, "core_round_trip_other_placement_share");
    bad.erase("core_round_trip_other_placement_share");  // a model saved before it was counted
    EXPECT_DOUBLE_EQ(profile::latency_model_from_json(bad)->other_placement_share, 0.0);
  }
  EXPECT_DOUBLE_EQ(back->cross_core_scale, 1);
  EXPECT_EQ(back->mismatch(m.cpu, "avx2", 1), "");
  EXPECT_NE(back->mismatch("Another CPU", "avx2", 1).find("calibrated on '" + m.cpu + "'"), std::string::npos);
  EXPECT_NE(back->mismatch(m.cpu, "avx512", 1).find("timed the avx2 kernels"), std::string::npos);
  EXPECT_NE(back->mismatch(m.cpu, "avx2", 2).find("calibrated with 1 threads, not 2"), std::string::npos);
  nlohmann::json j = profile::to_json(m);
  j["kernel_revision"] = kernels::kKernelRevision - 1;
  EXPECT_NE(profile::latency_model_from_json(j)->mismatch(m.cpu, "avx2", 1).find("kernel revision"), std::string::npos);
  j = profile::to_json(m);
  j["fits"]["add"]["coef"] = {100, -0.5, 0.1};
  auto bad = profile::latency_model_from_json(j);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().front().where, "fits.add");
  j = profile::to_json(m);
  j["core_round_trip_ns"] = {480};
  bad = profile::latency_model_from_json(j);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().front().where, "core_round_trip_ns");
  j.erase("core_round_trip_ns");  // a model saved before it was measured: not measured
  EXPECT_EQ(profile::latency_model_from_json(j)->core_round_trip_ns, (std::array<double, 2>{0, 0}));
  j = profile::to_json(m);
  j["core_round_trip_reference_ns"] = -402;
  ASSERT_FALSE(profile::latency_model_from_json(j));
  EXPECT_EQ(profile::latency_model_from_json(j).error().front().where, "core_round_trip_reference_ns");
  j = profile::to_json(m);
  j["network_step_ns"] = -3;
  ASSERT_FALSE(profile::latency_model_from_json(j));
  EXPECT_EQ(profile::latency_model_from_json(j).error().front().where, "network_step_ns");
  j = profile::to_json(m);
  j["reference_ns"] = -1;
  ASSERT_FALSE(profile::latency_model_from_json(j));
  EXPECT_EQ(profile::latency_model_from_json(j).error().front().where, "reference_ns");
  j = profile::to_json(m);
  j["fits"]["add"]["coef"] = {100, 0.5};
  EXPECT_FALSE(profile::latency_model_from_json(j));
  EXPECT_FALSE(profile::latency_model_from_json(nlohmann::json::array()));
}

TEST(LatencyModel, NetworkOverheadPerStepIsFittedRobustly) {
  // Probe networks whose whole runs cost 1.05 x their steps + 1.5 us per step;
  // one was timed in a load burst (three times too slow).
  std::vector<profile::NetworkSample> nets;
  for (int i = 0; i < 20; ++i) {
    const int steps = 20 + 7 * i;
    const double sum = 2e5 + 9e4 * ((i * 13) % 20);  // 0.2 to 1.9 ms, not in step order
    nets.push_back({1.05 * sum + 1500.0 * steps, sum, steps});
  }
  nets[7].whole_ns *= 3;
  profile::LatencyModel m;
  profile::fit_network(m, nets);
  EXPECT_NEAR(m.network_factor, 1.05, 1e-6);
  EXPECT_NEAR(m.network_step_ns, 1500, 1e-3);
  // A network of many short steps is now predicted as far over its sum as it ran.
  EXPECT_NEAR(m.network_factor * 1e5 + m.network_step_ns * 100, 1.05e5 + 1.5e5, 1.0);
  // Runs that cost less per step the more steps they have: no negative overhead,
  // the median ratio instead.
  std::vector<profile::NetworkSample> odd;
  for (int i = 0; i < 10; ++i) odd.push_back({1.2 * 1e6 - 500.0 * (10 + i), 1e6, 10 + i});
  profile::fit_network(m, odd);
  EXPECT_EQ(m.network_step_ns, 0);
  EXPECT_NEAR(m.network_factor, (1.2e6 - 500.0 * 14.5) / 1e6, 1e-3);
  // Too few networks to fit a slope: the median ratio.
  profile::fit_network(m, {{1.1e6, 1e6, 10}, {2.4e6, 2e6, 50}});
  EXPECT_EQ(m.network_step_ns, 0);
  EXPECT_NEAR(m.network_factor, 1.15, 1e-9);
  profile::fit_network(m, {});
  EXPECT_EQ(m.network_factor, 1.0);
}

TEST(LatencyModel, StepsTiltAlongTheNetworksFootprint) {
  // Probe networks of 1 to 64 MiB whose whole runs cost 1.05 x their steps x
  // (1 + 0.06 per doubling of the footprint past 8 MiB); one timed in a load burst.
  constexpr double kMiB = 1024.0 * 1024.0;
  std::vector<profile::NetworkSample> nets;
  for (int i = 0; i < 25; ++i) {
    const double log2_mib = 6.0 * ((i * 7) % 25) / 24.0;  // 0..6, not in order
    const double sum = 1e6 + 4e4 * i;
    nets.push_back({1.05 * sum * (1 + 0.06 * (log2_mib - 3.0)), sum, 30, std::exp2(log2_mib) * kMiB});
  }
  nets[11].whole_ns *= 3;
  profile::LatencyModel m;
  profile::fit_network(m, nets);
  EXPECT_NEAR(m.footprint_slope, 0.06, 0.003);
  EXPECT_NEAR(m.footprint_log2_mid, 3.0, 0.3);
  EXPECT_DOUBLE_EQ(m.footprint_log2_lo, 0.5);  // the tenth smallest's: 2 of 25 below it
  EXPECT_DOUBLE_EQ(m.footprint_log2_hi, 6.0);
  EXPECT_NEAR(m.network_factor, 1.05, 0.01);
  EXPECT_EQ(m.network_step_ns, 0);
  // Each network is predicted as far over its steps as it ran (the burst and the two
  // below the range aside).
  for (std::size_t i = 0; i < nets.size(); ++i) {
    if (i == 11 || nets[i].footprint_bytes < std::sqrt(2.0) * kMiB) continue;
    EXPECT_NEAR(m.network_factor * m.footprint_scale(nets[i].footprint_bytes) * nets[i].steps_ns / nets[i].whole_ns,
                1.0, 0.02)
        << i;
  }
  // Beyond the probe networks' footprints the tilt stays where theirs ended.
  EXPECT_DOUBLE_EQ(m.footprint_scale(512 * kMiB), m.footprint_scale(64 * kMiB));
  EXPECT_DOUBLE_EQ(m.footprint_scale(0.1 * kMiB), m.footprint_scale(std::sqrt(2.0) * kMiB));
  EXPECT_LT(m.footprint_scale(1 * kMiB), 1.0);
  EXPECT_GT(m.footprint_scale(64 * kMiB), 1.0);
  // A network's steps carry the tilt of its own footprint.
  const ir::Graph g = testing::load_preset("mobilenet_v2");
  const auto s = runtime::Schedule::build(g, cost::analyze(g), {});
  ASSERT_TRUE(s);
  profile::LatencyModel flat = profile::LatencyModel::per_step(1000.0);
  const profile::NetworkPrediction plain = flat.predict(*s);
  flat.footprint_slope = m.footprint_slope;
  flat.footprint_log2_lo = m.footprint_log2_lo;
  flat.footprint_log2_mid = m.footprint_log2_mid;
  flat.footprint_log2_hi = m.footprint_log2_hi;
  const double tilt = flat.footprint_scale(profile::network_footprint(*s));
  EXPECT_GT(profile::network_footprint(*s), 8 * kMiB);  // 19 MiB: past the middle
  EXPECT_GT(tilt, 1.0);
  const profile::NetworkPrediction tilted = flat.predict(*s);
  EXPECT_NEAR(tilted.total_ns, plain.total_ns * tilt, 1e-6 * plain.total_ns);
  for (std::size_t i = 0; i < plain.steps.size(); ++i) EXPECT_DOUBLE_EQ(tilted.steps[i].ns, plain.steps[i].ns * tilt);
  // Footprints all alike (less than a doubling apart), or unknown: no tilt.
  for (auto& n : nets) n.footprint_bytes = 8 * kMiB * (1 + 0.01 * (n.steps_ns / 1e6));
  profile::fit_network(m, nets);
  EXPECT_EQ(m.footprint_slope, 0);
  EXPECT_DOUBLE_EQ(m.footprint_scale(64 * kMiB), 1.0);
  // A saved tilt whose range is out of order is refused, naming the field.
  profile::LatencyModel saved;
  saved.footprint_slope = 0.05;
  saved.footprint_log2_lo = 5;
  saved.footprint_log2_mid = 3;
  saved.footprint_log2_hi = 6;
  const auto refused = profile::latency_model_from_json(profile::to_json(saved));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().front().where, "footprint_log2_mib");
}

TEST(LatencyValidation, CombinesPassesAndMeasuresTheMachinesRepeatability) {
  auto row = [](const std::string& name, double measured, std::vector<double> layers) {
    profile::ValidatedNetwork r;
    r.name = name;
    r.predicted_ns = 1e6;
    r.measured_ns = measured;
    r.speed = measured / 1e6;
    r.layer_predicted_ns = std::vector<double>(layers.size(), 100);
    r.layer_measured_ns = std::move(layers);
    r.layer_kind = std::vector<StepKind>(r.layer_measured_ns.size(), StepKind::Gemm);
    return r;
  };
  // Three passes; "b" failed in the second, so it is left out of the combined rows.
  const std::vector<std::vector<profile::ValidatedNetwork>> passes = {
      {row("a", 1.00e6, {100, 100}), row("b", 2e6, {10})},
      {row("a", 1.20e6, {150, 0})},
      {row("a", 1.05e6, {130, 90})},
  };
  const auto rows = profile::combine_passes(passes);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].name, "a");
  EXPECT_DOUBLE_EQ(rows[0].measured_ns, 1.05e6);  // median of 1.00, 1.20, 1.05
  EXPECT_DOUBLE_EQ(rows[0].speed, 1.05);
  EXPECT_DOUBLE_EQ(rows[0].layer_measured_ns[0], 130);  // of 100, 150, 130
  EXPECT_DOUBLE_EQ(rows[0].layer_measured_ns[1], 90);   // of 100, 0, 90
  EXPECT_EQ(rows[0].pass_measured_ns, (std::vector<double>{1.00e6, 1.20e6, 1.05e6}));
  EXPECT_DOUBLE_EQ(rows[0].predicted_ns, 1e6);
  // Two passes: the median is their mean.
  EXPECT_DOUBLE_EQ(profile::combine_passes({passes[0], passes[2]})[0].measured_ns, 1.025e6);

  // Pass to pass: 1.00 -> 1.20 (+20 %: outside +-10 %), 1.20 -> 1.05 (-12.5 %).
  const auto rep = profile::pass_to_pass(passes);
  ASSERT_EQ(rep.size(), 2u);
  EXPECT_DOUBLE_EQ(rep[0].predicted_ns, 1.00e6);
  EXPECT_DOUBLE_EQ(rep[0].measured_ns, 1.20e6);
  EXPECT_EQ(rep[0].speed, 0);
  const auto s = profile::summarize(rep);
  EXPECT_EQ(s.networks, 2);
  EXPECT_DOUBLE_EQ(s.within_10, 0.0);
  EXPECT_NEAR(s.worst_error, 1.0 / 1.2 - 1.0, 1e-12);  // "predicted" 1.00 against 1.20
  // Layers: 100 -> 150 (out), 100 -> 0 (untimed: not a layer), 150 -> 130 (in), 0 -> 90 (untimed before).
  EXPECT_EQ(s.layers, 2);
  EXPECT_DOUBLE_EQ(s.layers_within_25, 0.5);
  EXPECT_TRUE(profile::pass_to_pass({passes[0]}).empty());
  EXPECT_TRUE(profile::combine_passes({}).empty());
}

TEST(LatencyValidation, SummarisesNetworksLayersAndStepKinds) {
  profile::ValidatedNetwork a, b;
  a.name = "a";
  a.predicted_ns = 1.04e6;  // +4 %
  a.measured_ns = 1e6;
  a.layer_predicted_ns = {100, 100, 100, 50};
  a.layer_measured_ns = {110, 200, 90, 60};  // gemm 0.91 (in), gemm 0.5 (out), dw 1.11 (in), dw 0.83 (in)
  a.layer_kind = {StepKind::Gemm, StepKind::Gemm, StepKind::Depthwise, StepKind::Depthwise};
  b.name = "b";
  b.predicted_ns = 0.8e6;  // -20 %
  b.measured_ns = 1e6;
  b.layer_predicted_ns = {100, 10};
  b.layer_measured_ns = {120, 0};  // a layer that was not timed is left out
  b.layer_kind = {StepKind::Gemm, StepKind::Add};
  const auto s = profile::summarize({a, b});
  EXPECT_EQ(s.networks, 2);
  EXPECT_DOUBLE_EQ(s.within_5, 0.5);
  EXPECT_DOUBLE_EQ(s.within_10, 0.5);
  EXPECT_NEAR(s.worst_error, -0.2, 1e-12);
  EXPECT_EQ(s.layers, 5);
  EXPECT_DOUBLE_EQ(s.layers_within_25, 4.0 / 5.0);

  const auto kinds = profile::accuracy_by_kind({a, b});
  ASSERT_EQ(kinds.size(), 2u);               // the untimed add has no layer
  EXPECT_EQ(kinds[0].kind, StepKind::Gemm);  // 430 of 580 ns measured: first
  EXPECT_EQ(kinds[0].layers, 3);
  EXPECT_DOUBLE_EQ(kinds[0].within_25, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(kinds[0].median_ratio, 1.2);  // of 1.1, 2.0, 1.2
  EXPECT_DOUBLE_EQ(kinds[0].time_share, 430.0 / 580.0);
  EXPECT_EQ(kinds[1].kind, StepKind::Depthwise);
  EXPECT_EQ(kinds[1].layers, 2);
  EXPECT_DOUBLE_EQ(kinds[1].within_25, 1.0);
  EXPECT_DOUBLE_EQ(kinds[1].time_share, 150.0 / 580.0);
  EXPECT_TRUE(profile::accuracy_by_kind({}).empty());
  // A layer predicted at 0 counts as a layer (as summarize counts it), never within, without a ratio.
  profile::ValidatedNetwork c = b;
  c.layer_predicted_ns = {0, 10};
  c.layer_measured_ns = {120, 5};
  EXPECT_EQ(profile::summarize({c}).layers, 2);
  const auto zero = profile::accuracy_by_kind({c});
  ASSERT_EQ(zero.size(), 2u);
  const auto& gemm = zero[0].kind == StepKind::Gemm ? zero[0] : zero[1];
  EXPECT_EQ(gemm.layers, 1);
  EXPECT_DOUBLE_EQ(gemm.within_25, 0.0);
  EXPECT_DOUBLE_EQ(gemm.median_ratio, 0.0);
}

TEST(LatencyCalibration, ProbesAreValidGraphs) {
  const auto all = profile::probes();
  EXPECT_GT(all.size(), 300u);
  int networks = 0;
  for (std::size_t i = 0; i < all.size(); i += 7) {
    auto g = io::graph_from_json(all[i].json);
    ASSERT_TRUE(g) << all[i].family << ": " << g.error().front().message;
    EXPECT_TRUE(cost::analyze(*g).complete()) << all[i].family << " " << all[i].json;
  }
  for (const auto& p : all) {
    if (p.family != "network") continue;
    ++networks;
    auto g = io::graph_from_json(p.json);
    ASSERT_TRUE(g) << g.error().front().message;
    EXPECT_TRUE(cost::analyze(*g).complete()) << p.json;
  }
  // 40 random, 6 of inception blocks, 4 of fire modules, 3 Winograd chains, 5 of
  // squeeze-excite, 6 of group convolutions (the last).
  EXPECT_EQ(networks, 64);
  const std::size_t group_first = all.size() - 6, se_first = group_first - 5;
  // The group networks time grouped GEMMs of 4 groups or more and shuffles of
  // more than 2 groups inside networks (the GEMM's fit uses only such steps).
  int wide_groups = 0, shuffles = 0;
  for (std::size_t i = group_first; i < all.size(); ++i) {
    ASSERT_EQ(all[i].family, "network");
    const auto g = io::graph_from_json(all[i].json);
    ASSERT_TRUE(g);
    const auto s = runtime::Schedule::build(*g, cost::analyze(*g), {});
    ASSERT_TRUE(s);
    for (const auto& st : s->steps) {
      wide_groups += st.info.kind == StepKind::Gemm && s->gemm_dims(st).groups >= 4;
      shuffles += st.info.kind == StepKind::Shuffle && st.op.groups > 2;
    }
  }
  EXPECT_GT(wide_groups, 50);
  EXPECT_GT(shuffles, 20);
  // The Winograd chains (the three before the squeeze-excite networks) run as
  // Winograd steps in networks whose footprint passes 16 MiB (their weights from DRAM).
  for (std::size_t i = se_first - 3; i < se_first; ++i) {
    ASSERT_EQ(all[i].family, "network");
    const auto g = io::graph_from_json(all[i].json);
    ASSERT_TRUE(g);
    const auto s = runtime::Schedule::build(*g, cost::analyze(*g), {});
    ASSERT_TRUE(s);
    EXPECT_GT(static_cast<double>(s->total_bytes()) / (1 << 20), 16.0) << i;
    int steps = 0;
    for (const auto& st : s->steps) steps += st.info.kind == runtime::StepKind::Winograd;
    EXPECT_EQ(steps, 4) << i;
  }
  // The squeeze-excite networks reach footprints past 16 MiB, where their
  // one-pixel GEMMs fetch weights L3 did not keep.
  int past_16_mib = 0;
  for (std::size_t i = se_first; i < group_first; ++i) {
    ASSERT_EQ(all[i].family, "network");
    const auto g = io::graph_from_json(all[i].json);
    ASSERT_TRUE(g);
    const auto s = runtime::Schedule::build(*g, cost::analyze(*g), {});
    ASSERT_TRUE(s);
    const double mib = static_cast<double>(s->total_bytes()) / (1 << 20);
    EXPECT_GT(mib, 12.0) << i;  // 15.8-70.3 MiB as picked
    past_16_mib += mib > 16.0;
  }
  EXPECT_GE(past_16_mib, 2);
  // The Winograd probes run as Winograd steps (else the kind would have no samples).
  int winograd = 0;
  for (const auto& p : all) {
    if (p.family != "winograd") continue;
    const auto g = io::graph_from_json(p.json);
    ASSERT_TRUE(g);
    const auto s = runtime::Schedule::build(*g, cost::analyze(*g), {});
    ASSERT_TRUE(s);
    for (const auto& st : s->steps) winograd += st.info.kind == StepKind::Winograd;
  }
  EXPECT_EQ(winograd, 24);
  EXPECT_EQ(profile::probes().front().json, all.front().json);  // deterministic
}

TEST(LatencyCalibration, ShortCalibrationPredictsWhatItTimed) {
  const auto dir = std::filesystem::temp_directory_path() / ("convscope_latency_" + std::to_string(::getpid()));
  ::setenv("CONVSCOPE_CACHE_DIR", dir.c_str(), 1);
  profile::LatencyCalibrationOptions o;
  o.probe_stride = 6;  // a sixth of the probes, briefly: the contract, not the accuracy
  o.seconds_per_probe = 0.002;
  o.min_runs = 3;
  std::vector<double> progress;  // over both passes: rising to 1 once
  o.progress = [&](double f) { progress.push_back(f); };
  std::vector<profile::Sample> samples;
  auto m = profile::calibrate_latency(kernels::best_kernels(), o, &samples);
  ASSERT_TRUE(m) << m.error().front().message;
  ASSERT_EQ(o.passes, 2);
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_LT(progress[progress.size() / 2 - 1], 0.5 + 1e-9);  // the first pass fills the first half
  EXPECT_DOUBLE_EQ(progress.back(), 1.0);
  EXPECT_EQ(static_cast<std::size_t>(m->probes) * 2, progress.size());
  EXPECT_EQ(m->isa, kernels::isa_name(kernels::best_kernels().isa));
  EXPECT_GT(m->probes, 50);
  EXPECT_GE(m->network_factor, 0.5);
  EXPECT_GT(m->reference_ns, 1e4);  // the speed probe was timed
  EXPECT_GE(m->calibration_drift, 0.0);
  int fitted = 0;
  for (const auto& k : m->fits) fitted += k.coef.empty() ? 0 : 1;
  EXPECT_GE(fitted, 12);
  // In-sample, the median step is predicted within a factor of two (timings of
  // microseconds on a shared machine are noisy; the accuracy report is the real test).
  std::vector<double> ratios;
  for (const auto& s : samples) ratios.push_back(m->predict(s.f).ns / s.ns);
  std::nth_element(ratios.begin(), ratios.begin() + static_cast<std::ptrdiff_t>(ratios.size() / 2), ratios.end());
  EXPECT_GT(ratios[ratios.size() / 2], 0.5);
  EXPECT_LT(ratios[ratios.size() / 2], 2.0);
  // A whole network: positive, a sum of its steps.
  const runtime::Schedule s = schedule_of("mobilenet_v2");
  const auto p = m->predict(s);
  ASSERT_EQ(p.steps.size(), s.steps.size());
  double sum = 0;
  for (const auto& st : p.steps) sum += st.ns;
  EXPECT_NEAR(p.total_ns, sum * m->network_factor + m->network_step_ns * static_cast<double>(s.steps.size()),
              1e-6 * p.total_ns);
  EXPECT_GT(p.total_ns, 1e5);  // MobileNetV2 takes more than 0.1 ms on any CPU
  // Cached under this machine's key; a model from another CPU is stale, not used.
  nlohmann::json cache{{kernels::cpu_info().model + " | " + m->isa + " | 1", profile::to_json(*m)}};
  cache.begin().value()["cpu"] = "Some Other CPU";
  std::filesystem::create_directories(dir);
  std::ofstream(profile::latency_cache_path()) << cache.dump();
  const auto cached = profile::load_latency_model(kernels::best_kernels(), 1);
  EXPECT_FALSE(cached.model);
  EXPECT_NE(cached.why_not.find("stale: it was calibrated on 'Some Other CPU'"), std::string::npos) << cached.why_not;
  std::ofstream(profile::latency_cache_path()) << "{ damaged";
  EXPECT_NE(profile::load_latency_model(kernels::best_kernels(), 1).why_not.find("no latency model"),
            std::string::npos);
  ::unsetenv("CONVSCOPE_CACHE_DIR");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace convscope
