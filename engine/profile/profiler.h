#pragma once
/// Measured latency of a plan: the whole network un-instrumented, and every
/// step timed on its own. Warm-up runs first, then runs until both a minimum
/// count and a minimum time are reached. Progress is reported and the run can
/// be cancelled from another thread.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "profile/stats.h"
#include "runtime/plan.h"

namespace convscope::profile {

struct ProfileOptions {
  int warmup = 3;
  int min_runs = 10;
  double min_seconds = 0.5;  ///< per phase (whole network, then per step)
  int max_runs = 10000;
  /// Called with the fraction done (0..1) after every run.
  std::function<void(double)> progress;
  /// Set from any thread to stop early; the result then has cancelled = true.
  const std::atomic<bool>* cancel = nullptr;
  /// Time only the whole network (sweeps); step_ns stays empty.
  bool whole_network_only = false;
  /// Time only the steps (after the warm-up runs); network_ns stays empty.
  /// The latency calibration's kernel probes, which fit steps only.
  bool steps_only = false;
};

struct ProfileResult {
  Stats network_ns;                   ///< whole plan, no per-step timers
  std::vector<Stats> step_ns;         ///< per plan step
  double sum_of_step_medians_ns = 0;  ///< beside network_ns.median: the instrumentation's distortion
  std::string cpu, isa;
  int threads = 1;
  bool cancelled = false;
};

ProfileResult profile_plan(runtime::Plan& plan, const ProfileOptions& options = {});

/// Fills every input of `plan` with the same deterministic values in [-1, 1]:
/// latency does not depend on them, and every timing (profile, calibration,
/// validation, speed probe, fusion check) runs on these.
void fill_timing_inputs(runtime::Plan& plan);

}  // namespace convscope::profile
