#pragma once
/// Sweeps: a grid over the width multiplier, the input resolution and any block
/// parameter; every point's costs (thousands of points a second), optionally its
/// measured latency, the Pareto front, and the MobileNet scaling laws checked
/// against the numbers (MAdds ~ alpha^2 rho^2, parameters ~ alpha^2).

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cost/analysis.h"
#include "ir/graph.h"
#include "profile/latency_model.h"
#include "util/result.h"

namespace convscope::sweep {

/// One swept block parameter. `selector` is "param" (every block that has it),
/// "kind.param" (every block of that kind) or "id.param" (one block).
struct ParamAxis {
  std::string selector;
  std::vector<ir::ParamValue> values;
};

struct Spec {
  std::vector<double> alphas;             ///< empty: the graph's own
  std::vector<std::int64_t> resolutions;  ///< empty: the graph's own
  std::vector<ParamAxis> params;
};

struct Point {
  double alpha = 1;
  std::int64_t resolution = 0;
  std::vector<ir::ParamValue> values;  ///< one per Spec::params axis
  bool valid = false;
  std::string problem;  ///< first diagnostic when not valid
  std::int64_t params = 0, madds = 0, peak_memory_bytes = 0;
  std::optional<double> median_ms, min_ms, p90_ms;  ///< when measured
  std::optional<double> predicted_ms;               ///< by the latency model, when there is one
  bool extrapolated = false;                        ///< some step predicted outside the calibrated shapes
  /// The machine's speed while the point was measured against the latency
  /// model's calibration (profile/speed_probe.h; 1.2 = 20 % slower), when measured with a model that has one.
  std::optional<double> machine_speed;
  /// measured / predicted - 1, when both exist.
  [[nodiscard]] std::optional<double> prediction_error() const {
    if (!median_ms || !predicted_ms || *predicted_ms <= 0) return std::nullopt;
    return *median_ms / *predicted_ms - 1.0;
  }
  bool pareto = false;
  /// Scaling laws relative to the reference point (largest alpha and resolution):
  double madds_law = 0;    ///< (MAdds / MAdds_ref) / ((a/a_ref)^2 (r/r_ref)^2): 1 when the law holds
  double params_law = 0;   ///< (params / params_ref) / (a/a_ref)^2
  double latency_law = 0;  ///< (latency / latency_ref) / (MAdds / MAdds_ref): 1 when latency follows MAdds
};

/// Parses "0.35,0.5,1" into alphas; "96:224:32" (start:stop:step, inclusive) or
/// "128,160,224" into resolutions; "NAME=V1,V2" into a parameter axis.
Result<std::vector<double>> parse_alphas(const std::string& text);
Result<std::vector<std::int64_t>> parse_resolutions(const std::string& text);
Result<ParamAxis> parse_param_axis(const std::string& text);

/// Checks the grid before anything runs: non-empty, alpha in (0, 16], every
/// resolution at or above the network's minimum (the smallest at which it is
/// valid), every selector matching at least one block and every value accepted.
Result<bool> check(const ir::Graph& graph, const Spec& spec);

/// The graph at one point of the grid.
ir::Graph apply(const ir::Graph& graph, const Spec& spec, const Point& point);

/// Every point of the grid with its costs (alpha-major, then resolution, then
/// params) and, given a latency model, its predicted latency (the plan
/// measure() runs: bottlenecks over `split` channel slices, else fused where
/// the model predicts it pays).
std::vector<Point> evaluate(const ir::Graph& graph, const Spec& spec, const cost::AnalysisOptions& options = {},
                            const profile::LatencyModel* model = nullptr, std::int64_t split = 0);

struct MeasureOptions {
  int threads = 1;
  double min_seconds = 0.2;  ///< per point (whole-network phase only)
  int min_runs = 5;
  int warmup = 2;
  std::int64_t split =
      0;  ///< bottlenecks over this many channel slices (0: the automatic choice), as evaluate() predicted
  /// Chooses which bottlenecks run fused (split 0), as evaluate() did; null: op by op.
  const profile::LatencyModel* model = nullptr;
  std::int64_t memory_limit_bytes = std::int64_t{4} << 30;
  const std::atomic<bool>* cancel = nullptr;  ///< set from any thread to stop after the current point
  std::function<void(std::size_t done, std::size_t total)> progress;
  /// Called after every measured point, so a caller can save what it has.
  std::function<void(const std::vector<Point>&)> checkpoint;
};

/// Measures every valid point that has no latency yet (points already measured,
/// e.g. read back with read_previous, are kept). Returns false when cancelled.
bool measure(const ir::Graph& graph, const Spec& spec, std::vector<Point>& points, const MeasureOptions& options);

/// Marks the Pareto front of (x, y): x minimised, and y minimised too or, with
/// `y_more`, maximised. The default is the most parameters for the latency (the
/// parameters standing in for accuracy, as in the MobileNet papers' plots):
/// with both minimised, an alpha x resolution grid has a front of one point,
/// the smallest network, fastest and smallest at once. One rule for every
/// caller: latency is compared only among measured points (a cancelled or
/// resumed run leaves some without one, and milliseconds never compete with
/// multiply-adds); when no point is measured, the predicted latency stands in
/// on every point, and without predictions MAdds do. Returns the metrics used.
enum class Metric { Latency, MAdds, Params, PeakMemory, Predicted };
struct ParetoAxes {
  Metric x, y;
  bool y_more = false;  ///< more y is better (a capacity: parameters, MAdds)
};
ParetoAxes mark_pareto(std::vector<Point>& points, ParetoAxes axes);
inline ParetoAxes mark_pareto(std::vector<Point>& points, Metric x, Metric y) {
  return mark_pareto(points, ParetoAxes{x, y});
}

/// "latency", "predicted", "madds", "params" or "memory".
Result<Metric> parse_metric(const std::string& name);
/// "X,Y" with X and Y metric names ("latency,params": both minimised), Y
/// prefixed with + when more of it is better ("latency,+params").
Result<ParetoAxes> parse_pareto(const std::string& text);

/// Fills the scaling-law columns relative to the point with the largest alpha
/// and resolution (and the first parameter values).
void fill_laws(std::vector<Point>& points);

/// CSV (one row per point) and JSON renderings; `axes` names the parameter columns.
std::string to_csv(const Spec& spec, const std::vector<Point>& points);
/// `model`: which latency model predicted the points ("" when none did).
std::string to_json(const Spec& spec, const std::vector<Point>& points, const std::string& model = "");

/// Measured points read back from a previous CSV or JSON output of the same
/// grid (a sweep resumed after an interruption keeps what it measured).
std::vector<Point> read_previous(const std::string& text, const Spec& spec);

/// A key identifying a point's grid position (for resuming).
std::string point_key(const Point& p);

/// Copies the measured latencies of `previous` (read_previous) onto the same
/// grid positions of `points` that have none yet; returns how many were kept.
std::size_t merge_previous(std::vector<Point>& points, const std::vector<Point>& previous);

}  // namespace convscope::sweep
