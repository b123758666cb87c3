#pragma once
/// A profile read per layer and per block: each plan step's measured figures
/// beside the latency model's prediction and the roofline bound, and the steps
/// summed per graph block. The CLI report and the app's table and plots both
/// read these rows.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cost/analysis.h"
#include "profile/calibration.h"
#include "profile/latency_model.h"
#include "profile/profiler.h"
#include "runtime/plan.h"

namespace convscope::profile {

/// One plan step (fused ops share a step): measured, predicted and bounded.
struct LayerTiming {
  int node = -1;         ///< graph node index
  std::vector<int> ops;  ///< analysis op indices the step covers
  std::string block;     ///< graph node id
  std::string step;      ///< e.g. "expand+expand_bn+expand_relu6"
  std::string kind;      ///< step kind, e.g. "gemm"
  ir::Shape out;
  std::int64_t madds = 0, flops = 0, bytes = 0;  ///< per batch
  double bound_ns = 0;                           ///< roofline bound: max(flops / peak, bytes / bandwidth)
  std::string bound;                             ///< which ceiling: "compute", "L2", "L3" or "DRAM"
  double predicted_ns = 0;                       ///< the latency model's prediction (0 without a model)
  bool extrapolated = false;                     ///< predicted outside the model's calibrated range
  double median_ns = 0, min_ns = 0, p90_ns = 0, cv = 0;
  /// Nothing to do (inputs written in place, a view): not run, not timed, bound and prediction 0.
  bool in_place = false;
  [[nodiscard]] bool fused() const { return ops.size() > 1; }
  [[nodiscard]] double intensity() const {  ///< FLOPs per byte moved
    return bytes > 0 ? static_cast<double>(flops) / static_cast<double>(bytes) : 0.0;
  }
  [[nodiscard]] double achieved_gflops() const { return median_ns > 0 ? static_cast<double>(flops) / median_ns : 0.0; }
};

/// A graph block: the sums of its steps (zero for blocks without steps).
struct BlockTiming {
  int steps = 0;
  double bound_ns = 0, predicted_ns = 0, median_ns = 0, min_ns = 0, p90_ns = 0;
};

struct ProfileSummary {
  std::vector<LayerTiming> layers;  ///< plan order
  std::vector<BlockTiming> blocks;  ///< index = graph node index
  double bound_ns = 0;              ///< roofline bound, sum over layers
  double predicted_ns = 0;          ///< latency model: sum over layers x its network factor (0 without a model)
  std::string model;                ///< which model and calibration predicted ("" without one)
  double peak_gflops = 0;           ///< the compute ceiling used for the plan's thread count
  std::string fusion;               ///< how the bottlenecks were fused (FusionChoice::summary), set by the caller
  /// The machine's speed around the run against the calibration's (speed probe
  /// time then / at calibration, profile/speed_probe.h; 1.2 = 20 % slower), set
  /// by the caller; 0: not measured.
  double speed = 0;
};

/// Reads a finished (or cancelled) profile run of `plan`, built from `g`;
/// `model` (optional) predicts every step.
ProfileSummary summarize_profile(const ir::Graph& g, const runtime::Plan& plan, const ProfileResult& r,
                                 const Calibration& cal, const LatencyModel* model = nullptr);

/// The fastest plan step against the compute ceiling. The ceilings are measured
/// once and cached; measured while the machine was busy, the peak sits below what
/// the kernels reach later, and GEMM steps plot above the "peak" line. A step more
/// than 5 % above the peak means the calibration is not to be trusted.
struct PeakCheck {
  int layer = -1;     ///< index into ProfileSummary::layers (-1: no step did work)
  double gflops = 0;  ///< what that step reached
  double peak = 0;    ///< the ceiling it was held against
  [[nodiscard]] bool beaten() const { return peak > 0 && gflops > 1.05 * peak; }
};
PeakCheck check_peak(const ProfileSummary& s);

/// After a profile whose steps beat the calibrated peak: the ceilings measured
/// again (and cached), with a sentence for the user on what was found. nullopt
/// when the peak held (or measuring failed: the old calibration stays).
struct Recalibration {
  Calibration calibration;
  std::string note;
};
std::optional<Recalibration> recalibrate_if_beaten(const ProfileSummary& s, const kernels::KernelTable& kt);

/// summarize_profile against ceilings that are checked first: when a step beat the
/// calibrated peak, `cal` is measured again (recalibrate_if_beaten), `note` (when
/// given) says so, and the summary is made against the new ceilings. Every caller
/// that shows a profile (the CLI's `profile`, the app) reads it through this.
ProfileSummary summarize_checked(const ir::Graph& g, const runtime::Plan& plan, const ProfileResult& r,
                                 Calibration& cal, const LatencyModel* model, const kernels::KernelTable& kt,
                                 std::string* note = nullptr);

/// The roofline bound of every analysis op in nanoseconds (index = op index),
/// before any plan exists: FLOPs = 2 x MAdds + other ops, bytes = inputs +
/// output + parameters. Ops of invalid blocks predict 0. Given the schedule
/// that runs them, the ops of a step that does less arithmetic than it counts
/// (Winograd: StepInfo::kernel_flops) are bounded by what it runs.
std::vector<double> predict_ops_ns(const cost::Analysis& a, const Calibration& cal, int threads,
                                   const runtime::Schedule* schedule = nullptr);

}  // namespace convscope::profile
