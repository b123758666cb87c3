#pragma once
/// A sweep session: one grid on one graph, from the text a user typed to the
/// analysed points. It holds the graph as it was when the sweep started, the
/// grid, the points with their costs, predicted and measured latencies, the
/// scaling laws and the Pareto front, and keeps them consistent: every change
/// (recount under another counting convention or latency model, measured
/// times read back from an earlier run, a measured point) re-marks the laws
/// and the front by the one rule of mark_pareto. The CLI's `sweep` command and
/// the app's sweep view both drive one; neither holds sweep logic of its own.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sweep/sweep.h"

namespace convscope::sweep {

/// A grid as typed: each field empty for "the graph's own"; `params` one
/// "NAME=V1,V2" per axis.
struct GridText {
  std::string alphas, resolutions;
  std::vector<std::string> params;
};

/// Parses every field of a grid; every bad field is reported, under the
/// engine's field names (alpha, resolution, param), never a caller's flag names.
Result<Spec> parse_spec(const GridText& text);

/// How many points the grid has (saturating at SIZE_MAX); computed before anything is evaluated.
std::size_t point_count(const Spec& spec);

/// The distinct grid positions of a list of points, in order of first appearance, and each point's position.
struct GridIndex {
  std::vector<double> alphas;
  std::vector<std::int64_t> resolutions;
  std::vector<std::vector<ir::ParamValue>> combos;  ///< parameter value combinations ({} without axes)
  struct Cell {
    std::size_t alpha = 0, resolution = 0, combo = 0;
  };
  std::vector<Cell> cells;  ///< per point
};
GridIndex index_grid(const std::vector<Point>& points);

/// What a session counts and predicts with.
struct SessionSetup {
  cost::AnalysisOptions analysis;
  std::optional<profile::LatencyModel> model;  ///< predicts every point when set
  std::int64_t split = 0;                      ///< bottleneck fusion, as predicted and measured
  ParetoAxes pareto{Metric::Latency, Metric::Params, true};
};

class Session {
 public:
  /// Checks the grid on `graph` (check(): every value, every selector, every point
  /// a valid network) and evaluates every point. Errors name the engine's fields.
  static Result<Session> start(ir::Graph graph, Spec spec, SessionSetup setup = {});

  [[nodiscard]] const ir::Graph& graph() const { return graph_; }
  [[nodiscard]] const Spec& spec() const { return spec_; }
  [[nodiscard]] const SessionSetup& setup() const { return setup_; }
  [[nodiscard]] const std::vector<Point>& points() const { return points_; }
  [[nodiscard]] const GridIndex& grid() const { return grid_; }
  /// The metrics the front was last marked on (latency stands in as predicted or MAdds when nothing is measured).
  [[nodiscard]] ParetoAxes front_axes() const { return front_axes_; }

  /// Costs and predictions again under other counting options and latency model;
  /// measured latencies are kept.
  void recount(const cost::AnalysisOptions& analysis, std::optional<profile::LatencyModel> model);
  /// Marks the front on other metrics (mark_pareto's rule); the points are unchanged otherwise.
  void set_pareto(ParetoAxes axes);
  /// Keeps the measured latencies of an earlier CSV or JSON output of this grid
  /// (a sweep resumed after an interruption); returns how many points they cover.
  std::size_t resume(const std::string& previous_output);
  /// Measures every valid point without a latency (measure()); the laws and the
  /// front are re-marked before each checkpoint and at the end. False when cancelled.
  bool measure(MeasureOptions options);

  /// Counts for a status line.
  struct Summary {
    std::size_t points = 0, valid = 0, measured = 0, predicted = 0, front = 0;
    [[nodiscard]] std::size_t unmeasured() const { return valid - measured; }
  };
  [[nodiscard]] Summary summary() const;

  /// The graph at point `index` (apply()); the graph itself when out of range.
  [[nodiscard]] ir::Graph point_graph(std::size_t index) const;
  /// The model that predicted the points ("" when none did).
  [[nodiscard]] std::string model_description() const;
  [[nodiscard]] std::string csv() const { return to_csv(spec_, points_); }
  [[nodiscard]] std::string json() const { return to_json(spec_, points_, model_description()); }

 private:
  Session(ir::Graph graph, Spec spec, SessionSetup setup);
  void analyse();

  ir::Graph graph_;
  Spec spec_;
  SessionSetup setup_;
  std::vector<Point> points_;
  GridIndex grid_;
  ParetoAxes front_axes_{Metric::Latency, Metric::Params, true};
};

}  // namespace convscope::sweep
