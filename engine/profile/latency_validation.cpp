#include "profile/latency_validation.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "cost/analysis.h"
#include "io/graph_json.h"
#include "io/presets.h"
#include "profile/latency_calibration.h"
#include "profile/profiler.h"
#include "runtime/plan.h"

namespace convscope::profile {

std::vector<ValidationCase> default_validation_cases() {
  std::vector<ValidationCase> out;
  for (const auto& file : io::preset_files()) {
    auto g = io::load_graph(file);
    if (!g) continue;
    const std::string name = file.stem().string();
    out.push_back({name, *g, {}});
    ir::Graph narrow = *g;
    narrow.settings.alpha = 0.5;
    out.push_back({name + " alpha 0.5", std::move(narrow), {}});
    ir::Graph small = *g;
    small.settings.resolution = 160;
    out.push_back({name + " resolution 160", std::move(small), {}});
    if (name == "mobilenet_v2" || name == "mobilenet_v3_large") {
      out.push_back({name + " op by op", *g, {FusionSetting::Mode::Off, 0}});
      out.push_back({name + " fused split 6", *g, {FusionSetting::Mode::Slices, 6}});
    }
  }
  return out;
}

Result<ValidatedNetwork> validate_case(const LatencyModel& m, const kernels::KernelTable& kt, const ValidationCase& c,
                                       double min_seconds, SpeedProbe* probe,
                                       const std::vector<LatencyModel>* placements) {
  const cost::Analysis a = cost::analyze(c.graph);
  if (!a.complete()) return fail(c.name, "the graph has problems");
  runtime::PlanOptions po;
  po.threads = m.threads;
  po.kernels = &kt;
  po = apply_fusion(c.graph, a, &m, c.fusion, po);
  auto plan = runtime::Plan::build(c.graph, a, po);
  if (!plan) return tl::unexpected(plan.error());
  fill_timing_inputs(*plan);
  ProfileOptions po2;
  po2.min_seconds = min_seconds;
  ProfileResult r;
  auto run = [&] {
    r = profile_plan(*plan, po2);
    return true;
  };
  const RunConditions around = conditions_around(probe, &m, run);
  // Predicted from the schedule alone, with the cross-core lines priced at the
  // cores' round trip around the run (one core complex or two: speed_probe.h).
  LatencyModel placed = placements ? nearest_placement(*placements, around.round_trip_ns, m) : m;
  placed.cross_core_scale = around.cross_core_scale(placed);
  const NetworkPrediction p = placed.predict(plan->schedule());
  ValidatedNetwork v;
  v.name = c.name;
  v.predicted_ns = p.total_ns;
  v.measured_ns = r.network_ns.median;
  v.steps = static_cast<int>(p.steps.size());
  v.extrapolated = p.extrapolated;
  v.speed = around.speed(placed);
  v.cross_core_scale = placed.cross_core_scale;
  v.round_trip_ns = around.round_trip_ns;
  v.model_round_trip_ns = placed.round_trip_ns;
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    v.layer_predicted_ns.push_back(p.steps[i].ns);
    v.layer_measured_ns.push_back(r.step_ns[i].median);
    v.layer_kind.push_back(plan->schedule().steps[i].info.kind);
    v.layer_name.push_back(plan->schedule().steps[i].info.name);
    v.layer_extrapolated.push_back(p.steps[i].extrapolated);
  }
  return v;
}

ValidationSummary summarize(const std::vector<ValidatedNetwork>& rows, bool corrected) {
  ValidationSummary s;
  std::vector<double> errs;
  int in5 = 0, in10 = 0, lin25 = 0;
  for (const auto& r : rows) {
    const double e = corrected ? r.corrected_error() : r.error();
    const double scale = corrected && r.speed > 0 ? r.speed : 1.0;
    errs.push_back(std::abs(e));
    in5 += std::abs(e) <= 0.05 ? 1 : 0;
    in10 += std::abs(e) <= 0.10 ? 1 : 0;
    if (std::abs(e) > std::abs(s.worst_error)) s.worst_error = e;
    for (std::size_t i = 0; i < r.layer_measured_ns.size(); ++i) {
      if (r.layer_measured_ns[i] <= 0) continue;
      ++s.layers;
      lin25 += std::abs(r.layer_predicted_ns[i] * scale / r.layer_measured_ns[i] - 1.0) <= 0.25 ? 1 : 0;
    }
  }
  s.networks = static_cast<int>(rows.size());
  if (s.networks > 0) {
    s.within_5 = static_cast<double>(in5) / s.networks;
    s.within_10 = static_cast<double>(in10) / s.networks;
    std::nth_element(errs.begin(), errs.begin() + static_cast<std::ptrdiff_t>(errs.size() / 2), errs.end());
    s.median_abs_error = errs[errs.size() / 2];
  }
  if (s.layers > 0) s.layers_within_25 = static_cast<double>(lin25) / s.layers;
  return s;
}

namespace {
double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  return 0.5 * (*mid + *std::max_element(v.begin(), mid));
}

/// The row of case `name` in a pass with the same steps as `like`, or null.
const ValidatedNetwork* find_case(const std::vector<ValidatedNetwork>& pass, const ValidatedNetwork& like) {
  for (const auto& r : pass)
    if (r.name == like.name && r.layer_measured_ns.size() == like.layer_measured_ns.size()) return &r;
  return nullptr;
}
}  // namespace

std::vector<ValidatedNetwork> combine_passes(const std::vector<std::vector<ValidatedNetwork>>& passes) {
  std::vector<ValidatedNetwork> out;
  if (passes.empty()) return out;
  for (const auto& first : passes.front()) {
    std::vector<const ValidatedNetwork*> same;
    for (const auto& pass : passes)
      if (const auto* r = find_case(pass, first)) same.push_back(r);
    if (same.size() != passes.size()) continue;  // failed in some pass
    ValidatedNetwork v = first;
    auto over_passes = [&](auto field) {
      std::vector<double> xs;
      for (const auto* r : same) xs.push_back(field(*r));
      return median_of(std::move(xs));
    };
    v.measured_ns = over_passes([](const ValidatedNetwork& r) { return r.measured_ns; });
    v.pass_measured_ns.clear();
    for (const auto* r : same) v.pass_measured_ns.push_back(r->measured_ns);
    v.speed = over_passes([](const ValidatedNetwork& r) { return r.speed; });
    // Each pass predicted at its own placement of the cores: the median of those too.
    v.predicted_ns = over_passes([](const ValidatedNetwork& r) { return r.predicted_ns; });
    v.cross_core_scale = over_passes([](const ValidatedNetwork& r) { return r.cross_core_scale; });
    v.round_trip_ns = over_passes([](const ValidatedNetwork& r) { return r.round_trip_ns; });
    v.model_round_trip_ns = over_passes([](const ValidatedNetwork& r) { return r.model_round_trip_ns; });
    for (std::size_t i = 0; i < v.layer_predicted_ns.size(); ++i)
      v.layer_predicted_ns[i] = over_passes([i](const ValidatedNetwork& r) { return r.layer_predicted_ns[i]; });
    for (std::size_t i = 0; i < v.layer_measured_ns.size(); ++i)
      v.layer_measured_ns[i] = over_passes([i](const ValidatedNetwork& r) { return r.layer_measured_ns[i]; });
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<ValidatedNetwork> pass_to_pass(const std::vector<std::vector<ValidatedNetwork>>& passes) {
  std::vector<ValidatedNetwork> out;
  for (std::size_t p = 1; p < passes.size(); ++p)
    for (const auto& before : passes[p - 1]) {
      const auto* after = find_case(passes[p], before);
      if (!after) continue;
      ValidatedNetwork v = *after;
      v.predicted_ns = before.measured_ns;
      v.layer_predicted_ns = before.layer_measured_ns;
      for (std::size_t i = 0; i < v.layer_measured_ns.size(); ++i)
        if (before.layer_measured_ns[i] <= 0) v.layer_measured_ns[i] = 0;  // untimed in either: not a layer
      v.speed = 0;  // nothing to correct: both sides are measurements
      out.push_back(std::move(v));
    }
  return out;
}

std::vector<KindAccuracy> accuracy_by_kind(const std::vector<ValidatedNetwork>& rows) {
  struct Acc {
    std::vector<double> ratios;
    int layers = 0, within = 0;
    double measured = 0;
  };
  std::map<runtime::StepKind, Acc> by;
  double total = 0;
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.layer_measured_ns.size() && i < r.layer_kind.size(); ++i) {
      // The same layers as summarize() counts: every timed one (predicted 0: not within, no ratio).
      const double meas = r.layer_measured_ns[i], pred = r.layer_predicted_ns[i];
      if (meas <= 0) continue;
      Acc& a = by[r.layer_kind[i]];
      ++a.layers;
      if (pred > 0) a.ratios.push_back(meas / pred);
      a.within += std::abs(pred / meas - 1.0) <= 0.25 ? 1 : 0;
      a.measured += meas;
      total += meas;
    }
  std::vector<KindAccuracy> out;
  for (auto& [kind, a] : by) {
    KindAccuracy k;
    k.kind = kind;
    k.layers = a.layers;
    k.within_25 = static_cast<double>(a.within) / k.layers;
    if (!a.ratios.empty()) {
      const auto mid = a.ratios.begin() + static_cast<std::ptrdiff_t>(a.ratios.size() / 2);
      std::nth_element(a.ratios.begin(), mid, a.ratios.end());
      k.median_ratio = *mid;
    }
    k.time_share = a.measured / total;
    out.push_back(k);
  }
  std::sort(out.begin(), out.end(),
            [](const KindAccuracy& a, const KindAccuracy& b) { return a.time_share > b.time_share; });
  return out;
}

}  // namespace convscope::profile
