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
  /// The machine's speed while it was measured: the speed probe's time then over
  /// its time at calibration (1.2: 20 % slower). 0: not known.
  double speed = 0;
  [[nodiscard]] double error() const { return measured_ns > 0 ? predicted_ns / measured_ns - 1.0 : 0.0; }
  /// The error with the prediction scaled by the machine's speed: the model's own error.
  [[nodiscard]] double corrected_error() const {
    return measured_ns > 0 && speed > 0 ? predicted_ns * speed / measured_ns - 1.0 : error();
  }
};

/// Predicts, then measures one case with the model's thread count (min_seconds per
/// phase). With a speed probe (and a model that has a reference time) the probe
/// is timed before and after, which gives the network's speed.
Result<ValidatedNetwork> validate_case(const LatencyModel& m, const kernels::KernelTable& kt, const ValidationCase& c,
                                       double min_seconds = 0.2, SpeedProbe* probe = nullptr);

struct ValidationSummary {
  int networks = 0, layers = 0;
  double within_5 = 0, within_10 = 0;  ///< shares of networks
  double layers_within_25 = 0;         ///< share of layers (steps)
  double median_abs_error = 0;         ///< networks
  double worst_error = 0;              ///< networks, signed
};
/// Errors as predicted, or with every prediction (network and layers) scaled by its speed.
ValidationSummary summarize(const std::vector<ValidatedNetwork>& rows, bool corrected = false);

}  // namespace convscope::profile
