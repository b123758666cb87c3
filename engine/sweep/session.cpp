#include "sweep/session.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace convscope::sweep {

Result<Spec> parse_spec(const GridText& text) {
  Spec spec;
  Diagnostics bad;
  const auto keep = [&](const Diagnostics& d) { bad.insert(bad.end(), d.begin(), d.end()); };
  if (!text.alphas.empty()) {
    if (auto a = parse_alphas(text.alphas))
      spec.alphas = std::move(*a);
    else
      keep(a.error());
  }
  if (!text.resolutions.empty()) {
    if (auto r = parse_resolutions(text.resolutions))
      spec.resolutions = std::move(*r);
    else
      keep(r.error());
  }
  for (const auto& axis_text : text.params) {
    if (auto axis = parse_param_axis(axis_text))
      spec.params.push_back(std::move(*axis));
    else
      keep(axis.error());
  }
  if (!bad.empty()) return tl::unexpected(std::move(bad));
  return spec;
}

std::size_t point_count(const Spec& spec) {
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  std::size_t n = 1;
  const auto times = [&](std::size_t k) {
    k = std::max<std::size_t>(k, 1);
    n = n > kMax / k ? kMax : n * k;
  };
  times(spec.alphas.size());
  times(spec.resolutions.size());
  for (const auto& axis : spec.params) times(axis.values.size());
  return n;
}

GridIndex index_grid(const std::vector<Point>& points) {
  GridIndex g;
  g.cells.reserve(points.size());
  const auto position = [](auto& list, const auto& value) {
    const auto it = std::find(list.begin(), list.end(), value);
    if (it != list.end()) return static_cast<std::size_t>(it - list.begin());
    list.push_back(value);
    return list.size() - 1;
  };
  for (const auto& p : points)
    g.cells.push_back(
        {position(g.alphas, p.alpha), position(g.resolutions, p.resolution), position(g.combos, p.values)});
  return g;
}

Session::Session(ir::Graph graph, Spec spec, SessionSetup setup)
    : graph_(std::move(graph)), spec_(std::move(spec)), setup_(std::move(setup)) {}

Result<Session> Session::start(ir::Graph graph, Spec spec, SessionSetup setup) {
  if (auto ok = check(graph, spec); !ok) return tl::unexpected(ok.error());
  Session s(std::move(graph), std::move(spec), std::move(setup));
  s.points_ =
      evaluate(s.graph_, s.spec_, s.setup_.analysis, s.setup_.model ? &*s.setup_.model : nullptr, s.setup_.split);
  s.grid_ = index_grid(s.points_);
  s.analyse();
  return s;
}

void Session::analyse() {
  fill_laws(points_);
  front_axes_ = mark_pareto(points_, setup_.pareto);
}

void Session::recount(const cost::AnalysisOptions& analysis, std::optional<profile::LatencyModel> model) {
  setup_.analysis = analysis;
  setup_.model = std::move(model);
  std::vector<Point> fresh =
      evaluate(graph_, spec_, setup_.analysis, setup_.model ? &*setup_.model : nullptr, setup_.split);
  // The grid is the same, so the points line up one for one; what was measured stays.
  for (std::size_t i = 0; i < fresh.size() && i < points_.size(); ++i) {
    fresh[i].median_ms = points_[i].median_ms;
    fresh[i].min_ms = points_[i].min_ms;
    fresh[i].p90_ms = points_[i].p90_ms;
    if (fresh[i].valid && fresh[i].problem.empty()) fresh[i].problem = points_[i].problem;  // "could not be run"
  }
  points_ = std::move(fresh);
  analyse();
}

void Session::set_pareto(ParetoAxes axes) {
  setup_.pareto = axes;
  analyse();
}

std::size_t Session::resume(const std::string& previous_output) {
  const std::size_t kept = merge_previous(points_, read_previous(previous_output, spec_));
  if (kept > 0) analyse();
  return kept;
}

bool Session::measure(MeasureOptions options) {
  options.split = setup_.split;
  options.model = setup_.model ? &*setup_.model : nullptr;
  if (auto user = std::move(options.checkpoint))
    options.checkpoint = [this, user = std::move(user)](const std::vector<Point>&) {
      analyse();
      user(points_);
    };
  const bool complete = sweep::measure(graph_, spec_, points_, options);
  analyse();
  return complete;
}

Session::Summary Session::summary() const {
  Summary s;
  s.points = points_.size();
  for (const auto& p : points_) {
    s.valid += p.valid;
    s.measured += p.valid && p.median_ms.has_value();
    s.predicted += p.valid && p.predicted_ms.has_value();
    s.front += p.pareto;
  }
  return s;
}

ir::Graph Session::point_graph(std::size_t index) const {
  return index < points_.size() ? apply(graph_, spec_, points_[index]) : graph_;
}

std::string Session::model_description() const {
  const bool predicted = std::any_of(points_.begin(), points_.end(), [](const Point& p) { return p.predicted_ms; });
  return predicted && setup_.model ? setup_.model->describe() : std::string();
}

}  // namespace convscope::sweep
