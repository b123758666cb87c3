// convscope-cli profile: runs a graph on the CPU backend and prints measured latency per
// layer beside the roofline bound of this machine's calibrated ceilings.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "command.h"
#include "common.h"
#include "io/profile_report.h"
#include "profile/calibration.h"
#include "profile/fusion_choice.h"
#include "profile/latency_calibration.h"
#include "profile/layers.h"
#include "profile/profiler.h"
#include "profile/speed_probe.h"
#include "runtime/plan.h"

namespace convscope::cli {

namespace {
struct Options {
  std::string file, isa = "auto";
  CostFlags flags;
  int threads = 1;
  bool json = false;
  double min_time = 0.5;
  int min_runs = 10;
  int warmup = 3;
  bool portable = false;
  std::int64_t memory_limit_mb = 4096;
  bool force_calibration = false;
  std::string fuse = "auto";
  std::string winograd = "on";
};

int run(const Options& o) {
  auto l = load_complete(o.file, o.flags);
  if (!l) return l.error();
  const auto& [shown, g, a, named] = *l;
  auto kt = pick_kernels(o.isa, o.portable);
  if (!kt) return kt.error();
  const auto fusion = profile::parse_fusion(o.fuse);
  if (!fusion) {
    std::cerr << format_diagnostics(fusion.error(), "convscope-cli");
    return kExitUsage;
  }
  runtime::PlanOptions po;
  po.winograd = o.winograd == "on";
  po.threads = o.threads;
  po.kernels = *kt;
  po.memory_limit_bytes = o.memory_limit_mb << 20;
  // Graphs over the memory limit are refused before any calibration.
  Result<bool> fits = runtime::check_weight_memory(a, po.memory_limit_bytes);
  if (fits) {
    auto unfused = runtime::Schedule::build(g, a, po);
    fits = unfused ? runtime::check_plan_memory(*unfused, po.memory_limit_bytes) : tl::unexpected(unfused.error());
  }
  if (!fits) {
    std::cerr << format_diagnostics(fits.error(), "convscope-cli: " + shown);
    return kExitInvalid;
  }
  auto cal = profile::load_or_measure(**kt, o.force_calibration);
  if (!cal) {
    std::cerr << format_diagnostics(cal.error(), "convscope-cli");
    return kExitUsage;
  }
  // The latency model for these kernels and threads: cached, else calibrated now (about 40 s).
  // It predicts every step and, by default, picks which bottlenecks run fused.
  auto model = latency_model(**kt, o.threads, o.force_calibration);
  profile::LatencyModel* m = model ? &*model : nullptr;
  const auto weights = runtime::Weights::with_named(g, a, named);
  po.weights = &weights;
  profile::FusionChoice choice;
  po = profile::apply_fusion(g, a, m, *fusion, po, &choice);
  auto plan = runtime::Plan::build(g, a, po);
  if (!plan) {
    std::cerr << format_diagnostics(plan.error(), "convscope-cli: " + shown);
    return kExitInvalid;
  }
  profile::fill_timing_inputs(*plan);
  profile::ProfileOptions popt;
  popt.warmup = o.warmup;
  popt.min_runs = o.min_runs;
  popt.min_seconds = o.min_time;
  const bool tty = ::isatty(2) != 0;
  if (tty)
    popt.progress = [](double f) {
      const int w = 40, done = static_cast<int>(f * w);
      std::fprintf(stderr, "\rprofiling [%s%s] %3d%%", std::string(static_cast<std::size_t>(done), '#').c_str(),
                   std::string(static_cast<std::size_t>(w - done), ' ').c_str(), static_cast<int>(f * 100));
    };
  // The speed probe just before and after: how fast the machine runs now against the calibration.
  profile::ProfileResult r;
  // And the cores' round trip: on several threads the prediction prices the
  // cross-core lines at the placement the run had (LatencyModel::cross_core_scale).
  const profile::RunConditions around = profile::conditions_around(**kt, m, [&] {
    r = profile::profile_plan(*plan, popt);
    return !r.cancelled;
  });
  if (m) {
    *m = profile::model_for_round_trip(**kt, o.threads, around.round_trip_ns, *m);
    m->cross_core_scale = around.cross_core_scale(*m);
  }
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
  // A step faster than the calibrated peak: the ceilings were measured under load; measure them again.
  std::string note;
  profile::ProfileSummary sum = profile::summarize_checked(g, *plan, r, *cal, m, **kt, &note);
  sum.fusion = choice.summary();
  // Where the model chose, say how to have the choice measured instead.
  if (!o.json && choice.model_used && choice.measured < choice.candidates)
    sum.fusion += "\n  (predicted: `convscope-cli calibrate --fusion " + o.file +
                  "` times both forms of each block on this machine, and auto then runs the faster)";
  sum.speed = m ? around.speed(*m) : 0;
  if (!note.empty()) std::fprintf(stderr, "convscope-cli: %s\n", note.c_str());
  if (o.json)
    std::cout << io::profile_json(g, a, *plan, r, *cal, sum);
  else
    std::cout << io::profile_table(g, a, *plan, r, *cal, sum);
  return 0;
}
}  // namespace

Command add_profile(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("profile", "run a graph on the CPU backend: measured latency per layer beside the roofline");
  cmd->add_option("FILE", o->file, "graph file, ONNX model, preset name, or - for stdin")->required();
  cmd->add_option("--threads", o->threads, "worker threads (1 gives the most stable numbers)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "print one JSON object (network, machine, layers, blocks)");
  cmd->add_option("--min-time", o->min_time, "seconds per phase (whole network, then per layer)")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  cmd->add_option("--min-runs", o->min_runs, "runs per phase at least")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "warm-up runs")->check(CLI::Range(0, 1000))->capture_default_str();
  add_isa_option(cmd, o->isa);
  cmd->add_flag("--portable", o->portable, "the portable kernels (same as --isa portable)");
  cmd->add_option("--memory-limit", o->memory_limit_mb, "refuse plans needing more than this many MiB")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_flag("--recalibrate", o->force_calibration,
                "measure the machine's ceilings and calibrate the latency model again first");
  cmd->add_option("--fuse-bottleneck", o->fuse,
                  "how each expand -> depthwise -> project chain runs: auto (per block, the faster of row "
                  "bands and op by op as the latency model predicts), rows (one step over bands of rows, "
                  "the expanded rows kept in cache), off (op by op), or T (one step over T channel slices, "
                  "the MobileNetV2 paper's t-way split)")
      ->capture_default_str();
  cmd->add_option("--winograd", o->winograd,
                  "3x3 stride-1 convolutions of 16+ channels over 16+ tiles by Winograd F(4x4, 3x3) (on) or by "
                  "the implicit-im2col GEMM, as every other convolution (off)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  o->flags.add_to(cmd);
  return {cmd, [o] { return run(*o); }};
}

}  // namespace convscope::cli
