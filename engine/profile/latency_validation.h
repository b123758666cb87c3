#pragma once
/// How far the latency model is from measurement, like nn-Meter's accuracy
/// table: networks (presets, their width / resolution variants, imported
/// models) are predicted from their schedules, then run, and the network and
/// per-layer errors are summarised. None of these networks is a probe of the
/// calibration, so the figures say how the model does on unseen designs.

#include <string>
#include <vector>

#include "ir/graph.h"
#include "profile/fusion_choice.h"
#include "profile/latency_model.h"
#include "profile/speed_probe.h"
#include "runtime/weights.h"

namespace convscope::profile {

struct ValidationCase {
  std::string name;  ///< e.g. "mobilenet_v2 alpha 0.5"
  ir::Graph graph;
  FusionSetting fusion;  ///< auto: what a user's run does by default
};

/// Every preset as it is, at width 0.5 and at resolution 160, and MobileNetV2 and
/// V3-Large with every bottleneck op by op and over 6 channel slices; the presets
/// found by io::preset_files().
std::vector<ValidationCase> default_validation_cases();

struct ValidatedNetwork {
  std::string name;
  double predicted_ns = 0, measured_ns = 0;  ///< model sum over steps; median of whole runs
  int steps = 0, extrapolated = 0;
  std::vector<double> layer_predicted_ns, layer_measured_ns;  ///< per step (measured: median of step timings)
  std::vector<runtime::StepKind> layer_kind;                  ///< per step
  std::vector<std::string> layer_name;                        ///< per step, as `profile` names it
  std::vector<bool> layer_extrapolated;                       ///< per step: a feature outside the calibrated range
  /// The machine's speed while it was measured: the speed probe's time then over
  /// its time at calibration (1.2: 20 % slower). 0: not known.
  double speed = 0;
  /// The cores' round trip around the measurement over the calibration's (the
  /// prediction's LatencyModel::cross_core_scale); 1 on one thread.
  double cross_core_scale = 1;
  /// The cores' round trip around the run, and the calibration round trip of
  /// the model that predicted it (one of several placements'); 0 on one thread.
  double round_trip_ns = 0, model_round_trip_ns = 0;
  std::vector<double> pass_measured_ns;  ///< combine_passes(): measured_ns of every pass
  [[nodiscard]] double error() const { return measured_ns > 0 ? predicted_ns / measured_ns - 1.0 : 0.0; }
  /// The error with the prediction scaled by the machine's speed: the model's own error.
  [[nodiscard]] double corrected_error() const {
    return measured_ns > 0 && speed > 0 ? predicted_ns * speed / measured_ns - 1.0 : error();
  }
};

/// Measures one case with the model's thread count (min_seconds per phase) and
/// predicts it, the cross-core lines priced at the cores' round trip measured
/// around the run. With a speed probe (and a model that has a reference time)
/// the probe is timed before and after, which gives the network's speed.
/// With `placements` (models of the same thread count for other placements of
/// the cores: CachedModel::placements) the prediction uses the one nearest the
/// round trip measured around the run; `m` still chooses the plan's fusion.
Result<ValidatedNetwork> validate_case(const LatencyModel& m, const kernels::KernelTable& kt, const ValidationCase& c,
                                       double min_seconds = 0.2, SpeedProbe* probe = nullptr,
                                       const std::vector<LatencyModel>* placements = nullptr);

struct ValidationSummary {
  int networks = 0, layers = 0;
  double within_5 = 0, within_10 = 0;  ///< shares of networks
  double layers_within_25 = 0;         ///< share of layers (steps)
  double median_abs_error = 0;         ///< networks
  double worst_error = 0;              ///< networks, signed
};
/// Errors as predicted, or with every prediction (network and layers) scaled by its speed.
ValidationSummary summarize(const std::vector<ValidatedNetwork>& rows, bool corrected = false);

/// The same cases measured in several passes (each pass over every case, so the
/// passes are minutes apart): one row per case found in every pass, measured
/// (network, layers) and speed the median over the passes; the prediction is the
/// first pass's (it does not change).
std::vector<ValidatedNetwork> combine_passes(const std::vector<std::vector<ValidatedNetwork>>& passes);

/// How well the machine repeats its own measurements: every pass's measurements
/// (network and layers) taken as the "prediction" of the next pass's, case by
/// case. summarize() and accuracy_by_kind() of these rows are the floor under
/// the model's accuracy: no model predicts a measurement better than the
/// measurement predicts itself a few minutes later.
std::vector<ValidatedNetwork> pass_to_pass(const std::vector<std::vector<ValidatedNetwork>>& passes);

/// The layers of one step kind over all validated networks (as predicted): which
/// kernel family the model gets wrong, and how much of the time it is.
struct KindAccuracy {
  runtime::StepKind kind = runtime::StepKind::Gemm;
  int layers = 0;
  double within_25 = 0;     ///< share of these layers within +-25 %
  double median_ratio = 0;  ///< measured / predicted, median over these layers (those predicted above 0)
  double time_share = 0;    ///< their share of all layers' measured time
};
/// Every step kind that has layers, the most measured time first.
std::vector<KindAccuracy> accuracy_by_kind(const std::vector<ValidatedNetwork>& rows);

}  // namespace convscope::profile
