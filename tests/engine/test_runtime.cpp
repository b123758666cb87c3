// The planned, fused, SIMD executor against the reference executor: every block
// kind, every preset, both ISAs, 1 and 2 threads. Tolerance: max |diff| <=
// 1e-4 x max |reference output| for one block, 5e-4 for whole networks (float32
// rounding, different summation order and BN folded into the weights compound
// over 50 to 120 layers; IGCV3-D, the deepest, reaches about 2e-4).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "blocks/registry.h"
#include "io/graph_json.h"
#include "runtime/plan.h"
#include "runtime/reference_executor.h"
#include "runtime/thread_pool.h"
#include "test_util.h"

namespace convscope {
namespace {

/// Runs `g` both ways and compares every graph output.
/// `o`: how to plan it (fusion forms); its weights, kernels and threads are set here.
void compare_with_reference(const ir::Graph& g, const std::string& what, const kernels::KernelTable& kt, int threads,
                            double tolerance = 1e-4, runtime::PlanOptions o = {}) {
  const auto a = cost::analyze(g);
  ASSERT_TRUE(a.complete()) << what << ": " << format_diagnostics(a.diagnostics);
  const auto w = runtime::Weights::generate(g, a, 7);
  const auto ins = testing::random_inputs(a, 3);
  const auto ref = runtime::run_reference(a, w, ins);
  o.weights = &w;
  o.kernels = &kt;
  o.threads = threads;
  auto plan = runtime::Plan::build(g, a, o);
  ASSERT_TRUE(plan.has_value()) << what << ": " << format_diagnostics(plan.error());
  for (std::size_t i = 0; i < plan->n_inputs(); ++i) std::copy(ins[i].data.begin(), ins[i].data.end(), plan->input(i));
  plan->run();
  const auto outs = runtime::output_tensors(a);
  ASSERT_EQ(outs.size(), plan->n_outputs());
  for (std::size_t i = 0; i < outs.size(); ++i) {
    const auto& r = ref[static_cast<std::size_t>(outs[i])];
    const float* got = plan->output(i);
    double scale = 1e-6, worst = 0;
    for (float v : r.data) scale = std::max(scale, static_cast<double>(std::fabs(v)));
    for (std::size_t k = 0; k < r.data.size(); ++k) {
      ASSERT_FALSE(std::isnan(got[k])) << what << " output " << i << " element " << k;
      worst = std::max(worst, std::fabs(static_cast<double>(got[k]) - r.data[k]));
    }
    EXPECT_LE(worst, tolerance * scale) << what << " (" << kernels::isa_name(kt.isa) << ", " << threads
                                        << " threads): max |diff| " << worst << " vs max |ref| " << scale;
  }
}

runtime::PlanOptions slices(std::int64_t split) {
  runtime::PlanOptions o;
  o.split = split;
  return o;
}

runtime::PlanOptions rows() {
  runtime::PlanOptions o;
  o.fuse_rows = true;
  return o;
}

std::vector<const kernels::KernelTable*> tables() {
  // Every table this CPU runs (test_kernels names the ones it cannot).
  std::vector<const kernels::KernelTable*> t;
  for (kernels::Isa isa : kernels::available_isas()) t.push_back(&kernels::kernels_for(isa));
  return t;
}

class EveryBlockKind : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryBlockKind, MatchesReference) {
  const auto* kind = blocks::Registry::builtin().find(GetParam());
  if (kind->info().category == blocks::Category::Input) return;
  std::vector<ir::ParamMap> variants{{}};
  if (kind->param("stride")) variants.push_back({{"stride", std::int64_t{2}}});
  if (kind->param("kernel")) variants.push_back({{"kernel", std::int64_t{5}}});
  if (kind->param("se")) variants.push_back({{"se", true}, {"activation", std::string("hswish")}});
  if (kind->param("crelu")) variants.push_back({{"crelu", true}});
  if (kind->param("mode") && kind->name() == "upsample") variants.push_back({{"mode", std::string("bilinear")}});
  if (kind->param("mode") && kind->name() == "pool")
    variants.push_back({{"mode", std::string("avg")}, {"padding", std::int64_t{1}}, {"kernel", std::int64_t{3}}});
  for (const auto& params : variants)
    for (const ir::Shape in : {ir::Shape{9, 11, 24}, ir::Shape{8, 8, 17 * 2}}) {
      const ir::Graph g = testing::graph_for_kind(kind->name(), params, in);
      if (!cost::analyze(g).complete()) continue;  // e.g. groups that do not divide 34 channels
      std::string what = kind->name() + " on " + in.str();
      for (const auto& [k, v] : params) what += " " + k + "=" + ir::param_value_str(v);
      for (const auto* kt : tables()) compare_with_reference(g, what, *kt, 1);
    }
}

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (const auto& k : blocks::Registry::builtin().kinds()) names.push_back(k->name());
  return names;
}
INSTANTIATE_TEST_SUITE_P(All, EveryBlockKind, ::testing::ValuesIn(kind_names()), [](const auto& p) { return p.param; });

// Convolutions wide enough for the implicit im2col (rows of >= 16 interior
// pixels read in place as segments of the input; the border pixels and the
// padded rows gathered into im2col tiles), with groups, dilation, stride,
// odd channel counts, padding and a batch of two.
TEST(ThreadPool, CoversEveryIndexOnceThroughSpinningAndSleeping) {
  // Back-to-back jobs (workers spinning), jobs after a pause longer than the
  // spin (workers asleep), jobs whose worker pieces outlast the caller's spin
  // (the caller asleep), and a pool destroyed while its workers sleep:
  // every index is visited exactly once, piece bounds are multiples of the
  // grain and lie inside one home range (ThreadPool::chunk), and parallel_for
  // returns only when all pieces are done.
  for (int threads : {1, 2, 3, 4}) {
    runtime::ThreadPool pool(threads);
    std::vector<std::atomic<int>> seen(1000);
    for (int round = 0; round < 400; ++round) {
      const std::int64_t n = 1 + (round * 37) % 1000, grain = 1 + round % 7;
      for (std::int64_t i = 0; i < n; ++i) seen[static_cast<std::size_t>(i)] = 0;
      std::atomic<int> pieces{0};
      pool.parallel_for(
          n,
          [&](std::int64_t b, std::int64_t e) {
            EXPECT_EQ(b % grain, 0);
            EXPECT_TRUE(e == n || e % grain == 0);
            bool inside = false;
            for (int t = 0; t < threads; ++t) {
              const auto [h0, h1] = runtime::ThreadPool::chunk(n, grain, threads, t);
              inside = inside || (h0 <= b && b < e && e <= h1);
            }
            EXPECT_TRUE(inside) << b << ".." << e;
            // Now and then a piece outlasts the caller's spin: the caller sleeps.
            if (b > 0 && round % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            for (std::int64_t i = b; i < e; ++i) seen[static_cast<std::size_t>(i)].fetch_add(1);
            pieces.fetch_add(1);
          },
          grain);
      EXPECT_LE(pieces.load(), threads * runtime::ThreadPool::kPieces);
      for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)].load(), 1) << i;
      if (round % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let workers sleep
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

TEST(ThreadPool, WithoutBalanceEachThreadRunsItsHomeRange) {
  // Channel copies do not balance: one call per thread, exactly its home range,
  // on that thread even when it is held up.
  runtime::ThreadPool pool(3);
  for (int round = 0; round < 50; ++round) {
    std::mutex m;
    std::vector<std::pair<std::int64_t, std::int64_t>> calls;
    const std::int64_t n = 24 + round * 13;  // at least three grains
    pool.parallel_for(
        n,
        [&](std::int64_t b, std::int64_t e) {
          if (b > 0 && round % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          std::lock_guard<std::mutex> lock(m);
          calls.emplace_back(b, e);
        },
        8, false);
    std::sort(calls.begin(), calls.end());
    ASSERT_EQ(calls.size(), 3u);
    for (int t = 0; t < 3; ++t) EXPECT_EQ(calls[static_cast<std::size_t>(t)], runtime::ThreadPool::chunk(n, 8, 3, t));
  }
}

TEST(ThreadPool, OthersTakeOverTheWorkOfAHeldUpThread) {
  // One thread held up for 30 ms inside its first piece (a vCPU taken away):
  // the others run every piece it had not started, so the job ends when the held
  // piece does, not after the held thread's whole range.
  runtime::ThreadPool pool(2);
  std::atomic<int> caller_pieces{0}, worker_pieces{0};
  const auto caller = std::this_thread::get_id();
  pool.parallel_for(8, [&](std::int64_t b, std::int64_t e) {
    EXPECT_EQ(e - b, 1);
    const bool on_caller = std::this_thread::get_id() == caller;
    if (!on_caller && b == 4) std::this_thread::sleep_for(std::chrono::milliseconds(30));
    (on_caller ? caller_pieces : worker_pieces).fetch_add(1);
  });
  // The worker's home is [4, 8): it held piece 4; the caller ran its own four and
  // the worker's 5..7 (unless the worker started late and the caller took piece 4 too).
  EXPECT_GE(caller_pieces.load(), 7);
  EXPECT_EQ(caller_pieces.load() + worker_pieces.load(), 8);
}

TEST(Conv, ImplicitIm2colMatchesReference) {
  struct Case {
    std::int64_t kernel, stride, dilation, groups, padding, out;
  };
  for (const Case& c :
       {Case{3, 1, 1, 1, -1, 19}, Case{3, 2, 1, 1, -1, 32}, Case{5, 1, 2, 1, -1, 7}, Case{3, 1, 1, 3, -1, 21},
        Case{3, 2, 2, 3, 0, 9}, Case{1, 2, 1, 1, 0, 16}, Case{7, 1, 1, 1, 3, 8}})
    for (const ir::Shape in : {ir::Shape{21, 40, 3}, ir::Shape{18, 35, 27}}) {
      if (in.c % c.groups != 0 || c.out % c.groups != 0) continue;
      ir::ParamMap params{
          {"kernel", c.kernel}, {"stride", c.stride}, {"dilation", c.dilation}, {"groups", c.groups}, {"out", c.out}};
      if (c.padding >= 0) params["padding"] = c.padding;
      ir::Graph g = testing::graph_for_kind("conv", params, in);
      g.settings.batch = 2;
      ASSERT_TRUE(cost::analyze(g).complete()) << in.str() << " kernel " << c.kernel;
      std::string what = "conv on " + in.str();
      for (const auto& [k, v] : params) what += " " + k + "=" + ir::param_value_str(v);
      for (const auto* kt : tables()) compare_with_reference(g, what, *kt, 2);
    }
}

/// The kinds of the steps a schedule of `g` runs (default plan options but `winograd`).
std::vector<runtime::StepKind> step_kinds(const ir::Graph& g, bool winograd = true) {
  runtime::PlanOptions o;
  o.winograd = winograd;
  auto s = runtime::Schedule::build(g, cost::analyze(g), o);
  std::vector<runtime::StepKind> kinds;
  if (s)
    for (const auto& st : s->steps) kinds.push_back(st.info.kind);
  return kinds;
}

bool has_kind(const std::vector<runtime::StepKind>& kinds, runtime::StepKind k) {
  return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}

// Winograd F(4x4, 3x3) (runtime/winograd.h): output rows and columns that end
// in partial tiles, channel counts below, at and across every table's vector
// (4, 8, 16 lanes), paddings 0 to 2, a batch of two, fused activations
// (ReLU and ReLU6 in the transform, the others after it), a last GEMM panel
// of 8 columns (136 = 4 x 32 + 8), one and two threads.
TEST(Winograd, MatchesReferenceOnTailsPaddingsAndActivations) {
  struct Case {
    ir::Shape in;
    std::int64_t out, padding, batch;
    const char* act;
  };
  int ran = 0;
  for (const Case& c : {Case{{27, 27, 16}, 24, 1, 1, "relu6"}, Case{{26, 31, 17}, 33, 1, 1, "hswish"},
                        Case{{12, 40, 20}, 16, 0, 2, "none"}, Case{{12, 38, 48}, 40, 2, 2, "relu"},
                        Case{{21, 21, 31}, 17, 1, 2, "swish"}, Case{{40, 40, 64}, 136, 1, 1, "relu"}}) {
    const ir::ParamMap params{
        {"kernel", std::int64_t{3}}, {"out", c.out}, {"padding", c.padding}, {"activation", std::string(c.act)}};
    ir::Graph g = testing::graph_for_kind("conv", params, c.in);
    g.settings.batch = c.batch;
    ASSERT_TRUE(cost::analyze(g).complete()) << c.in.str();
    ASSERT_TRUE(has_kind(step_kinds(g), runtime::StepKind::Winograd)) << c.in.str() << " did not run by Winograd";
    const std::string what = "winograd conv on " + c.in.str() + " out " + std::to_string(c.out) + " pad " +
                             std::to_string(c.padding) + " batch " + std::to_string(c.batch) + " " + c.act;
    ++ran;
    for (const auto* kt : tables())
      for (int threads : {1, 2}) compare_with_reference(g, what, *kt, threads);
  }
  EXPECT_EQ(ran, 6);
}

// A fire module's 3x3 expand by Winograd writes its half of the concat in
// place, through the concat's pixel stride.
TEST(Winograd, WritesIntoAConcatInPlace) {
  const ir::ParamMap params{
      {"squeeze", std::int64_t{16}}, {"expand1x1", std::int64_t{24}}, {"expand3x3", std::int64_t{40}}};
  const ir::Graph g = testing::graph_for_kind("fire", params, ir::Shape{28, 28, 32});
  const auto a = cost::analyze(g);
  auto s = runtime::Schedule::build(g, a, {});
  ASSERT_TRUE(s.has_value());
  int in_place = 0;
  for (const auto& st : s->steps)
    if (st.info.kind == runtime::StepKind::Winograd)
      in_place += s->values[static_cast<std::size_t>(st.out)].parent >= 0;
  EXPECT_EQ(in_place, 1);
  for (const auto* kt : tables())
    for (int threads : {1, 2}) compare_with_reference(g, "fire 32 -> 16 -> 24 + 40 on 28x28x32", *kt, threads);
}

// Where Winograd does not pay it is not used: maps of fewer than 16 tiles (a
// 7 x 7 layer's transformed weights, 4x the direct ones, read for 4 tiles),
// fewer than 16 channels, stride 2, groups; and PlanOptions::winograd off.
TEST(Winograd, OnlyWhereItPays) {
  auto conv = [](ir::Shape in, ir::ParamMap p) {
    p["out"] = std::int64_t{32};
    return testing::graph_for_kind("conv", p, in);
  };
  const ir::ParamMap k3{{"kernel", std::int64_t{3}}};
  EXPECT_TRUE(has_kind(step_kinds(conv({28, 28, 32}, k3)), runtime::StepKind::Winograd));
  EXPECT_FALSE(has_kind(step_kinds(conv({28, 28, 32}, k3), false), runtime::StepKind::Winograd));
  EXPECT_TRUE(has_kind(step_kinds(conv({13, 13, 64}, k3)), runtime::StepKind::Winograd));
  EXPECT_FALSE(has_kind(step_kinds(conv({7, 7, 64}, k3)), runtime::StepKind::Winograd));
  EXPECT_FALSE(has_kind(step_kinds(conv({28, 28, 8}, k3)), runtime::StepKind::Winograd));
  ir::ParamMap s2 = k3;
  s2["stride"] = std::int64_t{2};
  EXPECT_FALSE(has_kind(step_kinds(conv({56, 56, 32}, s2)), runtime::StepKind::Winograd));
  ir::ParamMap g2 = k3;
  g2["groups"] = std::int64_t{2};
  EXPECT_FALSE(has_kind(step_kinds(conv({28, 28, 32}, g2)), runtime::StepKind::Winograd));
  // A batch of four brings a 7 x 7 map's 4 tiles to 16: the weights are read once for all.
  ir::Graph batched = conv({7, 7, 64}, k3);
  batched.settings.batch = 4;
  EXPECT_TRUE(has_kind(step_kinds(batched), runtime::StepKind::Winograd));
}

// Depthwise inputs of 256 / 512 channels get a pixel stride one cache line
// wider (against L1 set conflicts): written so by the expand GEMM, read so by
// the depthwise kernel, with batch 2 and both strides.
// Transposed convolutions by output phase (runtime/conv_transpose.h): every
// phase with 1 to 3 taps, phases no tap reaches (kernel smaller than the
// stride: bias alone), output padding, groups, a batch of two, rows wide
// enough for the in-place GEMM and narrow ones gathered whole.
TEST(ConvTranspose, EveryPhaseMatchesReference) {
  int ran = 0;
  struct Case {
    std::int64_t kernel, stride, padding, output_padding, groups, out;
  };
  for (const Case& c :
       {Case{4, 2, 1, 0, 1, 16}, Case{3, 2, 1, 1, 1, 9}, Case{2, 2, 0, 0, 1, 8}, Case{1, 2, 0, 1, 1, 5},
        Case{3, 1, 1, 0, 1, 7}, Case{5, 3, 2, 2, 1, 6}, Case{4, 2, 1, 0, 2, 10}, Case{7, 2, 3, 1, 3, 9}})
    for (const ir::Shape in : {ir::Shape{5, 23, 6}, ir::Shape{2, 3, 12}}) {
      if (in.c % c.groups != 0 || c.out % c.groups != 0) continue;
      const ir::ParamMap params{
          {"kernel", c.kernel}, {"stride", c.stride}, {"padding", c.padding}, {"output_padding", c.output_padding},
          {"groups", c.groups}, {"out", c.out},       {"bias", true},         {"activation", std::string("relu6")}};
      ir::Graph g = testing::graph_for_kind("conv_transpose", params, in);
      g.settings.batch = 2;
      if (!cost::analyze(g).complete()) continue;  // e.g. padding beyond the kernel
      const std::string what = "conv_transpose k" + std::to_string(c.kernel) + " s" + std::to_string(c.stride) + " p" +
                               std::to_string(c.padding) + " op" + std::to_string(c.output_padding) + " g" +
                               std::to_string(c.groups) + " on " + in.str();
      ++ran;
      for (const auto* kt : tables())
        for (int threads : {1, 2}) compare_with_reference(g, what, *kt, threads);
    }
  EXPECT_GE(ran, 12);  // the cases the shapes allow
}

TEST(Plan, PaddedDepthwiseInputsMatchReference) {
  for (std::int64_t expansion : {8, 16})
    for (std::int64_t stride : {1, 2}) {
      ir::Graph g = testing::graph_for_kind("inverted_residual",
                                            {{"expansion", expansion}, {"stride", stride}, {"out", std::int64_t{32}}},
                                            ir::Shape{12, 13, 32});
      g.settings.batch = 2;
      for (const auto* kt : tables())
        compare_with_reference(g, "inverted_residual t=" + std::to_string(expansion) + " s=" + std::to_string(stride),
                               *kt, 2);
    }
}

// 128 expanded channels on rows of 56 pixels: at stride 1 a channel vector's
// three input rows put 21 lines into each of 8 L1 sets, so the expand GEMM
// writes them one cache line wider per pixel; at stride 2, or on rows of 28
// (10.5 lines a set), the stride stays dense.
TEST(Plan, CrowdedDepthwiseInputsArePaddedAndMatchReference) {
  for (const auto& [width, stride, padded] : {std::tuple{56, 1, true}, {56, 2, false}, {28, 1, false}}) {
    ir::Graph g = testing::graph_for_kind(
        "inverted_residual",
        {{"expansion", std::int64_t{4}}, {"stride", std::int64_t{stride}}, {"out", std::int64_t{32}}},
        ir::Shape{5, width, 32});
    const std::string what = "5x" + std::to_string(width) + "x128 stride " + std::to_string(stride);
    runtime::PlanOptions op_by_op;
    const auto sched = runtime::Schedule::build(g, cost::analyze(g), op_by_op);
    ASSERT_TRUE(sched.has_value());
    int depthwise = 0;
    for (const auto& st : sched->steps) {
      if (st.info.kind != runtime::StepKind::Depthwise) continue;
      ++depthwise;
      EXPECT_EQ(sched->values[static_cast<std::size_t>(st.in[0])].pad_c > 0, padded) << what;
    }
    EXPECT_EQ(depthwise, 1) << what;
    for (const auto* kt : tables()) compare_with_reference(g, what, *kt, 2, 1e-4, op_by_op);
  }
}

// A separable block on 1024 channels: the depthwise writes the pointwise
// GEMM's input one cache line wider per pixel (4 KiB apart, the rows of a
// GEMM tile would share one L1 set), and the GEMM reads it with that stride.
TEST(Plan, PaddedPointwiseInputsMatchReference) {
  ir::Graph g = testing::graph_for_kind("separable", {{"out", std::int64_t{40}}}, ir::Shape{6, 7, 1024});
  g.settings.batch = 2;
  runtime::PlanOptions op_by_op;  // the separable block not fused in row bands
  const auto sched = runtime::Schedule::build(g, cost::analyze(g), op_by_op);
  ASSERT_TRUE(sched.has_value());
  int padded = 0;
  for (const auto& st : sched->steps)
    if (st.info.kind == runtime::StepKind::Gemm && sched->values[static_cast<std::size_t>(st.in[0])].pad_c > 0)
      ++padded;
  EXPECT_EQ(padded, 1);
  for (const auto* kt : tables())
    for (int threads : {1, 2}) compare_with_reference(g, "separable on 6x7x1024", *kt, threads, 1e-4, op_by_op);
}

// A separable block on 512 channels: the depthwise writes its output (the
// pointwise GEMM's input) one cache line wider per pixel, since a 2 KiB pixel
// stride sends each channel vector's stores into two L1 sets; 520 channels
// keep their dense stride.
TEST(Plan, PaddedDepthwiseOutputsMatchReference) {
  for (std::int64_t c : {512, 520}) {
    ir::Graph g = testing::graph_for_kind("separable", {{"out", std::int64_t{24}}}, ir::Shape{9, 7, c});
    g.settings.batch = 2;
    runtime::PlanOptions op_by_op;
    const auto sched = runtime::Schedule::build(g, cost::analyze(g), op_by_op);
    ASSERT_TRUE(sched.has_value());
    int padded = 0;
    for (const auto& st : sched->steps)
      if (st.info.kind == runtime::StepKind::Depthwise && sched->values[static_cast<std::size_t>(st.out)].pad_c > 0)
        ++padded;
    EXPECT_EQ(padded, c == 512 ? 1 : 0) << c << " channels";
    for (const auto* kt : tables())
      for (int threads : {1, 2})
        compare_with_reference(g, "separable on 9x7x" + std::to_string(c), *kt, threads, 1e-4, op_by_op);
  }
}

// A concat of 512 channels read by a depthwise (MobileNet-seg's decoders): the
// concat writes its output one cache line wider per pixel, the input it
// copies and the conv written into it in place alike, and the depthwise
// reads it with that stride; with 520 channels the stride stays dense.
TEST(Plan, PaddedConcatOutputsMatchReference) {
  for (std::int64_t c : {256, 260}) {
    const std::string json = R"({"format": "convscope-graph", "version": 1, "blocks": [
      {"id": "input", "kind": "input", "height": 9, "width": 7, "channels": )" +
                             std::to_string(c) + R"(},
      {"id": "pw", "kind": "conv", "inputs": ["input"], "out": )" +
                             std::to_string(c) +
                             R"(, "kernel": 1},
      {"id": "cat", "kind": "concat", "inputs": ["pw", "input"]},
      {"id": "dw", "kind": "depthwise", "inputs": ["cat"], "kernel": 3}]})";
    auto g = io::graph_from_json(json);
    ASSERT_TRUE(g.has_value());
    g->settings.batch = 2;
    const auto sched = runtime::Schedule::build(*g, cost::analyze(*g), {});
    ASSERT_TRUE(sched.has_value());
    int padded = 0, in_place = 0;
    for (const auto& st : sched->steps) {
      if (st.info.kind == runtime::StepKind::Depthwise && sched->values[static_cast<std::size_t>(st.in[0])].pad_c > 0)
        ++padded;
      if (sched->values[static_cast<std::size_t>(st.out)].parent >= 0) ++in_place;
    }
    EXPECT_EQ(padded, c == 256 ? 1 : 0) << 2 * c << " channels";
    EXPECT_EQ(in_place, 1) << 2 * c << " channels";  // the conv, into the concat
    for (const auto* kt : tables())
      for (int threads : {1, 2})
        compare_with_reference(*g, "concat -> depthwise on 9x7x" + std::to_string(2 * c), *kt, threads);
  }
}

// GEMMs with too few rows for every thread to get four row tiles are split
// by columns (a classifier, a 7 x 7 layer): same outputs as the reference.
TEST(Plan, GemmsSplitByColumnsMatchReference) {
  for (const auto& [kind, in] : {std::pair<std::string, ir::Shape>{"fully_connected", {1, 1, 300}},
                                 {"fully_connected", {3, 3, 40}},
                                 {"conv", {7, 7, 96}}}) {
    const ir::ParamMap params = kind == "conv" ? ir::ParamMap{{"kernel", std::int64_t{1}}, {"out", std::int64_t{200}}}
                                               : ir::ParamMap{{"out", std::int64_t{1000}}};
    ir::Graph g = testing::graph_for_kind(kind, params, in);
    for (std::int64_t batch : {1, 2}) {
      g.settings.batch = batch;
      for (const auto* kt : tables())
        compare_with_reference(g, kind + " on " + in.str() + " batch " + std::to_string(batch), *kt, 2);
    }
  }
}

// ShuffleNet V2's channel split: the half read by the 1x1 convolution is a
// view of the split's input (no copy), the other half is written into the
// concat in place; outputs as the reference's at 1 and 2 threads, batch 2.
TEST(Plan, SlicesReadInPlaceMatchReference) {
  ir::Graph g = testing::load_preset("shufflenet_v2_x1_0");
  g.settings.resolution = 64;
  g.settings.batch = 2;
  const auto sched = runtime::Schedule::build(g, cost::analyze(g));
  ASSERT_TRUE(sched.has_value());
  int views = 0, slices = 0;
  for (const auto& st : sched->steps)
    if (st.info.kind == runtime::StepKind::Slice) {
      ++slices;
      if (sched->values[static_cast<std::size_t>(st.out)].parent == st.in[0]) ++views;
    }
  EXPECT_EQ(slices, 26);  // two per basic unit (13 units)
  EXPECT_EQ(views, 13);
  for (const auto* kt : tables())
    for (int threads : {1, 2}) compare_with_reference(g, "shufflenet_v2 @64 batch 2", *kt, threads, 5e-4);
}

// A small step runs on one thread, unless it splits its pixels and reads what
// a step across the threads wrote: then it follows that step's threads.
TEST(Schedule, SmallStepsFollowTheThreadsThatWroteTheirInput) {
  auto g = io::graph_from_json(R"({"format": "convscope-graph", "version": 1, "blocks": [
      {"id": "input", "kind": "input", "height": 7, "width": 7, "channels": 32},
      {"id": "first", "kind": "activation", "inputs": ["input"], "function": "relu"},
      {"id": "pw", "kind": "conv", "inputs": ["first"], "out": 256, "kernel": 1, "bn": false},
      {"id": "after", "kind": "activation", "inputs": ["pw"], "function": "hswish"},
      {"id": "gap", "kind": "global_pool", "inputs": ["after"]}]})");
  ASSERT_TRUE(g.has_value());
  runtime::PlanOptions two;
  two.threads = 2;
  two.fuse = false;  // keep the activations as steps of their own
  auto parallel = [&](const runtime::PlanOptions& o) {
    const auto s = runtime::Schedule::build(*g, cost::analyze(*g), o);
    std::vector<std::pair<std::string, bool>> out;
    for (const auto& st : s->steps) out.emplace_back(st.info.name, st.info.parallel);
    return out;
  };
  const auto p2 = parallel(two);
  ASSERT_EQ(p2.size(), 5u);                   // relu, conv, the conv's relu, hswish, global pool
  EXPECT_FALSE(p2[0].second) << p2[0].first;  // 6 KiB read from the caller's input: one thread
  EXPECT_TRUE(p2[1].second) << p2[1].first;   // 0.8 MFLOP: large
  EXPECT_TRUE(p2[2].second) << p2[2].first;   // 100 KiB, but its input was written by two threads
  EXPECT_TRUE(p2[3].second) << p2[3].first;   // and so on down the chain
  EXPECT_TRUE(p2[4].second) << p2[4].first;   // global pooling too: each thread pools the rows it wrote
  runtime::PlanOptions one = two;
  one.threads = 1;
  for (const auto& [name, par] : parallel(one)) EXPECT_FALSE(par) << name;

  // ShuffleNet V2's last stage: every shuffle (7x7x464, 182 KiB) follows its concat across the threads.
  ir::Graph shuffle = testing::load_preset("shufflenet_v2_x1_0");
  runtime::PlanOptions t2;
  t2.threads = 2;
  const auto s = runtime::Schedule::build(shuffle, cost::analyze(shuffle), t2);
  ASSERT_TRUE(s.has_value());
  int small_shuffles = 0;
  for (const auto& st : s->steps)
    if (st.info.kind == runtime::StepKind::Shuffle && st.info.bytes < runtime::kMinParallelBytes) {
      ++small_shuffles;
      EXPECT_TRUE(st.info.parallel) << st.info.name;
    }
  EXPECT_EQ(small_shuffles, 3);  // the fourth is folded into conv5 (PlanOptions::fold_shuffles)
}

class EveryPreset : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryPreset, MatchesReferenceAtLowResolution) {
  ir::Graph g = testing::load_preset(GetParam());
  g.settings.resolution = 64;
  for (const auto* kt : tables())
    compare_with_reference(g, GetParam() + " @64", *kt, kt->isa == kernels::Isa::Portable ? 1 : 2, 5e-4);
}

INSTANTIATE_TEST_SUITE_P(All, EveryPreset, ::testing::ValuesIn(testing::preset_names()),
                         [](const auto& p) { return p.param; });

/// Steps of `kind` in a schedule of g.
int count_steps(const runtime::Schedule& s, runtime::StepKind kind) {
  return static_cast<int>(std::count_if(s.steps.begin(), s.steps.end(),
                                        [&](const runtime::ScheduledStep& st) { return st.info.kind == kind; }));
}

runtime::Schedule schedule_of(const ir::Graph& g, bool fold) {
  runtime::PlanOptions o;
  o.fold_shuffles = fold;
  auto s = runtime::Schedule::build(g, cost::analyze(g), o);
  EXPECT_TRUE(s.has_value());
  return s ? std::move(*s) : runtime::Schedule{};
}

// A channel shuffle before a depthwise step that feeds grouped 1x1
// convolutions (ShuffleNet V1's unit, IGCV3's first permutation), or straight
// before such convolutions, is folded away: the depthwise runs on the
// unshuffled tensor with its filters permuted and each group of the
// convolution reads its channels in place, in segments. Outputs as the
// reference's, every table, 1 and 2 threads, batch 2.
TEST(Plan, ShufflesFoldIntoDepthwiseAndGroupedConvolutions) {
  const std::string unit = R"({"format": "convscope-graph", "version": 1, "name": "shuffle unit",
    "blocks": [{"id": "input", "kind": "input", "height": 14, "width": 13, "channels": 48},
               {"id": "gconv1", "kind": "conv", "inputs": ["input"], "out": 96, "kernel": 1, "groups": 3},
               {"id": "shuffle", "kind": "channel_shuffle", "inputs": ["gconv1"], "groups": 3},
               {"id": "dw", "kind": "depthwise", "inputs": ["shuffle"], "stride": 2},
               {"id": "gconv2", "kind": "conv", "inputs": ["dw"], "out": 128, "kernel": 1, "groups": 2},
               {"id": "shuffle2", "kind": "channel_shuffle", "inputs": ["gconv2"], "groups": 4},
               {"id": "gconv3", "kind": "conv", "inputs": ["shuffle2"], "out": 32, "kernel": 1, "groups": 2},
               {"id": "conv4", "kind": "conv", "inputs": ["shuffle2"], "out": 16, "kernel": 1}]})";
  auto g = io::graph_from_json(unit);
  ASSERT_TRUE(g.has_value());
  g->settings.batch = 2;
  const runtime::Schedule folded = schedule_of(*g, true), shuffled = schedule_of(*g, false);
  EXPECT_EQ(count_steps(shuffled, runtime::StepKind::Shuffle), 2);
  EXPECT_EQ(count_steps(folded, runtime::StepKind::Shuffle), 0);
  EXPECT_EQ(folded.steps.size(), shuffled.steps.size() - 2);
  EXPECT_EQ(folded.values.size(), shuffled.values.size() - 2);  // the shuffles' outputs are gone
  for (const auto& st : folded.steps) {
    // gconv2 (96 channels in 2 groups of 48: 3 segments of 16) and the
    // depthwise read the first shuffle's input; gconv3 (2 groups of 64: 4 of 16)
    // and conv4 (one group of 128: 4 segments of 32) the second's.
    const std::string& node = g->nodes[static_cast<std::size_t>(st.info.node)].id;
    EXPECT_EQ(st.unshuffled, node == "dw" || node == "gconv2"      ? 3
                             : node == "gconv3" || node == "conv4" ? 4
                                                                   : 0)
        << st.info.name;
  }
  for (int threads : {1, 2})
    for (const auto* kt : tables()) compare_with_reference(*g, "shuffle unit", *kt, threads);
  // IGCV3-D: every block's first permutation goes but the first block's (its
  // projection's segments would be 8 floats), and the second where the next
  // block's expansion reads it (not before a residual add).
  const ir::Graph igcv3 = testing::load_preset("igcv3_d");
  const runtime::Schedule a = schedule_of(igcv3, true), b = schedule_of(igcv3, false);
  EXPECT_EQ(count_steps(b, runtime::StepKind::Shuffle), 64);
  EXPECT_EQ(count_steps(a, runtime::StepKind::Shuffle), 32);
  EXPECT_LT(a.arena_floats, b.arena_floats);
}

// Shuffles that stay: read by an add after the depthwise, a graph output, a
// convolution whose groups do not take whole segments of a cache line or more.
TEST(Plan, ShufflesStayWhereTheyCannotFold) {
  const std::string graph = R"({"format": "convscope-graph", "version": 1, "name": "shuffles that stay",
    "blocks": [{"id": "input", "kind": "input", "height": 8, "width": 8, "channels": 24},
               {"id": "s1", "kind": "channel_shuffle", "inputs": ["input"], "groups": 2},
               {"id": "dw", "kind": "depthwise", "inputs": ["s1"]},
               {"id": "sum", "kind": "add", "inputs": ["dw", "input"]},
               {"id": "s2", "kind": "channel_shuffle", "inputs": ["sum"], "groups": 4},
               {"id": "conv", "kind": "conv", "inputs": ["s2"], "out": 48, "kernel": 1, "groups": 4},
               {"id": "s3", "kind": "channel_shuffle", "inputs": ["conv"], "groups": 2}]})";
  auto g = io::graph_from_json(graph);
  ASSERT_TRUE(g.has_value());
  // s2 -> conv: 4 groups of 6 channels, not 4 segments each.
  EXPECT_EQ(count_steps(schedule_of(*g, true), runtime::StepKind::Shuffle), 3);
  // 32 channels in 2 groups after a shuffle of 2: segments of 8 floats, half a line.
  const std::string narrow = R"({"format": "convscope-graph", "version": 1, "name": "narrow segments",
    "blocks": [{"id": "input", "kind": "input", "height": 8, "width": 8, "channels": 32},
               {"id": "s", "kind": "channel_shuffle", "inputs": ["input"], "groups": 2},
               {"id": "conv", "kind": "conv", "inputs": ["s"], "out": 32, "kernel": 1, "groups": 2}]})";
  auto n = io::graph_from_json(narrow);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(count_steps(schedule_of(*n, true), runtime::StepKind::Shuffle), 1);
  for (const auto* kt : tables()) compare_with_reference(*g, "shuffles that stay", *kt, 2);
}

TEST(FusedBottleneck, MatchesReferenceForEverySplit) {
  for (const char* name : {"mobilenet_v2", "mobilenet_v3_large", "igcv3_d"}) {
    ir::Graph g = testing::load_preset(name);
    g.settings.resolution = 64;
    for (std::int64_t split : {1, 2, 6, 7})
      for (const auto* kt : tables())
        compare_with_reference(g, std::string(name) + " split " + std::to_string(split), *kt, 2, 5e-4, slices(split));
  }
  // A single block, uneven slices over 13 x 6 = 78 expanded channels, stride 2.
  ir::Graph b;
  b.nodes.push_back(
      {.id = "in",
       .kind = "input",
       .params = {{"height", std::int64_t{15}}, {"width", std::int64_t{11}}, {"channels", std::int64_t{13}}}});
  b.nodes.push_back({.id = "ir", .kind = "inverted_residual", .inputs = {"in"}, .params = {{"out", std::int64_t{13}}}});
  b.nodes.push_back({.id = "ir2",
                     .kind = "inverted_residual",
                     .inputs = {"ir"},
                     .params = {{"out", std::int64_t{9}}, {"stride", std::int64_t{2}}, {"kernel", std::int64_t{5}}}});
  for (std::int64_t split : {1, 5, 78})
    for (const auto* kt : tables())
      compare_with_reference(b, "two blocks split " + std::to_string(split), *kt, 1, 1e-4, slices(split));
}

TEST(FusedBottleneck, RowBandsMatchReference) {
  // Presets at a resolution where the early blocks take several bands; 1 to 3
  // threads, so a thread's share of rows starts inside an image.
  for (const char* name :
       {"mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0", "mobilenet_v1", "shufflenet_v2_x1_0"}) {
    ir::Graph g = testing::load_preset(name);
    g.settings.resolution = 96;
    for (int threads : {1, 3})
      for (const auto* kt : tables())
        compare_with_reference(g, std::string(name) + " row bands", *kt, threads, 5e-4, rows());
  }
  // Single blocks whose expanded rows are wide (bands of one to a few rows):
  // every kernel size and stride, odd sizes, dilation, batch 2 (bands stop at
  // image boundaries), the shortcut and the activation after it.
  for (std::int64_t k : {3, 5, 7})
    for (std::int64_t stride : {1, 2})
      for (int threads : {1, k == 3 ? 2 : 1}) {
        ir::Graph g = testing::graph_for_kind("inverted_residual",
                                              {{"kernel", k},
                                               {"stride", stride},
                                               {"expansion", std::int64_t{6}},
                                               {"out", std::int64_t{stride == 1 ? 96 : 40}}},
                                              ir::Shape{23, 61, 96});
        g.settings.batch = 2;
        const std::string what = "row bands k=" + std::to_string(k) + " s=" + std::to_string(stride);
        for (const auto* kt : tables()) compare_with_reference(g, what, *kt, threads, 1e-4, rows());
      }
  // Expanded width a multiple of 256 (64 x 4): the band buffers carry a pixel
  // stride one cache line wider than the channels.
  for (std::int64_t stride : {1, 2}) {
    ir::Graph g = testing::graph_for_kind(
        "inverted_residual", {{"stride", stride}, {"expansion", std::int64_t{4}}, {"out", std::int64_t{64}}},
        ir::Shape{13, 29, 64});
    g.settings.batch = 2;
    auto s = runtime::Schedule::build(g, cost::analyze(g), rows());
    ASSERT_TRUE(s.has_value());
    const auto fused = std::find_if(s->steps.begin(), s->steps.end(), [](const auto& st) { return st.bottleneck; });
    ASSERT_NE(fused, s->steps.end());
    EXPECT_EQ(fused->bottleneck->e, 256);
    EXPECT_EQ(fused->bottleneck->e_stride, 256 + 16);
    const std::string what = "row bands, e = 256, s=" + std::to_string(stride);
    for (int threads : {1, 2})
      for (const auto* kt : tables()) compare_with_reference(g, what, *kt, threads, 1e-4, rows());
  }
  // Separable blocks (depthwise -> pointwise, no expand): the depthwise reads the input in place.
  for (std::int64_t k : {3, 5})
    for (std::int64_t stride : {1, 2}) {
      ir::Graph g = testing::graph_for_kind("separable", {{"kernel", k}, {"stride", stride}, {"out", std::int64_t{72}}},
                                            ir::Shape{19, 37, 200});
      g.settings.batch = 2;
      const std::string what = "separable row bands k=" + std::to_string(k) + " s=" + std::to_string(stride);
      for (const auto* kt : tables()) compare_with_reference(g, what, *kt, 2, 1e-4, rows());
    }
}

// IGCV3 blocks in row bands: grouped expand and project, the first permutation
// folded (permuted depthwise filters, the project reading segments), the second
// run on each band before the residual add.
TEST(FusedBottleneck, GroupedRowBandsTakeIgcv3Permutations) {
  ir::Graph preset = testing::load_preset("igcv3_d");
  preset.settings.resolution = 96;
  {
    auto s = runtime::Schedule::build(preset, cost::analyze(preset), rows());
    ASSERT_TRUE(s.has_value());
    int fused = 0;
    for (const auto& st : s->steps) {
      if (!st.bottleneck) continue;
      ++fused;
      const auto& b = *st.bottleneck;
      EXPECT_EQ(b.expand_groups, 2) << st.info.name;
      EXPECT_EQ(b.project_groups, 2) << st.info.name;
      EXPECT_EQ(b.shuffle1, 2) << st.info.name;
      EXPECT_EQ(b.shuffle2, 2) << st.info.name;
      EXPECT_EQ(b.pbuf_floats, runtime::arena_block_floats(b.band_rows * b.mid_out.w * b.cout)) << st.info.name;
    }
    const auto blocks =
        std::count_if(preset.nodes.begin(), preset.nodes.end(), [](const ir::Node& nd) { return nd.kind == "igcv3"; });
    EXPECT_EQ(fused, blocks);  // every IGCV3 block
    EXPECT_EQ(blocks, 32);
    EXPECT_EQ(count_steps(*s, runtime::StepKind::Shuffle), 0);
  }
  for (int threads : {1, 3})
    for (const auto* kt : tables()) compare_with_reference(preset, "igcv3_d row bands", *kt, threads, 5e-4, rows());
  // Single blocks: groups 2 to 4, stride 1 and 2, batch 2, segments of 6 to 24 floats.
  struct Case {
    std::int64_t c, t, g1, g2, out, stride;
  };
  for (const Case& k : {Case{24, 4, 2, 2, 24, 1}, Case{24, 4, 4, 2, 24, 1}, Case{16, 6, 2, 4, 32, 2},
                        Case{32, 1, 2, 2, 32, 1}, Case{48, 2, 4, 4, 48, 1}}) {
    ir::Graph g = testing::graph_for_kind(
        "igcv3", {{"expansion", k.t}, {"groups1", k.g1}, {"groups2", k.g2}, {"out", k.out}, {"stride", k.stride}},
        ir::Shape{17, 23, k.c});
    g.settings.batch = 2;
    auto s = runtime::Schedule::build(g, cost::analyze(g), rows());
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(count_steps(*s, runtime::StepKind::FusedBottleneck), 1);
    const std::string what = "igcv3 c=" + std::to_string(k.c) + " t=" + std::to_string(k.t) +
                             " g1=" + std::to_string(k.g1) + " g2=" + std::to_string(k.g2) +
                             " s=" + std::to_string(k.stride);
    for (int threads : {1, 2})
      for (const auto* kt : tables()) compare_with_reference(g, what, *kt, threads, 1e-4, rows());
  }
  // Channel slices stay for dense convolutions: an IGCV3 block runs op by op.
  auto sliced = runtime::Schedule::build(preset, cost::analyze(preset), slices(2));
  ASSERT_TRUE(sliced.has_value());
  EXPECT_EQ(count_steps(*sliced, runtime::StepKind::FusedBottleneck), 0);
}

// Squeeze-excite reads the depthwise output before the project: in row bands
// the chain stops there (expand -> depthwise), writing the depthwise output.
TEST(FusedBottleneck, RowBandsStopAtTheDepthwiseBeforeSqueezeExcite) {
  ir::Graph preset = testing::load_preset("efficientnet_b0");
  preset.settings.resolution = 96;
  auto s = runtime::Schedule::build(preset, cost::analyze(preset), rows());
  ASSERT_TRUE(s.has_value());
  int partial = 0;
  for (const auto& st : s->steps) {
    if (!st.bottleneck) continue;
    const auto& b = *st.bottleneck;
    EXPECT_EQ(b.project, -1) << st.info.name;  // every MBConv block has squeeze-excite
    EXPECT_GE(b.expand, 0) << st.info.name;
    EXPECT_EQ(b.cout, b.e) << st.info.name;
    EXPECT_EQ(b.dbuf_floats, 0) << st.info.name;
    EXPECT_EQ(st.info.out.c, b.e) << st.info.name;
    partial += 1;
  }
  EXPECT_EQ(partial, 15);  // mb2 to mb16 (mb1 has no expand)
  // Channel slices need a project: the blocks run op by op.
  auto sliced = runtime::Schedule::build(preset, cost::analyze(preset), slices(3));
  ASSERT_TRUE(sliced.has_value());
  EXPECT_EQ(count_steps(*sliced, runtime::StepKind::FusedBottleneck), 0);
  for (std::int64_t k : {3, 5})
    for (std::int64_t stride : {1, 2}) {
      ir::Graph g = testing::graph_for_kind("inverted_residual",
                                            {{"kernel", k},
                                             {"stride", stride},
                                             {"expansion", std::int64_t{6}},
                                             {"se", true},
                                             {"activation", std::string("swish")},
                                             {"out", std::int64_t{24}}},
                                            ir::Shape{21, 19, 24});
      g.settings.batch = 2;
      auto one = runtime::Schedule::build(g, cost::analyze(g), rows());
      ASSERT_TRUE(one.has_value());
      EXPECT_EQ(count_steps(*one, runtime::StepKind::FusedBottleneck), 1);
      EXPECT_EQ(count_steps(*one, runtime::StepKind::Mul), 1);  // the excitation's scale, after the step
      const std::string what = "se block k=" + std::to_string(k) + " s=" + std::to_string(stride);
      for (int threads : {1, 2})
        for (const auto* kt : tables()) compare_with_reference(g, what, *kt, threads, 1e-4, rows());
    }
}

TEST(FusedBottleneck, RowBandsSizeTheirBuffersForTheCache) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  const auto a = cost::analyze(g);
  for (int threads : {1, 2}) {
    runtime::PlanOptions o = rows();
    o.threads = threads;
    auto s = runtime::Schedule::build(g, a, o);
    ASSERT_TRUE(s.has_value());
    int bands = 0;
    for (const auto& st : s->steps) {
      if (!st.bottleneck) continue;
      const auto& b = *st.bottleneck;
      ASSERT_GT(b.band_rows, 0) << st.info.name;
      EXPECT_EQ(b.slices(), 1);
      // Within the budget (each buffer rounded up to a cache line), unless
      // fewer rows would not fill four GEMM row tiles.
      if (b.buffer_floats() * 4 > runtime::kBandBytes + 3 * 64) {
        EXPECT_LT((b.band_rows - 1) * b.mid_out.w, 4 * s->kt->gemm_mr) << st.info.name;
      }
      EXPECT_TRUE(b.band_rows == b.mid_out.h || b.band_rows * b.mid_out.w >= 4 * s->kt->gemm_mr) << st.info.name;
      // ir1 has no expand: its depthwise reads the block input in place.
      EXPECT_EQ(b.ebuf_floats,
                b.expand >= 0 ? runtime::arena_block_floats(b.input_rows(b.band_rows) * b.mid_in.w * b.e) : 0);
      EXPECT_EQ(b.ebuf_floats % runtime::kArenaAlignFloats, 0);  // every buffer on a cache line
      EXPECT_EQ(b.dbuf_floats % runtime::kArenaAlignFloats, 0);
      bands += b.bands() > 1;
    }
    EXPECT_GE(bands, 10);  // 112 x 112 down to 14 x 14 blocks take several bands
    // One buffer per thread.
    std::int64_t widest = 0;
    for (const auto& st : s->steps)
      if (st.bottleneck) widest = std::max(widest, st.bottleneck->buffer_floats());
    EXPECT_EQ(s->bottleneck_floats, threads * widest);
  }
}

TEST(FusedBottleneck, FusesOnlyTheChosenBlocks) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  g.settings.resolution = 64;
  const auto a = cost::analyze(g);
  runtime::PlanOptions o = rows();
  o.fused_nodes = std::vector<int>{};
  for (std::size_t n = 0; n < g.nodes.size(); ++n)
    if (g.nodes[n].id == "ir2" || g.nodes[n].id == "ir9" || g.nodes[n].id == "conv1")
      o.fused_nodes->push_back(static_cast<int>(n));
  auto s = runtime::Schedule::build(g, a, o);
  ASSERT_TRUE(s.has_value());
  std::vector<std::string> fused;
  for (const auto& st : s->steps)
    if (st.bottleneck) fused.push_back(g.nodes[static_cast<std::size_t>(st.info.node)].id);
  EXPECT_EQ(fused, (std::vector<std::string>{"ir2", "ir9"}));  // conv1 has no chain to fuse
  for (const auto* kt : tables()) compare_with_reference(g, "mobilenet_v2, ir2 and ir9 fused", *kt, 2, 5e-4, o);
}

// Xception's separable blocks end without an activation and a ReLU block
// follows: the fused step takes it as its own last activation (it ran as a
// pass of its own over the block's output, 0.8 ms at 147 x 147 x 128); one
// whose input something else reads too stays a step.
TEST(FusedBottleneck, TakesTheNextBlocksActivation) {
  const ir::Graph g = *io::graph_from_json(R"({"format": "convscope-graph", "version": 1, "blocks": [
    {"id": "input", "kind": "input", "height": 24, "width": 24, "channels": 16},
    {"id": "s1", "kind": "separable", "inputs": ["input"], "out": 32, "inner": "none", "activation": "none"},
    {"id": "r1", "kind": "activation", "inputs": ["s1"]},
    {"id": "s2", "kind": "separable", "inputs": ["r1"], "out": 32, "inner": "none", "activation": "none"},
    {"id": "r2", "kind": "activation", "inputs": ["s2"], "function": "relu6"},
    {"id": "sum", "kind": "add", "inputs": ["r2", "s2"]}]})");
  const auto a = cost::analyze(g);
  ASSERT_TRUE(a.complete()) << format_diagnostics(a.diagnostics);
  auto s = runtime::Schedule::build(g, a, rows());
  ASSERT_TRUE(s.has_value());
  std::vector<std::string> steps;
  for (const auto& st : s->steps)
    steps.push_back(g.nodes[static_cast<std::size_t>(st.info.node)].id + ":" + st.info.name);
  EXPECT_EQ(steps, (std::vector<std::string>{"s1:fused(4 ops, rows of 24)", "s2:fused(3 ops, rows of 24)", "r2:relu6",
                                             "sum:add"}));
  ASSERT_TRUE(s->steps[0].bottleneck);
  EXPECT_EQ(s->steps[0].bottleneck->act_out, ir::Activation::ReLU);
  for (const auto* kt : tables())
    for (int threads : {1, 2}) compare_with_reference(g, "separable + relu block", *kt, threads, 1e-4, rows());
}

TEST(FusedBottleneck, NeverMaterialisesTheExpandedTensor) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  const auto a = cost::analyze(g);
  auto unfused = runtime::Plan::build(g, a);
  ASSERT_TRUE(unfused.has_value());
  // One slice holds the whole expanded tensor in a scratch buffer beside the
  // arena (more than the unfused plan, whose arena reuses that space); from
  // there, more slices, less memory, and already at 6 less than unfused.
  const std::int64_t unfused_total = unfused->arena_bytes() + unfused->scratch_bytes();
  std::int64_t previous = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t split : {1, 6, 24}) {
    runtime::PlanOptions o;
    o.split = split;
    auto fused = runtime::Plan::build(g, a, o);
    ASSERT_TRUE(fused.has_value());
    int bottlenecks = 0;
    for (std::size_t i = 0; i < fused->n_steps(); ++i)
      bottlenecks += fused->step(i).kind == runtime::StepKind::FusedBottleneck;
    EXPECT_EQ(bottlenecks, 16);  // every inverted residual with an expansion (ir2..ir17)
    const std::int64_t total = fused->arena_bytes() + fused->scratch_bytes();
    EXPECT_LT(total, previous) << "split " << split;
    if (split >= 6) {
      EXPECT_LT(total, unfused_total) << "split " << split;
    }
    previous = total;
  }
  // Row bands: a band's buffers (a few hundred KiB) instead of the largest expanded tensor.
  auto banded = runtime::Plan::build(g, a, rows());
  ASSERT_TRUE(banded.has_value());
  EXPECT_LT(banded->arena_bytes() + banded->scratch_bytes(), unfused_total);
  // The largest band: ir14's whole 14 x 14 x 576 input with its 7 x 7 output (564 KiB), not
  // the 4.8 MB of ir2's expanded tensor.
  EXPECT_LE(banded->scratch_bytes(), (600 << 10) + unfused->scratch_bytes());
  // With 24 slices, what remains is about the blocks view of the cost model:
  // block inputs and outputs plus 1/24 of the largest expanded tensors.
  cost::AnalysisOptions co;
  co.memory_view = cost::MemoryView::Blocks;
  co.split = 24;
  const auto predicted = cost::analyze(g, co).memory.peak_bytes;
  EXPECT_LT(previous, 2 * predicted);
}

TEST(Plan, BatchOfThree) {
  ir::Graph g = testing::load_preset("mobilenet_v3_small");
  g.settings.resolution = 48;
  g.settings.batch = 3;
  compare_with_reference(g, "mobilenet_v3_small batch 3", kernels::best_kernels(), 2, 5e-4);
}

TEST(Plan, ArenaIsNoLargerThanTheCostModelPeak) {
  for (const char* name : {"mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x1_0"}) {
    ir::Graph g = testing::load_preset(name);
    const auto a = cost::analyze(g);
    auto plan = runtime::Plan::build(g, a);
    ASSERT_TRUE(plan.has_value());
    // Fusion removes BN and activation outputs, so the plan needs at most the
    // every-op-materialises peak, and at least the largest single tensor.
    EXPECT_LE(plan->arena_bytes(), a.memory.ops_peak_bytes + 64 * 8) << name;
    std::int64_t largest = 0;
    for (const auto& t : a.tensors) largest = std::max(largest, t.shape.elements() * 4);
    EXPECT_GE(plan->arena_bytes(), largest) << name;
  }
}

TEST(Plan, RefusesGraphsOverTheMemoryLimit) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  g.settings.resolution = 2048;
  const auto a = cost::analyze(g);
  runtime::PlanOptions o;
  o.memory_limit_bytes = 256 << 20;
  auto plan = runtime::Plan::build(g, a, o);
  ASSERT_FALSE(plan.has_value());
  const std::string m = plan.error().front().message;
  EXPECT_NE(m.find("over the limit of 268435456"), std::string::npos) << m;
  EXPECT_NE(m.find("largest tensor 'ir2/expand"), std::string::npos) << m;
}

TEST(Plan, FusesConvBatchNormAndActivation) {
  ir::Graph g = testing::load_preset("mobilenet_v2");
  const auto a = cost::analyze(g);
  auto plan = runtime::Plan::build(g, a);
  ASSERT_TRUE(plan.has_value());
  EXPECT_LT(plan->n_steps(), a.ops.size() / 2);
  EXPECT_EQ(plan->step(0).name, "conv+conv_bn+conv_relu6");
  EXPECT_EQ(plan->step(0).ops.size(), 3u);
}

// A graph written op by op (as an ONNX import is: Conv, BatchNormalization and
// an activation as blocks of their own) runs as the same one step per
// convolution; a batch norm or activation whose input has another reader runs
// on its own.
TEST(Plan, FusesConvBatchNormAndActivationAcrossBlocks) {
  const ir::Graph g = *io::graph_from_json(R"({"format": "convscope-graph", "version": 1, "blocks": [
    {"id": "input", "kind": "input", "height": 20, "width": 20, "channels": 8},
    {"id": "c1", "kind": "conv", "inputs": ["input"], "out": 24, "kernel": 3, "bn": false, "activation": "none"},
    {"id": "b1", "kind": "batch_norm", "inputs": ["c1"]},
    {"id": "r1", "kind": "activation", "inputs": ["b1"], "function": "relu6"},
    {"id": "dw", "kind": "depthwise", "inputs": ["r1"], "activation": "none"},
    {"id": "r2", "kind": "activation", "inputs": ["dw"], "function": "hswish"},
    {"id": "c2", "kind": "conv", "inputs": ["r2"], "out": 16, "kernel": 1, "bn": false, "activation": "none"},
    {"id": "b2", "kind": "batch_norm", "inputs": ["c2"]},
    {"id": "r3", "kind": "activation", "inputs": ["b2"], "function": "relu"},
    {"id": "sum", "kind": "add", "inputs": ["r3", "b2"]}]})");
  const auto a = cost::analyze(g);
  ASSERT_TRUE(a.complete()) << format_diagnostics(a.diagnostics);
  auto plan = runtime::Plan::build(g, a);
  ASSERT_TRUE(plan.has_value());
  std::vector<std::string> names;
  for (std::size_t i = 0; i < plan->n_steps(); ++i) names.push_back(plan->step(i).name);
  // c2's batch norm output is read twice (by r3 and the add): r3 runs on its own.
  EXPECT_EQ(names, (std::vector<std::string>{"conv+bn+relu6", "dw+dw_bn+hswish", "conv+bn", "relu", "add"}));
  EXPECT_EQ(g.nodes[static_cast<std::size_t>(plan->step(0).node)].id, "c1");  // counted under the first block
  for (const kernels::KernelTable* kt : tables())
    for (int threads : {1, 2}) compare_with_reference(g, "op by op", *kt, threads);
}

}  // namespace
}  // namespace convscope

namespace convscope {
namespace {

TEST(Plan, ConcatWrittenInPlaceSavesMemory) {
  // A fire module: the two expand convolutions write straight into the concat's
  // output, so their own outputs never exist.
  const ir::Graph g = testing::single_block("fire", {}, {56, 56, 128});
  const auto a = cost::analyze(g);
  runtime::PlanOptions copy;
  copy.concat_in_place = false;
  auto with_copies = runtime::Plan::build(g, a, copy);
  auto in_place = runtime::Plan::build(g, a);
  ASSERT_TRUE(with_copies.has_value() && in_place.has_value());
  const std::int64_t px = 56 * 56;
  // With copies, e1 (64) and e3 (64) exist beside the concat (128) and the squeeze (16);
  // in place, the concat's buffer and the squeeze output are all there is while expanding.
  EXPECT_GE(with_copies->arena_bytes(), (px * 64 + px * 64 + px * 128) * 4);
  EXPECT_EQ(in_place->arena_bytes(), (px * 128 + px * 16) * 4);
}

}  // namespace
}  // namespace convscope

namespace convscope {
namespace {

// Every step kind the table marks as writing a strided output, written in
// place into a concat (and so through a pixel stride wider than its
// channels), against the reference, on every table and at 1 and 2 threads.
TEST(Plan, EveryStridedWriterMatchesReferenceInsideAConcat) {
  const std::vector<std::pair<std::string, std::string>> writers{
      {"conv_transpose", R"("kind": "conv_transpose", "out": 12, "activation": "relu6")"},
      {"conv_transpose, no activation", R"("kind": "conv_transpose", "out": 12, "activation": "none")"},
      {"pool", R"("kind": "pool", "kernel": 2, "stride": 2)"},
      {"upsample nearest", R"("kind": "upsample", "scale": 2)"},
      {"upsample bilinear", R"("kind": "upsample", "scale": 2, "mode": "bilinear")"},
      {"crelu", R"("kind": "crelu")"},
      {"split", R"("kind": "split", "parts": 2, "index": 1)"},
  };
  for (const auto& [what, block] : writers) {
    // x (10 x 12 x 20) -> writer -> concat with a 1x1 convolution of x brought to the writer's size.
    const bool down = what == "pool", up = what.rfind("conv_transpose", 0) == 0 || what.rfind("upsample", 0) == 0;
    const std::string side = down ? R"("kind": "conv", "out": 8, "kernel": 1, "stride": 2)"
                             : up ? R"("kind": "conv_transpose", "out": 8, "kernel": 2, "stride": 2, "padding": 0)"
                                  : R"("kind": "conv", "out": 8, "kernel": 1)";
    const std::string text = R"({"format": "convscope-graph", "version": 1, "name": "t",
      "blocks": [
        {"id": "input", "kind": "input", "height": 10, "width": 12, "channels": 20},
        {"id": "w", "inputs": ["input"], )" +
                             block + R"(},
        {"id": "s", "inputs": ["input"], )" +
                             side + R"(},
        {"id": "cat", "kind": "concat", "inputs": ["w", "s"]},
        {"id": "out", "kind": "conv", "inputs": ["cat"], "out": 5, "kernel": 1}]})";
    auto g = io::graph_from_json(text);
    ASSERT_TRUE(g.has_value()) << what << ": " << format_diagnostics(g.error());
    for (const auto* kt : tables())
      for (int threads : {1, 2}) compare_with_reference(*g, what, *kt, threads);
    const auto sched = runtime::Schedule::build(*g, cost::analyze(*g));
    ASSERT_TRUE(sched.has_value()) << what;
    const auto in_place = std::count_if(sched->values.begin(), sched->values.end(),
                                        [](const runtime::ScheduledValue& v) { return v.parent >= 0; });
    EXPECT_EQ(in_place, 2) << what << ": both concat inputs should be written in place";
  }
}

// Grouped 1x1 convolutions of narrow groups (the table's narrow_groups where it
// has one): reading half of a split in place (a pixel stride twice their input
// channels) and writing into a concat in place, batch 2, at 1 and 2 threads.
TEST(Plan, NarrowGroupsMatchReference) {
  for (const auto& [groups, out] : std::vector<std::pair<int, int>>{{4, 32}, {8, 64}, {6, 18}, {4, 16}}) {
    const std::string text = R"({"format": "convscope-graph", "version": 1, "name": "t",
      "settings": {"batch": 2},
      "blocks": [
        {"id": "input", "kind": "input", "height": 9, "width": 11, "channels": 48},
        {"id": "half", "kind": "split", "inputs": ["input"], "parts": 2, "index": 1},
        {"id": "g", "kind": "conv", "inputs": ["half"], "kernel": 1, "groups": )" +
                             std::to_string(groups) + R"(, "out": )" + std::to_string(out) +
                             R"(, "activation": "relu6"},
        {"id": "s", "kind": "conv", "inputs": ["input"], "out": 8, "kernel": 1},
        {"id": "cat", "kind": "concat", "inputs": ["g", "s"]},
        {"id": "o", "kind": "conv", "inputs": ["cat"], "out": 5, "kernel": 1}]})";
    auto g = io::graph_from_json(text);
    const std::string what = "24 -> " + std::to_string(out) + " in " + std::to_string(groups) + " groups";
    ASSERT_TRUE(g.has_value()) << what << ": " << format_diagnostics(g.error());
    for (const auto* kt : tables()) {
      for (int threads : {1, 2}) compare_with_reference(*g, what, *kt, threads);
      runtime::PlanOptions o;
      o.kernels = kt;
      const auto sched = runtime::Schedule::build(*g, cost::analyze(*g), o);
      ASSERT_TRUE(sched.has_value()) << what;
      const auto narrow = std::count_if(sched->steps.begin(), sched->steps.end(),
                                        [](const runtime::ScheduledStep& st) { return st.narrow_groups; });
      EXPECT_EQ(narrow, kernels::runs_narrow_groups(*kt, groups, 24 / groups, out / groups) ? 1 : 0)
          << what << " on " << kernels::isa_name(kt->isa);
      if (kt->isa == kernels::Isa::Avx512) {
        EXPECT_EQ(narrow, 1) << what;  // every shape here is narrow on 16 lanes
      }
    }
  }
}

}  // namespace
}  // namespace convscope

namespace convscope {
namespace {

// Squeeze-excite's channel scale and the shortcut add write over an input no
// later step reads (their outputs are views of it); an input read later, a
// graph output, and the option off keep buffers of their own. Outputs match
// the reference on every table at 1 and 2 threads either way.
TEST(Plan, ElementwiseStepsWriteOverAnInputNoLaterStepReads) {
  // An inverted residual with squeeze-excite and a shortcut, then a 1x1 convolution
  // (the graph's output, which no step may write over).
  auto parsed = io::graph_from_json(R"({"format": "convscope-graph", "version": 1, "name": "t", "blocks": [
    {"id": "input", "kind": "input", "height": 14, "width": 14, "channels": 24},
    {"id": "ir", "kind": "inverted_residual", "inputs": ["input"], "out": 24, "se": true, "activation": "swish"},
    {"id": "head", "kind": "conv", "inputs": ["ir"], "out": 16, "kernel": 1}]})");
  ASSERT_TRUE(parsed.has_value());
  const ir::Graph& g = *parsed;
  const auto a = cost::analyze(g);
  ASSERT_TRUE(a.complete());
  auto s = runtime::Schedule::build(g, a, {});
  ASSERT_TRUE(s.has_value());
  int in_place = 0;
  for (const auto& st : s->steps) {
    if (st.info.kind != runtime::StepKind::Mul && st.info.kind != runtime::StepKind::Add) continue;
    // The scale over the depthwise output, the add over the projection (its first input).
    EXPECT_EQ(s->values[static_cast<std::size_t>(st.out)].parent, st.in[0]) << runtime::step_kind_name(st.info.kind);
    ++in_place;
  }
  EXPECT_EQ(in_place, 2);
  runtime::PlanOptions off;
  off.elementwise_in_place = false;
  auto apart = runtime::Schedule::build(g, a, off);
  ASSERT_TRUE(apart.has_value());
  for (const auto& st : apart->steps) EXPECT_LT(apart->values[static_cast<std::size_t>(st.out)].parent, 0);
  EXPECT_LT(s->arena_floats, apart->arena_floats);  // one 14 x 14 x 144 tensor less at the scale
  for (const kernels::KernelTable* kt : tables())
    for (int threads : {1, 2}) {
      compare_with_reference(g, "in place", *kt, threads);
      compare_with_reference(g, "apart", *kt, threads, 1e-4, off);
    }

  // c1 is read again after the add, and the add is the graph's output: nothing in place.
  auto kept = io::graph_from_json(R"({"format": "convscope-graph", "version": 1, "name": "t", "blocks": [
    {"id": "input", "kind": "input", "height": 8, "width": 8, "channels": 16},
    {"id": "c1", "kind": "conv", "inputs": ["input"], "out": 16, "kernel": 1},
    {"id": "c2", "kind": "conv", "inputs": ["input"], "out": 16, "kernel": 1},
    {"id": "sum", "kind": "add", "inputs": ["c1", "c2"]},
    {"id": "c3", "kind": "conv", "inputs": ["c1"], "out": 16, "kernel": 1},
    {"id": "sum2", "kind": "add", "inputs": ["sum", "c3"]}]})");
  ASSERT_TRUE(kept.has_value());
  const auto ka = cost::analyze(*kept);
  auto ks = runtime::Schedule::build(*kept, ka, {});
  ASSERT_TRUE(ks.has_value());
  std::vector<int> hosts;  // per add: the input its output is a view of, or -1
  for (const auto& st : ks->steps)
    if (st.info.kind == runtime::StepKind::Add) hosts.push_back(ks->values[static_cast<std::size_t>(st.out)].parent);
  ASSERT_EQ(hosts.size(), 2u);
  // The first add writes over c2 (c1 is read later); the second is the graph output.
  const auto& first = *std::find_if(ks->steps.begin(), ks->steps.end(),
                                    [](const auto& st) { return st.info.kind == runtime::StepKind::Add; });
  EXPECT_EQ(hosts[0], first.in[1]);
  EXPECT_EQ(hosts[1], -1);
  for (const kernels::KernelTable* kt : tables())
    for (int threads : {1, 2}) compare_with_reference(*kept, "kept", *kt, threads);
}

}  // namespace
}  // namespace convscope

namespace convscope {
namespace {

// Global pooling after a step across the threads splits its input rows (each
// thread pools the rows it wrote) and combines the parts: averages weighted by
// their rows (29 rows: 15 and 14), maxima. Against the reference on every
// table at 2 and 3 threads.
TEST(Plan, GlobalPoolingSplitsItsRowsAcrossTheThreads) {
  for (const std::string mode : {"avg", "max"}) {
    auto g = io::graph_from_json(R"({"format": "convscope-graph", "version": 1, "name": "t", "blocks": [
      {"id": "input", "kind": "input", "height": 29, "width": 27, "channels": 24},
      {"id": "pw", "kind": "conv", "inputs": ["input"], "out": 72, "kernel": 1},
      {"id": "gap", "kind": "global_pool", "inputs": ["pw"], "mode": ")" +
                                 mode + R"("}]})");
    ASSERT_TRUE(g.has_value()) << g.error().front().message;
    const auto a = cost::analyze(*g);
    runtime::PlanOptions two;
    two.threads = 2;
    const auto s = runtime::Schedule::build(*g, a, two);
    ASSERT_TRUE(s.has_value());
    ASSERT_EQ(s->steps.back().info.kind, runtime::StepKind::GlobalPool);
    EXPECT_TRUE(s->steps.back().info.parallel) << mode;
    EXPECT_EQ(s->thread_split(s->steps.size() - 1), runtime::ThreadSplit::Rows) << mode;
    for (const kernels::KernelTable* kt : tables())
      for (int threads : {2, 3}) compare_with_reference(*g, "global pool " + mode, *kt, threads);
  }
}

}  // namespace
}  // namespace convscope
