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
  [[nodiscard]] double error() const { return measured_ns > 0 ? predicted_ns / measured_ns - 1.0 : 0.0; }
};

/// Predicts, then measures one case with the model's thread count (min_seconds per phase).
Result<ValidatedNetwork> validate_case(const LatencyModel& m, const kernels::KernelTable& kt, const ValidationCase& c,
                                       double min_seconds = 0.2);

struct ValidationSummary {
  int networks = 0, layers = 0;
  double within_5 = 0, within_10 = 0;  ///< shares of networks
  double layers_within_25 = 0;         ///< share of layers (steps)
  double median_abs_error = 0;         ///< networks
  double worst_error = 0;              ///< networks, signed
};
ValidationSummary summarize(const std::vector<ValidatedNetwork>& rows);

}  // namespace convscope::profile
