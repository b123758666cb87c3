#include "io/profile_report.h"

#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "io/report.h"
#include "profile/layers.h"
#include "profile/speed_probe.h"

namespace convscope::io {
namespace {

std::string fmt(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

}  // namespace

std::string profile_table(const ir::Graph& g, const cost::Analysis& a, const runtime::Plan& plan,
                          const profile::ProfileResult& r, const profile::Calibration& cal,
                          const profile::ProfileSummary& sum) {
  std::string out;
  const auto& rs = sum.layers;
  const double peak = cal.peak_gflops(plan.threads());
  char line[512];
  std::snprintf(line, sizeof line, "%-12s %-30s %9s %6s %9s %9s %7s %9s %7s %6s %-7s\n", "block", "step (fused ops)",
                "MAdds", "FLOP/B", "pred. us", "median us", "meas/pr", "bound us", "GFLOP/s", "%peak", "bound");
  out += line;
  out += std::string(124, '-') + "\n";
  for (const auto& row : rs) {
    if (row.in_place) {  // skipped by runs: nothing to time
      std::snprintf(line, sizeof line, "%-12s %-30s %9s   in place: no work (%s)\n", row.block.substr(0, 12).c_str(),
                    row.step.substr(0, 30).c_str(), human(row.madds).c_str(),
                    row.kind == "slice" ? "read where it lies" : "every input written into it");
      out += line;
      continue;
    }
    const double ai = row.intensity();
    const double gf = row.achieved_gflops();
    std::snprintf(line, sizeof line, "%-12s %-30s %9s %6.1f %8.1f%s %9.1f %7.2f %9.1f %7.2f %6.1f %-7s\n",
                  row.block.substr(0, 12).c_str(), row.step.substr(0, 30).c_str(), human(row.madds).c_str(), ai,
                  row.predicted_ns / 1e3, row.extrapolated ? "*" : " ", row.median_ns / 1e3,
                  row.predicted_ns > 0 ? row.median_ns / row.predicted_ns : 0, row.bound_ns / 1e3, gf,
                  peak > 0 ? 100.0 * gf / peak : 0, row.bound.c_str());
    out += line;
  }
  out += "\n";
  out += g.name + ": median " + fmt(r.network_ns.median / 1e6, 3) + " ms, min " + fmt(r.network_ns.min / 1e6, 3) +
         " ms, p90 " + fmt(r.network_ns.p90 / 1e6, 3) + " ms, CV " + fmt(100 * r.network_ns.cv, 1) + " % over " +
         std::to_string(r.network_ns.n) + " runs (batch " + std::to_string(plan.batch()) + ")\n";
  out += "sum of per-step medians " + fmt(r.sum_of_step_medians_ns / 1e6, 3) + " ms (" +
         fmt(r.network_ns.median > 0 ? 100.0 * (r.sum_of_step_medians_ns / r.network_ns.median - 1.0) : 0, 1) +
         " % vs the un-instrumented run)\n";
  if (!sum.model.empty()) {
    int extrapolated = 0;
    for (const auto& row : rs) extrapolated += row.extrapolated ? 1 : 0;
    out += "predicted " + fmt(sum.predicted_ns / 1e6, 3) + " ms, measured / predicted " +
           fmt(sum.predicted_ns > 0 ? r.network_ns.median / sum.predicted_ns : 0, 3) + " (" + sum.model + ")" +
           (extrapolated > 0 ? "; * = " + std::to_string(extrapolated) + " steps outside the calibrated shapes" : "") +
           "\n";
    if (sum.speed > 0) {
      const std::string drift = profile::describe_drift(sum.speed);
      out += "speed probe " + fmt(sum.speed, 2) + " x its time at calibration" +
             (drift.empty()
                  ? ": the machine runs as calibrated\n"
                  : ": " + drift + "; at this speed the model predicts " + fmt(sum.predicted_ns * sum.speed / 1e6, 3) +
                        " ms (calibrate --latency when the machine is back to normal)\n");
    }
  } else {
    out += "predicted: no latency model (convscope-cli calibrate --latency makes one)\n";
  }
  if (!sum.fusion.empty()) out += "bottleneck fusion: " + sum.fusion + "\n";
  out += "roofline bound " + fmt(sum.bound_ns / 1e6, 3) +
         " ms (max(FLOPs / peak, bytes / bandwidth) per step: a floor, not a prediction)\n";
  out += "MAdds " + with_commas(a.totals.madds) + "; achieved " +
         fmt(r.network_ns.median > 0 ? 2.0 * static_cast<double>(a.totals.madds) / r.network_ns.median : 0, 2) +
         " GFLOP/s (2 x MAdds / median)\n";
  out += "machine: " + r.cpu + ", " + r.isa + ", " + std::to_string(r.threads) + " thread(s); ceilings " +
         fmt(peak, 1) + " GFLOP/s, L2 " + fmt(cal.cache_gbps, 1) + " GB/s, L3 " + fmt(cal.l3_gbps, 1) + " GB/s, DRAM " +
         fmt(cal.dram_gbps, 1) + " GB/s (calibrated " + cal.measured_at + ")\n";
  out += "activation memory " + human(plan.arena_bytes() + plan.scratch_bytes(), true) + " (arena " +
         human(plan.arena_bytes(), true) + " + step temporaries " + human(plan.scratch_bytes(), true) +
         "; cost model: every op materialised " + human(a.memory.ops_peak_bytes, true) + ", blocks as ops " +
         human(a.memory.blocks_peak_bytes, true) + "); fused steps show one time for all their ops\n";
  if (r.cancelled) out += "CANCELLED: the figures cover the runs made before the cancel\n";
  return out;
}

std::string profile_json(const ir::Graph& g, const cost::Analysis& a, const runtime::Plan& plan,
                         const profile::ProfileResult& r, const profile::Calibration& cal,
                         const profile::ProfileSummary& sum) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["graph"] = g.name;
  ordered_json net;
  net["median_ms"] = r.network_ns.median / 1e6;
  net["min_ms"] = r.network_ns.min / 1e6;
  net["p90_ms"] = r.network_ns.p90 / 1e6;
  net["mean_ms"] = r.network_ns.mean / 1e6;
  net["cv"] = r.network_ns.cv;
  net["runs"] = r.network_ns.n;
  net["sum_of_step_medians_ms"] = r.sum_of_step_medians_ns / 1e6;
  net["batch"] = plan.batch();
  net["madds"] = a.totals.madds;
  net["arena_bytes"] = plan.arena_bytes();
  net["scratch_bytes"] = plan.scratch_bytes();
  net["cost_model_peak_bytes"] = a.memory.ops_peak_bytes;
  net["cancelled"] = r.cancelled;
  net["predicted_ms"] = sum.predicted_ns / 1e6;
  net["measured_over_predicted"] = sum.predicted_ns > 0 ? r.network_ns.median / sum.predicted_ns : 0.0;
  net["model"] = sum.model;
  net["machine_speed"] = sum.speed;
  net["fusion"] = sum.fusion;
  net["roofline_bound_ms"] = sum.bound_ns / 1e6;
  j["network"] = net;
  j["machine"] = {{"cpu", r.cpu},
                  {"isa", r.isa},
                  {"threads", r.threads},
                  {"peak_gflops", cal.peak_gflops(plan.threads())},
                  {"peak_gflops_1", cal.peak_gflops_1},
                  {"peak_gflops_all", cal.peak_gflops_all},
                  {"cache_gbps", cal.cache_gbps},
                  {"l3_gbps", cal.l3_gbps},
                  {"dram_gbps", cal.dram_gbps},
                  {"calibrated_at", cal.measured_at}};
  const auto& rs = sum.layers;
  const double peak = cal.peak_gflops(plan.threads());
  j["layers"] = ordered_json::array();
  std::map<std::string, double> block_ns;
  std::vector<std::string> block_order;
  for (std::size_t s = 0; s < rs.size(); ++s) {
    const auto& row = rs[s];
    const double gf = row.achieved_gflops();
    ordered_json l;
    l["block"] = row.block;
    l["step"] = row.step;
    l["kind"] = row.kind;
    l["fused"] = row.fused();
    l["in_place"] = row.in_place;  // no work: not run, not timed
    ordered_json ops = ordered_json::array();
    for (int k : row.ops) ops.push_back(a.ops[static_cast<std::size_t>(k)].op.name);
    l["ops"] = ops;
    l["output_shape"] = {row.out.h, row.out.w, row.out.c};
    l["madds"] = row.madds;
    l["flops"] = row.flops;
    l["bytes"] = row.bytes;
    l["intensity_flops_per_byte"] = row.intensity();
    l["predicted_ms"] = row.predicted_ns / 1e6;
    l["extrapolated"] = row.extrapolated;
    l["roofline_bound_ms"] = row.bound_ns / 1e6;
    l["bound"] = row.bound;
    l["median_ms"] = row.median_ns / 1e6;
    l["min_ms"] = row.min_ns / 1e6;
    l["p90_ms"] = row.p90_ns / 1e6;
    l["cv"] = row.cv;
    l["measured_over_predicted"] = row.predicted_ns > 0 ? row.median_ns / row.predicted_ns : 0.0;
    l["achieved_gflops"] = gf;
    l["percent_of_peak"] = peak > 0 ? 100.0 * gf / peak : 0.0;
    j["layers"].push_back(l);
    if (!block_ns.count(row.block)) block_order.push_back(row.block);
    block_ns[row.block] += row.median_ns;
  }
  j["blocks"] = ordered_json::array();
  for (const auto& b : block_order)
    j["blocks"].push_back({{"block", b}, {"sum_of_step_medians_ms", block_ns[b] / 1e6}});
  return j.dump(2) + "\n";
}

}  // namespace convscope::io
