#include "profile/layers.h"

#include <cstdio>

namespace convscope::profile {

ProfileSummary summarize_profile(const ir::Graph& g, const runtime::Plan& plan, const ProfileResult& r,
                                 const Calibration& cal, const LatencyModel* model) {
  ProfileSummary out;
  NetworkPrediction pred;
  if (model) {
    pred = model->predict(plan.schedule());
    out.predicted_ns = pred.total_ns;
    out.model = model->describe();
  }
  out.blocks.resize(g.nodes.size());
  out.peak_gflops = cal.peak_gflops(plan.threads());
  for (std::size_t s = 0; s < plan.n_steps(); ++s) {
    const auto& st = plan.step(s);
    LayerTiming row;
    row.node = st.node;
    row.ops = st.ops;
    row.block = g.nodes[static_cast<std::size_t>(st.node)].id;
    row.step = st.name;
    row.kind = std::string(runtime::step_kind_name(st.kind));
    row.out = st.out;
    row.madds = st.madds;
    row.flops = st.run_flops();
    row.bytes = st.bytes;
    const auto flops = static_cast<double>(row.flops), bytes = static_cast<double>(st.bytes);
    row.in_place = st.no_work;
    row.bound_ns = st.no_work ? 0.0 : cal.roofline_ns(flops, bytes, plan.threads());
    if (s < pred.steps.size()) {
      row.predicted_ns = pred.steps[s].ns;
      row.extrapolated = pred.steps[s].extrapolated;
    }
    row.bound = st.no_work ? "none" : cal.bound(flops, bytes, plan.threads());
    if (s < r.step_ns.size()) {
      row.median_ns = r.step_ns[s].median;
      row.min_ns = r.step_ns[s].min;
      row.p90_ns = r.step_ns[s].p90;
      row.cv = r.step_ns[s].cv;
    }
    out.bound_ns += row.bound_ns;
    BlockTiming& b = out.blocks[static_cast<std::size_t>(st.node)];
    ++b.steps;
    b.bound_ns += row.bound_ns;
    b.predicted_ns += row.predicted_ns;
    b.median_ns += row.median_ns;
    b.min_ns += row.min_ns;
    b.p90_ns += row.p90_ns;
    out.layers.push_back(std::move(row));
  }
  return out;
}

PeakCheck check_peak(const ProfileSummary& s) {
  PeakCheck c;
  c.peak = s.peak_gflops;
  for (std::size_t i = 0; i < s.layers.size(); ++i)
    if (const double g = s.layers[i].achieved_gflops(); g > c.gflops) {
      c.gflops = g;
      c.layer = static_cast<int>(i);
    }
  return c;
}

std::optional<Recalibration> recalibrate_if_beaten(const ProfileSummary& s, const kernels::KernelTable& kt) {
  const PeakCheck before = check_peak(s);
  if (!before.beaten()) return std::nullopt;
  auto again = load_or_measure(kt, /*force=*/true);
  if (!again) return std::nullopt;
  char buf[320];
  const auto& step = s.layers[static_cast<std::size_t>(before.layer)];
  std::snprintf(buf, sizeof buf,
                "step %s/%s ran at %.1f GFLOP/s, above the calibrated peak of %.1f: the ceilings were measured "
                "again (one core %.1f, all cores %.1f GFLOP/s)",
                step.block.c_str(), step.step.c_str(), before.gflops, before.peak, again->peak_gflops_1,
                again->peak_gflops_all);
  return Recalibration{*again, buf};
}

ProfileSummary summarize_checked(const ir::Graph& g, const runtime::Plan& plan, const ProfileResult& r,
                                 Calibration& cal, const LatencyModel* model, const kernels::KernelTable& kt,
                                 std::string* note) {
  ProfileSummary s = summarize_profile(g, plan, r, cal, model);
  if (r.cancelled) return s;
  auto again = recalibrate_if_beaten(s, kt);
  if (!again) return s;
  cal = again->calibration;
  if (note) *note = again->note;
  return summarize_profile(g, plan, r, cal, model);
}

std::vector<double> predict_ops_ns(const cost::Analysis& a, const Calibration& cal, int threads,
                                   const runtime::Schedule* schedule) {
  std::vector<double> share(a.ops.size(), 1.0);  // of each op's counted FLOPs the kernels run
  if (schedule)
    for (const auto& st : schedule->steps)
      if (st.info.kernel_flops > 0 && st.info.flops > 0)
        for (int k : st.info.ops)
          share[static_cast<std::size_t>(k)] =
              static_cast<double>(st.info.kernel_flops) / static_cast<double>(st.info.flops);
  std::vector<double> ns(a.ops.size(), 0.0);
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    const auto& op = a.ops[i];
    if (a.nodes[static_cast<std::size_t>(op.node)].status != cost::NodeStatus::Ok) continue;
    const auto flops = share[i] * static_cast<double>(op.totals.flops + op.totals.other_ops);
    ns[i] = cal.roofline_ns(flops, static_cast<double>(op.totals.bytes_moved), threads);
  }
  return ns;
}

}  // namespace convscope::profile
