#include "sweep/sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "blocks/registry.h"
#include "profile/fusion_choice.h"
#include "profile/profiler.h"
#include "profile/speed_probe.h"
#include "runtime/plan.h"

namespace convscope::sweep {
namespace {

std::vector<std::string> split_list(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(text);
  while (std::getline(in, cur, sep))
    if (!cur.empty()) out.push_back(cur);
  return out;
}

std::optional<double> to_double(const std::string& s) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::int64_t> to_int(const std::string& s) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used != s.size()) return std::nullopt;
    return static_cast<std::int64_t>(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

ir::ParamValue to_value(const std::string& s) {
  if (auto i = to_int(s)) return *i;
  if (auto d = to_double(s)) return *d;
  if (s == "true") return true;
  if (s == "false") return false;
  return s;
}

/// Does node `n` match the selector? Returns the parameter name, or "" if not.
std::string match(const ir::Node& n, const std::string& selector) {
  const auto* kind = blocks::Registry::builtin().find(n.kind);
  if (!kind) return {};
  const auto dot = selector.find('.');
  if (dot == std::string::npos) return kind->param(selector) ? selector : std::string();
  const std::string who = selector.substr(0, dot), param = selector.substr(dot + 1);
  if ((who == n.kind || who == n.id) && kind->param(param)) return param;
  return {};
}

double metric(const Point& p, Metric m) {
  switch (m) {
    case Metric::Latency:
      return p.median_ms ? *p.median_ms : static_cast<double>(p.madds);
    case Metric::MAdds:
      return static_cast<double>(p.madds);
    case Metric::Params:
      return static_cast<double>(p.params);
    case Metric::PeakMemory:
      return static_cast<double>(p.peak_memory_bytes);
    case Metric::Predicted:
      return p.predicted_ms ? *p.predicted_ms : static_cast<double>(p.madds);
  }
  return 0;
}

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

}  // namespace

Result<std::vector<double>> parse_alphas(const std::string& text) {
  std::vector<double> out;
  for (const auto& item : split_list(text, ',')) {
    auto v = to_double(item);
    if (!v) return fail("alpha", "expected numbers separated by commas, got '" + item + "'");
    out.push_back(*v);
  }
  if (out.empty()) return fail("alpha", "the list is empty");
  return out;
}

Result<std::vector<std::int64_t>> parse_resolutions(const std::string& text) {
  std::vector<std::int64_t> out;
  if (text.find(':') != std::string::npos) {
    const auto parts = split_list(text, ':');
    std::optional<std::int64_t> a, b, step = std::int64_t{32};
    if (parts.size() >= 2) {
      a = to_int(parts[0]);
      b = to_int(parts[1]);
    }
    if (parts.size() == 3) step = to_int(parts[2]);
    if (parts.size() < 2 || parts.size() > 3 || !a || !b || !step)
      return fail("resolution", "expected START:STOP[:STEP] with integers, got '" + text + "'");
    if (*step <= 0) return fail("resolution", "the step must be positive, got " + std::to_string(*step));
    if (*b < *a) return fail("resolution", "STOP " + std::to_string(*b) + " is below START " + std::to_string(*a));
    if ((*b - *a) / *step > 10000) return fail("resolution", "more than 10000 resolutions; use a larger step");
    for (std::int64_t r = *a; r <= *b; r += *step) out.push_back(r);
  } else {
    for (const auto& item : split_list(text, ',')) {
      auto v = to_int(item);
      if (!v)
        return fail("resolution", "expected integers separated by commas, or START:STOP:STEP, got '" + item + "'");
      out.push_back(*v);
    }
  }
  if (out.empty()) return fail("resolution", "the list is empty");
  return out;
}

Result<ParamAxis> parse_param_axis(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return fail("param", "expected NAME=V1,V2 (NAME: a parameter, kind.param or block_id.param), got '" + text + "'");
  ParamAxis axis;
  axis.selector = text.substr(0, eq);
  for (const auto& item : split_list(text.substr(eq + 1), ',')) axis.values.push_back(to_value(item));
  if (axis.values.empty()) return fail("param", "no values for '" + axis.selector + "'");
  return axis;
}

ir::Graph apply(const ir::Graph& graph, const Spec& spec, const Point& point) {
  ir::Graph g = graph;
  g.settings.alpha = point.alpha;
  if (point.resolution > 0) g.settings.resolution = point.resolution;
  for (std::size_t a = 0; a < spec.params.size(); ++a)
    for (auto& n : g.nodes) {
      const std::string param = match(n, spec.params[a].selector);
      if (!param.empty()) n.params[param] = point.values[a];
    }
  return g;
}

Result<bool> check(const ir::Graph& graph, const Spec& spec) {
  Diagnostics d;
  for (double a : spec.alphas)
    if (!(a > 0) || a > 16) d.push_back({"alpha", "must be in (0, 16], got " + num(a)});
  for (std::int64_t r : spec.resolutions)
    if (r < 1 || r > (1 << 20)) d.push_back({"resolution", "must be in 1..1048576, got " + std::to_string(r)});
  for (const auto& axis : spec.params) {
    bool any = false;
    for (const auto& n : graph.nodes) any |= !match(n, axis.selector).empty();
    if (!any) d.push_back({"param", "'" + axis.selector + "' matches no block of this graph"});
  }
  if (!d.empty()) return tl::unexpected(d);
  // Every point must be a valid network: report the first that is not, with why.
  Spec probe = spec;
  if (probe.alphas.empty()) probe.alphas = {graph.settings.alpha};
  if (probe.resolutions.empty()) probe.resolutions = {graph.settings.resolution.value_or(0)};
  Point p;
  p.values.resize(spec.params.size());
  for (double a : probe.alphas)
    for (std::int64_t r : probe.resolutions) {
      p.alpha = a;
      p.resolution = r;
      for (std::size_t i = 0; i < spec.params.size(); ++i) p.values[i] = spec.params[i].values.front();
      const auto an = cost::analyze(apply(graph, spec, p));
      if (an.complete()) continue;
      // Below the network's minimum resolution? Find that minimum.
      std::int64_t minimum = 0;
      for (std::int64_t m = r + 1; m <= 4096 && minimum == 0; ++m) {
        p.resolution = m;
        if (cost::analyze(apply(graph, spec, p)).complete()) minimum = m;
      }
      std::string why = an.diagnostics.front().str();
      if (minimum > 0 && r > 0)
        return fail("resolution", "resolution " + std::to_string(r) + " is below this network's minimum of " +
                                      std::to_string(minimum) + " (" + why + ")");
      return fail("", "alpha " + num(a) + ", resolution " + std::to_string(r) + ": " + why);
    }
  return true;
}

namespace {
/// How a point runs: bottlenecks over `split` channel slices, else fused where
/// the latency model predicts it pays (op by op without one), as a profile runs them.
/// `schedule`: as apply_fusion gives it (the plan's schedule when built on the way).
runtime::PlanOptions point_plan(const ir::Graph& g, const cost::Analysis& a, const profile::LatencyModel* model,
                                std::int64_t split, int threads, std::optional<runtime::Schedule>* schedule = nullptr) {
  runtime::PlanOptions po;
  po.threads = threads;
  profile::FusionSetting fusion;
  if (split > 0) fusion = {profile::FusionSetting::Mode::Slices, split};
  return profile::apply_fusion(g, a, model, fusion, po, nullptr, schedule);
}
}  // namespace

std::vector<Point> evaluate(const ir::Graph& graph, const Spec& spec, const cost::AnalysisOptions& options,
                            const profile::LatencyModel* model, std::int64_t split) {
  std::vector<double> alphas = spec.alphas.empty() ? std::vector<double>{graph.settings.alpha} : spec.alphas;
  std::vector<std::int64_t> res = spec.resolutions;
  if (res.empty()) res = {graph.settings.resolution.value_or(0)};
  // The cartesian product of the parameter axes, first axis slowest.
  std::vector<std::vector<ir::ParamValue>> combos{{}};
  for (const auto& axis : spec.params) {
    std::vector<std::vector<ir::ParamValue>> next;
    for (const auto& c : combos)
      for (const auto& v : axis.values) {
        auto e = c;
        e.push_back(v);
        next.push_back(std::move(e));
      }
    combos = std::move(next);
  }
  std::vector<Point> points;
  points.reserve(alphas.size() * res.size() * combos.size());
  for (double a : alphas)
    for (std::int64_t r : res)
      for (const auto& values : combos) {
        Point p;
        p.alpha = a;
        p.resolution = r;
        p.values = values;
        const ir::Graph g = apply(graph, spec, p);
        const auto an = cost::analyze(g, options);
        p.valid = an.complete();
        if (!p.valid) p.problem = an.diagnostics.front().str();
        p.params = an.totals.params;
        p.madds = an.totals.madds;
        p.peak_memory_bytes = an.memory.peak_bytes;
        if (model && p.valid) {
          std::optional<runtime::Schedule> s;
          const runtime::PlanOptions po = point_plan(g, an, model, split, model->threads, &s);
          if (!s)
            if (auto built = runtime::Schedule::build(g, an, po)) s = std::move(*built);
          if (s) {
            const auto pred = model->predict(*s);
            p.predicted_ms = pred.total_ns / 1e6;
            p.extrapolated = pred.extrapolated > 0;
          }
        }
        points.push_back(std::move(p));
      }
  return points;
}

bool measure(const ir::Graph& graph, const Spec& spec, std::vector<Point>& points, const MeasureOptions& o) {
  std::size_t total = 0, done = 0;
  for (const auto& p : points) total += p.valid && !p.median_ms;
  // The machine's speed around the points: a sweep measures for minutes, and the
  // speed moves meanwhile. The probe is timed before the first point and then
  // after a point once a second has passed (about 2 % of the sweep's time); the
  // points in between get the faster of the timings either side of them, as
  // SpeedProbe::time_around does for one run.
  std::optional<profile::SpeedProbe> probe;
  if (o.model && o.model->reference_ns > 0 && total > 0)
    if (auto made = profile::SpeedProbe::build(kernels::best_kernels())) probe = std::move(*made);
  using Clock = std::chrono::steady_clock;
  double before_ns = probe ? probe->time_ns() : 0;
  auto timed_at = Clock::now();
  std::vector<Point*> since;  // measured after the last timing
  const auto settle_speed = [&](bool force) {
    if (!probe || since.empty() || (!force && Clock::now() - timed_at < std::chrono::seconds(1))) return false;
    const double after_ns = probe->time_ns();
    for (Point* q : since) q->machine_speed = std::min(before_ns, after_ns) / o.model->reference_ns;
    since.clear();
    before_ns = after_ns;
    timed_at = Clock::now();
    return true;
  };
  for (auto& p : points) {
    if (!p.valid || p.median_ms) continue;
    if (o.cancel && o.cancel->load()) return false;
    const ir::Graph g = apply(graph, spec, p);
    const auto a = cost::analyze(g);
    runtime::PlanOptions po = point_plan(g, a, o.model, o.split, o.threads);
    po.memory_limit_bytes = o.memory_limit_bytes;
    auto plan = runtime::Plan::build(g, a, po);
    if (!plan) {
      p.problem = plan.error().front().str();
      continue;
    }
    for (std::size_t i = 0; i < plan->n_inputs(); ++i) {
      float* x = plan->input(i);
      const std::int64_t n = plan->batch() * plan->input_shape(i).elements();
      for (std::int64_t k = 0; k < n; ++k) x[k] = static_cast<float>(k % 13) * 0.1f - 0.6f;
    }
    profile::ProfileOptions po2;
    po2.warmup = o.warmup;
    po2.min_runs = o.min_runs;
    po2.min_seconds = o.min_seconds;
    po2.cancel = o.cancel;
    po2.max_runs = 100000;
    // The whole-network phase is what a sweep needs; skip the per-step phase.
    po2.whole_network_only = true;
    const profile::ProfileResult r = profile::profile_plan(*plan, po2);
    if (r.cancelled) return false;
    since.push_back(&p);
    settle_speed(done + 1 == total);  // the last point settles before its checkpoint
    p.median_ms = r.network_ns.median / 1e6;
    p.min_ms = r.network_ns.min / 1e6;
    p.p90_ms = r.network_ns.p90 / 1e6;
    ++done;
    if (o.progress) o.progress(done, total);
    if (o.checkpoint) o.checkpoint(points);
  }
  if (settle_speed(true) && o.checkpoint) o.checkpoint(points);
  return true;
}

ParetoAxes mark_pareto(std::vector<Point>& points, ParetoAxes axes) {
  Metric x = axes.x, y = axes.y;
  const double y_sign = axes.y_more ? -1.0 : 1.0;  // a larger y is a smaller -y
  const bool any_measured =
      std::any_of(points.begin(), points.end(), [](const Point& p) { return p.valid && p.median_ms.has_value(); });
  const bool by_latency = x == Metric::Latency || y == Metric::Latency;
  if (by_latency && !any_measured) {
    const bool predicted =
        std::any_of(points.begin(), points.end(), [](const Point& p) { return p.valid && p.predicted_ms; });
    const Metric stand_in = predicted ? Metric::Predicted : Metric::MAdds;
    if (x == Metric::Latency) x = stand_in;
    if (y == Metric::Latency) y = stand_in;
  }
  // Points that compete: valid ones, and only measured ones when latency is an axis.
  auto competes = [&](const Point& p) { return p.valid && (!by_latency || !any_measured || p.median_ms); };
  for (auto& p : points) {
    p.pareto = competes(p);
    if (!p.pareto) continue;
    for (const auto& q : points) {
      if (!competes(q) || &q == &p) continue;
      const double px = metric(p, x), py = y_sign * metric(p, y), qx = metric(q, x), qy = y_sign * metric(q, y);
      if (qx <= px && qy <= py && (qx < px || qy < py)) {
        p.pareto = false;
        break;
      }
    }
  }
  return {x, y, axes.y_more};
}

Result<Metric> parse_metric(const std::string& name) {
  if (name == "latency") return Metric::Latency;
  if (name == "predicted") return Metric::Predicted;
  if (name == "madds") return Metric::MAdds;
  if (name == "params") return Metric::Params;
  if (name == "memory") return Metric::PeakMemory;
  return fail("pareto", "unknown metric '" + name + "' (known: latency, predicted, madds, params, memory)");
}

Result<ParetoAxes> parse_pareto(const std::string& text) {
  const auto comma = text.find(',');
  if (comma == std::string::npos)
    return fail("pareto",
                "expected X,Y from latency, predicted, madds, params, memory (Y as +Y when more is "
                "better); got '" +
                    text + "'");
  if (text[0] == '+') return fail("pareto", "only Y may be maximised (X,+Y); got '" + text + "'");
  auto x = parse_metric(text.substr(0, comma));
  if (!x) return tl::unexpected(x.error());
  const bool more = comma + 1 < text.size() && text[comma + 1] == '+';
  auto y = parse_metric(text.substr(comma + 1 + (more ? 1 : 0)));
  if (!y) return tl::unexpected(y.error());
  return ParetoAxes{*x, *y, more};
}

std::size_t merge_previous(std::vector<Point>& points, const std::vector<Point>& previous) {
  std::map<std::string, const Point*> by_key;
  for (const auto& old : previous)
    if (old.median_ms) by_key.emplace(point_key(old), &old);
  std::size_t kept = 0;
  for (auto& p : points) {
    if (!p.valid || p.median_ms) continue;
    const auto it = by_key.find(point_key(p));
    if (it == by_key.end()) continue;
    p.median_ms = it->second->median_ms;
    p.min_ms = it->second->min_ms;
    p.p90_ms = it->second->p90_ms;
    p.machine_speed = it->second->machine_speed;
    ++kept;
  }
  return kept;
}

void fill_laws(std::vector<Point>& points) {
  const Point* ref = nullptr;
  for (const auto& p : points)
    if (p.valid && (!ref || p.alpha > ref->alpha || (p.alpha == ref->alpha && p.resolution > ref->resolution)))
      ref = &p;
  if (!ref || ref->madds == 0 || ref->params == 0) return;
  const Point r = *ref;
  for (auto& p : points) {
    if (!p.valid) continue;
    const double a = p.alpha / r.alpha;
    const double rho = r.resolution > 0 && p.resolution > 0
                           ? static_cast<double>(p.resolution) / static_cast<double>(r.resolution)
                           : 1.0;
    const double madds_ratio = static_cast<double>(p.madds) / static_cast<double>(r.madds);
    p.madds_law = madds_ratio / (a * a * rho * rho);
    p.params_law = (static_cast<double>(p.params) / static_cast<double>(r.params)) / (a * a);
    if (p.median_ms && r.median_ms && *r.median_ms > 0) p.latency_law = (*p.median_ms / *r.median_ms) / madds_ratio;
  }
}

std::string point_key(const Point& p) {
  std::string k = num(p.alpha) + "|" + std::to_string(p.resolution);
  for (const auto& v : p.values) k += "|" + ir::param_value_str(v);
  return k;
}

std::string to_csv(const Spec& spec, const std::vector<Point>& points) {
  std::string out = "alpha,resolution";
  for (const auto& a : spec.params) out += "," + a.selector;
  out +=
      ",valid,params,madds,flops,peak_memory_bytes,median_ms,min_ms,p90_ms,pareto,madds_law,params_law,latency_law,"
      "predicted_ms,prediction_error,extrapolated,machine_speed,problem\n";
  auto opt = [](const std::optional<double>& v) { return v ? num(*v) : std::string(); };
  for (const auto& p : points) {
    out += num(p.alpha) + "," + std::to_string(p.resolution);
    for (const auto& v : p.values) out += "," + ir::param_value_str(v);
    out += std::string(",") + (p.valid ? "true" : "false") + "," + std::to_string(p.params) + "," +
           std::to_string(p.madds) + "," + std::to_string(2 * p.madds) + "," + std::to_string(p.peak_memory_bytes) +
           "," + opt(p.median_ms) + "," + opt(p.min_ms) + "," + opt(p.p90_ms) + "," + (p.pareto ? "true" : "false") +
           "," + (p.valid ? num(p.madds_law) : "") + "," + (p.valid ? num(p.params_law) : "") + "," +
           (p.latency_law > 0 ? num(p.latency_law) : "") + "," + opt(p.predicted_ms) + "," + opt(p.prediction_error()) +
           "," + (p.predicted_ms ? (p.extrapolated ? "true" : "false") : "") + "," + opt(p.machine_speed) + ",";
    std::string problem = p.problem;
    std::replace(problem.begin(), problem.end(), '"', '\'');
    out += problem.empty() ? "" : "\"" + problem + "\"";
    out += "\n";
  }
  return out;
}

std::string to_json(const Spec& spec, const std::vector<Point>& points, const std::string& model) {
  nlohmann::ordered_json j;
  if (!model.empty()) j["model"] = model;
  j["axes"] = nlohmann::ordered_json::array({"alpha", "resolution"});
  for (const auto& a : spec.params) j["axes"].push_back(a.selector);
  j["points"] = nlohmann::ordered_json::array();
  for (const auto& p : points) {
    nlohmann::ordered_json e;
    e["alpha"] = p.alpha;
    e["resolution"] = p.resolution;
    for (std::size_t i = 0; i < p.values.size(); ++i) e[spec.params[i].selector] = ir::param_value_str(p.values[i]);
    e["valid"] = p.valid;
    if (!p.valid) e["problem"] = p.problem;
    e["params"] = p.params;
    e["madds"] = p.madds;
    e["flops"] = 2 * p.madds;
    e["peak_memory_bytes"] = p.peak_memory_bytes;
    if (p.median_ms) {
      e["median_ms"] = *p.median_ms;
      e["min_ms"] = *p.min_ms;
      e["p90_ms"] = *p.p90_ms;
    }
    e["pareto"] = p.pareto;
    if (p.valid) {
      e["madds_law"] = p.madds_law;
      e["params_law"] = p.params_law;
    }
    if (p.latency_law > 0) e["latency_law"] = p.latency_law;
    if (p.predicted_ms) {
      e["predicted_ms"] = *p.predicted_ms;
      e["extrapolated"] = p.extrapolated;
    }
    if (auto err = p.prediction_error()) e["prediction_error"] = *err;
    if (p.machine_speed) e["machine_speed"] = *p.machine_speed;
    j["points"].push_back(e);
  }
  return j.dump(2) + "\n";
}

std::vector<Point> read_previous(const std::string& text, const Spec& spec) {
  std::vector<Point> out;
  // JSON first, then CSV.
  try {
    const auto j = nlohmann::json::parse(text);
    for (const auto& e : j.at("points")) {
      if (!e.contains("median_ms")) continue;
      Point p;
      p.alpha = e.at("alpha").get<double>();
      p.resolution = e.at("resolution").get<std::int64_t>();
      for (const auto& a : spec.params) p.values.push_back(to_value(e.at(a.selector).get<std::string>()));
      p.median_ms = e.at("median_ms").get<double>();
      p.min_ms = e.at("min_ms").get<double>();
      p.p90_ms = e.at("p90_ms").get<double>();
      if (e.contains("machine_speed")) p.machine_speed = e.at("machine_speed").get<double>();
      out.push_back(std::move(p));
    }
    return out;
  } catch (const std::exception&) {
  }
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return out;
  const auto header = split_list(line, ',');
  auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    return -1;
  };
  const int c_alpha = col("alpha"), c_res = col("resolution"), c_med = col("median_ms"), c_min = col("min_ms"),
            c_p90 = col("p90_ms"), c_speed = col("machine_speed");
  if (c_alpha < 0 || c_res < 0 || c_med < 0) return out;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) cells.push_back(cell);
    if (static_cast<int>(cells.size()) <= c_p90 || cells[static_cast<std::size_t>(c_med)].empty()) continue;
    Point p;
    auto a = to_double(cells[static_cast<std::size_t>(c_alpha)]);
    auto r = to_int(cells[static_cast<std::size_t>(c_res)]);
    auto m = to_double(cells[static_cast<std::size_t>(c_med)]);
    if (!a || !r || !m) continue;
    p.alpha = *a;
    p.resolution = *r;
    for (std::size_t i = 0; i < spec.params.size(); ++i) p.values.push_back(to_value(cells[2 + i]));
    p.median_ms = *m;
    p.min_ms = to_double(cells[static_cast<std::size_t>(c_min)]);
    p.p90_ms = to_double(cells[static_cast<std::size_t>(c_p90)]);
    if (c_speed >= 0 && static_cast<int>(cells.size()) > c_speed)
      p.machine_speed = to_double(cells[static_cast<std::size_t>(c_speed)]);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace convscope::sweep
