// convscope-cli calibrate: this machine's peak FLOP/s and bandwidths (cached), the ceilings of the roofline;
// with --latency the latency model of the kernels, with --validate its accuracy report, with --fusion
// every fusible block measured fused and op by op beside the model's choice.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "command.h"
#include "common.h"
#include "cost/analysis.h"
#include "io/graph_json.h"
#include "kernels/cpu.h"
#include "kernels/kernels.h"
#include "profile/calibration.h"
#include "profile/fusion_choice.h"
#include "profile/latency_calibration.h"
#include "profile/latency_validation.h"
#include "profile/speed_probe.h"

namespace convscope::cli {

namespace {
struct Options {
  std::string isa = "all";
  bool json = false, portable = false;
  bool latency = false, validate = false, fusion = false, skip_presets = false, no_save = false;
  int rounds = 20;  // --fusion: alternating rounds
  std::vector<int> threads;
  int passes = 2;  // --validate: passes over the networks
  std::vector<std::string> files;
  std::string samples;  // --samples CSV
  double round_trip_above = 0, round_trip_below = 0;  // --latency: the placement of the cores to wait for
};

/// Every timed step of a calibration: kind, features, measured and predicted ns.
void write_samples(const std::string& path, const profile::LatencyModel& m,
                   const std::vector<profile::Sample>& samples) {
  std::string csv = "kind,measured_ns,predicted_ns";
  for (int j = 0; j < profile::kMaxFeatures; ++j) csv += ",x" + std::to_string(j);
  csv += "\n";
  for (const auto& s : samples) {
    csv += std::string(runtime::step_kind_name(s.f.kind)) + "," + std::to_string(s.ns) + "," +
           std::to_string(m.predict(s.f).ns);
    for (int j = 0; j < profile::kMaxFeatures; ++j) csv += "," + std::to_string(s.f.x[static_cast<std::size_t>(j)]);
    csv += "\n";
  }
  if (auto ok = io::write_file_atomic(path, csv); !ok) std::cerr << format_diagnostics(ok.error(), "convscope-cli");
}

std::vector<int> thread_counts(const Options& o) {
  if (!o.threads.empty()) return o.threads;
  const int all = kernels::cpu_info().logical_cpus;
  return all > 1 ? std::vector<int>{1, all} : std::vector<int>{1};
}

void progress_bar(const char* what, double f) {
  if (::isatty(2) == 0) return;
  const int w = 40, done = static_cast<int>(f * w);
  std::fprintf(stderr, "\r%s [%s%s] %3d%%", what, std::string(static_cast<std::size_t>(done), '#').c_str(),
               std::string(static_cast<std::size_t>(w - done), ' ').c_str(), static_cast<int>(f * 100));
  if (f >= 1.0) std::fprintf(stderr, "\r%70s\r", "");
}

std::string pct(double share) {
  char b[16];
  std::snprintf(b, sizeof b, "%.0f %%", share * 100);
  return b;
}

/// --latency: calibrate the model for each thread count and print the fits.
int run_latency(const Options& o, const kernels::KernelTable& kt) {
  if (o.round_trip_above > 0 && o.round_trip_below > 0 && o.round_trip_above >= o.round_trip_below) {
    std::fprintf(stderr, "convscope-cli: --round-trip-above %.0f must be below --round-trip-below %.0f\n",
                 o.round_trip_above, o.round_trip_below);
    return kExitUsage;
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (int t : thread_counts(o)) {
    std::vector<profile::Sample> samples;
    if (t == 1 && (o.round_trip_above > 0 || o.round_trip_below > 0))
      std::fprintf(stderr, "convscope-cli: --round-trip-above/--round-trip-below ignored for 1 thread\n");
    auto m =
        latency_model(kt, t, true, o.samples.empty() ? nullptr : &samples, {o.round_trip_above, o.round_trip_below});
    if (!m) return kExitUsage;
    if (!o.samples.empty())
      write_samples(o.samples + (thread_counts(o).size() > 1 ? "." + std::to_string(t) : ""), *m, samples);
    if (o.json) {
      out.push_back(nlohmann::ordered_json::parse(profile::to_json(*m).dump()));
      continue;
    }
    std::printf("%s\n%d probe graphs timed in %.1f s\n", m->describe().c_str(), m->probes, m->calibration_seconds);
    std::printf("speed probe %.3f ms (median); the machine's speed moved by %.0f %% during the calibration%s\n",
                m->reference_ns / 1e6, m->calibration_drift * 100,
                m->calibration_drift > 0.15 ? " (a loaded machine: calibrate again when it is quieter)" : "");
    if (t > 1)
      std::printf(
          "core-to-core round trip of a cache line: %.0f ns before the calibration, %.0f ns after, %.0f the median "
          "around the probes (the cross-core costs are priced per this; a prediction scales them by the round "
          "trip then)\n",
          m->core_round_trip_ns[0], m->core_round_trip_ns[1], m->round_trip_ns);
    if (t > 1 && m->other_placement_share > 0.05)
      std::printf(
          "the cores moved during the calibration: %.0f %% of the probes ran %.1fx the median round trip or more "
          "apart (their cross-core costs scaled by their own round trip); calibrate again while the placement "
          "holds for a model of one placement\n",
          m->other_placement_share * 100, profile::kOtherPlacement);
    if (t > 1) {
      // The cache's models of this thread count: one per placement of the cores.
      const auto kept = profile::cached_latency_models(kt, t).placements;
      if (kept.size() > 1)
        std::printf(
            "kept beside it: the model of the other placement of the cores (round trip %.0f ns, calibrated %s); "
            "predictions use the one nearer the round trip they find\n",
            kept[1].round_trip_ns, kept[1].measured_at.c_str());
      else
        std::printf(
            "one placement of the cores calibrated: a calibration while the round trip is %.1fx this or more (or "
            "as much less) is kept beside it\n",
            profile::kOtherPlacement);
    }
    std::printf("a whole run: %.3f x the sum of its steps + %.2f us per step\n", m->network_factor,
                m->network_step_ns / 1e3);
    if (m->footprint_slope > 0)
      std::printf(
          "each step x%.3f at %.1f MiB of weights and arena, x1 at %.1f MiB, x%.3f at %.1f MiB (the probe "
          "networks' range; %+.1f %% per doubling)\n\n",
          m->footprint_scale(std::exp2(m->footprint_log2_lo) * 1048576.0), std::exp2(m->footprint_log2_lo),
          std::exp2(m->footprint_log2_mid), m->footprint_scale(std::exp2(m->footprint_log2_hi) * 1048576.0),
          std::exp2(m->footprint_log2_hi), 100 * m->footprint_slope);
    else
      std::printf("steps not scaled by the network's footprint\n\n");
    std::printf("%-18s %8s %14s\n", "step kind", "samples", "median error");
    for (int k = 0; k < runtime::kStepKinds; ++k) {
      const auto& f = m->fits[static_cast<std::size_t>(k)];
      if (f.coef.empty()) continue;
      std::printf("%-18s %8d %13.1f%%\n",
                  std::string(runtime::step_kind_name(static_cast<runtime::StepKind>(k))).c_str(), f.samples,
                  f.median_abs_error * 100);
    }
    std::printf("\n");
  }
  if (o.json)
    std::cout << out.dump(2) << "\n";
  else
    std::printf("saved to %s\n", profile::latency_cache_path().string().c_str());
  return 0;
}

/// --validate: predicted against measured for the presets, their variants and FILEs.
int run_validate(const Options& o, const kernels::KernelTable& kt) {
  std::vector<profile::ValidationCase> cases;
  if (!o.skip_presets) cases = profile::default_validation_cases();
  for (const auto& f : o.files) {
    Source s = open_graph(f);
    if (!s.graph) return print_load_error(s);
    cases.push_back({s.shown, std::move(*s.graph), {}});
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  int failed = 0;
  for (int t : thread_counts(o)) {
    auto m = latency_model(kt, t);
    if (!m) return kExitUsage;
    auto probe = profile::SpeedProbe::build(kt);
    if (!probe) {
      std::cerr << format_diagnostics(probe.error(), "convscope-cli: speed probe");
      return kExitInvalid;
    }
    // Each case predicted with the model of the cores' placement it ran in, where the cache has two.
    const std::vector<profile::LatencyModel> placements = profile::cached_latency_models(kt, t).placements;
    // Which cross-core regime the report ran in, against the calibration's
    // (speed_probe.h: the same VM moved between 137 and 400-650 ns).
    const double trip_before = t > 1 ? profile::core_round_trip_ns() : 0;
    // Whole passes over every case, so that a case's passes are minutes apart.
    std::vector<std::vector<profile::ValidatedNetwork>> passes(static_cast<std::size_t>(o.passes));
    const double total = static_cast<double>(cases.size()) * o.passes;
    std::vector<bool> refused(cases.size(), false);  // reported once, not measured again
    for (std::size_t p = 0; p < passes.size(); ++p)
      for (std::size_t i = 0; i < cases.size(); ++i) {
        if (refused[i]) continue;
        progress_bar("measuring", static_cast<double>(p * cases.size() + i) / total);
        auto v = profile::validate_case(*m, kt, cases[i], 0.2, &*probe, placements.size() > 1 ? &placements : nullptr);
        if (!v) {
          std::cerr << format_diagnostics(v.error(), "convscope-cli: " + cases[i].name);
          refused[i] = true;
          ++failed;
          continue;
        }
        passes[p].push_back(std::move(*v));
      }
    progress_bar("measuring", 1.0);
    const double trip_after = t > 1 ? profile::core_round_trip_ns() : 0;
    const auto rows = profile::combine_passes(passes);
    const auto repeat_rows = profile::pass_to_pass(passes);
    const auto s = profile::summarize(rows);
    const auto sc = profile::summarize(rows, true);
    const auto sr = profile::summarize(repeat_rows);
    const auto kinds = profile::accuracy_by_kind(rows);
    const auto repeat_kinds = profile::accuracy_by_kind(repeat_rows);
    // The share of a kind's layers whose passes agree within +-25 % (none with one pass).
    auto repeat_within = [&](runtime::StepKind kind) -> std::optional<double> {
      for (const auto& k : repeat_kinds)
        if (k.kind == kind) return k.within_25;
      return std::nullopt;
    };
    auto summary_json = [](const profile::ValidationSummary& v) {
      return nlohmann::ordered_json{{"networks", v.networks},
                                    {"within_5", v.within_5},
                                    {"within_10", v.within_10},
                                    {"layers", v.layers},
                                    {"layers_within_25", v.layers_within_25},
                                    {"median_abs_error", v.median_abs_error}};
    };
    // The calibration round trips of the models the cases could be predicted with (one per placement).
    auto placement_trips = [&] {
      auto a = nlohmann::ordered_json::array();
      if (placements.size() > 1)
        for (const auto& p : placements) a.push_back(p.round_trip_ns);
      else
        a.push_back(m->round_trip_ns);
      return a;
    };
    auto optional_json = [](std::optional<double> x) { return x ? nlohmann::ordered_json(*x) : nullptr; };
    auto ms_list = [](const std::vector<double>& ns) {
      auto a = nlohmann::ordered_json::array();
      for (double x : ns) a.push_back(x / 1e6);
      return a;
    };
    if (o.json) {
      nlohmann::ordered_json j{{"model", m->describe()},
                               {"threads", t},
                               {"networks", nlohmann::ordered_json::array()},
                               {"reference_ms", m->reference_ns / 1e6},
                               {"passes", o.passes},
                               {"core_round_trip_ns",
                                {{"report", {trip_before, trip_after}},
                                 {"calibration", {m->core_round_trip_ns[0], m->core_round_trip_ns[1]}},
                                 {"models", placement_trips()}}},
                               {"summary", summary_json(s)},
                               {"summary_speed_corrected", summary_json(sc)},
                               {"summary_pass_to_pass", summary_json(sr)},
                               {"by_step_kind", nlohmann::ordered_json::array()}};
      for (const auto& k : kinds)
        j["by_step_kind"].push_back({{"kind", runtime::step_kind_name(k.kind)},
                                     {"layers", k.layers},
                                     {"within_25", k.within_25},
                                     {"median_measured_over_predicted", k.median_ratio},
                                     {"time_share", k.time_share},
                                     {"pass_to_pass_within_25", optional_json(repeat_within(k.kind))}});
      auto layers_json = [](const profile::ValidatedNetwork& r) {
        auto a = nlohmann::ordered_json::array();
        for (std::size_t i = 0; i < r.layer_measured_ns.size(); ++i)
          a.push_back({{"name", i < r.layer_name.size() ? r.layer_name[i] : ""},
                       {"kind", i < r.layer_kind.size() ? runtime::step_kind_name(r.layer_kind[i]) : ""},
                       {"predicted_us", r.layer_predicted_ns[i] / 1e3},
                       {"measured_us", r.layer_measured_ns[i] / 1e3},
                       {"extrapolated", i < r.layer_extrapolated.size() && r.layer_extrapolated[i]}});
        return a;
      };
      for (const auto& r : rows)
        j["networks"].push_back({{"name", r.name},
                                 {"predicted_ms", r.predicted_ns / 1e6},
                                 {"measured_ms", r.measured_ns / 1e6},
                                 {"measured_ms_per_pass", ms_list(r.pass_measured_ns)},
                                 {"error", r.error()},
                                 {"speed", r.speed},
                                 {"error_speed_corrected", r.corrected_error()},
                                 {"cross_core_scale", r.cross_core_scale},
                                 {"core_round_trip_ns", r.round_trip_ns},
                                 {"model_round_trip_ns", r.model_round_trip_ns},
                                 {"steps", r.steps},
                                 {"extrapolated_steps", r.extrapolated},
                                 {"layers", layers_json(r)}});
      out.push_back(j);
      continue;
    }
    std::printf("%s\n", m->describe().c_str());
    std::printf(
        "speed: the speed probe's time while each network ran over its %.3f ms at calibration "
        "(1.20 = 20 %% slower);\ncorrected: the error with the prediction scaled by it (the model's own "
        "error, without the machine's drift)\n\n",
        m->reference_ns / 1e6);
    if (t > 1)
      std::printf(
          "core-to-core round trip of a cache line: %.0f / %.0f ns before / after this report, %.0f at "
          "calibration;\neach network is predicted with its cross-core costs scaled by the round trip around its "
          "run over the calibration's\n\n",
          trip_before, trip_after, m->round_trip_ns);
    if (placements.size() > 1)
      std::printf(
          "models of two placements of the cores (calibrated at round trips of %.0f and %.0f ns): each network "
          "is predicted with the one nearer the round trip around its run, scaled from there\n\n",
          placements[0].round_trip_ns, placements[1].round_trip_ns);
    if (o.passes > 1)
      std::printf(
          "measured: the median of %d passes over every network; passes: how far apart they were "
          "(slowest / fastest - 1)\n\n",
          o.passes);
    std::printf("%-40s %10s %10s %8s %6s %10s %7s\n", "network", "predicted", "measured", "error", "speed", "corrected",
                o.passes > 1 ? "passes" : "");
    for (const auto& r : rows) {
      std::string spread;
      if (r.pass_measured_ns.size() > 1) {
        const auto [lo, hi] = std::minmax_element(r.pass_measured_ns.begin(), r.pass_measured_ns.end());
        char b[16];
        std::snprintf(b, sizeof b, "%5.1f%%", (*hi / *lo - 1) * 100);
        spread = b;
      }
      std::printf("%-40s %7.3f ms %7.3f ms %+7.1f%% %6.2f %+9.1f%% %7s%s\n", r.name.c_str(), r.predicted_ns / 1e6,
                  r.measured_ns / 1e6, r.error() * 100, r.speed, r.corrected_error() * 100, spread.c_str(),
                  r.extrapolated > 0 ? "  (extrapolated steps)" : "");
    }
    auto print_summary = [&](const char* what, const profile::ValidationSummary& v) {
      std::printf(
          "%s: %d networks: %s within +-5 %%, %s within +-10 %% (median error %.1f %%, worst %+.1f %%); "
          "%d layers: %s within +-25 %%\n",
          what, v.networks, pct(v.within_5).c_str(), pct(v.within_10).c_str(), v.median_abs_error * 100,
          v.worst_error * 100, v.layers, pct(v.layers_within_25).c_str());
    };
    std::printf("\n");
    print_summary("as predicted", s);
    print_summary("speed-corrected", sc);
    if (o.passes > 1) {
      print_summary("pass to pass", sr);
      std::printf(
          "  (each pass's measurements as the \"prediction\" of the next pass's: how well this machine repeats "
          "itself;\n   the model is compared with the median of the passes, which moves less than one pass)\n");
    }
    std::printf("\nlayers by step kind, as predicted (the most measured time first):\n");
    std::printf("%-18s %7s %14s %21s %14s %14s\n", "step kind", "layers", "within +-25 %", "measured / predicted",
                "share of time", o.passes > 1 ? "passes agree" : "");
    for (const auto& k : kinds) {
      const auto agree = repeat_within(k.kind);
      std::printf("%-18s %7d %14s %21.2f %14s %14s\n", std::string(runtime::step_kind_name(k.kind)).c_str(), k.layers,
                  pct(k.within_25).c_str(), k.median_ratio, pct(k.time_share).c_str(),
                  agree ? pct(*agree).c_str() : "");
    }
    std::printf("\n");
  }
  if (o.json) std::cout << out.dump(2) << "\n";
  return failed > 0 ? kExitInvalid : 0;
}

/// --fusion: every fusible block of each FILE measured fused in row bands and op
/// by op, alternating, beside the latency model's prediction and auto's choice.
int run_fusion(const Options& o, const kernels::KernelTable& kt) {
  if (o.files.empty()) {
    std::cerr << "convscope-cli: calibrate --fusion: give one or more networks (graph files, ONNX models, presets)\n";
    return kExitUsage;
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& f : o.files) {
    Source src = open_graph(f);
    if (!src.graph) return print_load_error(src);
    const cost::Analysis a = cost::analyze(*src.graph);
    for (int t : thread_counts(o)) {
      auto m = latency_model(kt, t);
      if (!m) return kExitUsage;
      runtime::PlanOptions base;
      base.threads = t;
      base.kernels = &kt;
      auto check = profile::check_fusion(*src.graph, a, *m, base, o.rounds);
      if (!check) {
        std::cerr << format_diagnostics(check.error(), "convscope-cli: " + src.shown);
        return kExitInvalid;
      }
      // Each chain's measured forms, kept for auto on this machine (blocks of
      // the same shape pooled: sums of their medians).
      std::string saved;
      if (!o.no_save && !check->blocks.empty()) {
        std::map<std::string, profile::MeasuredForm> forms;
        for (const auto& b : check->blocks) {
          profile::MeasuredForm& form = forms[b.key];
          form.fused_ns += b.fused_ns;
          form.unfused_ns += b.unfused_ns;
        }
        if (auto w = profile::save_measured_forms(m->isa, t, forms); w)
          saved = profile::fusion_cache_path().string();
        else
          std::cerr << format_diagnostics(w.error(), "convscope-cli: calibrate --fusion: not saved");
      }
      // A block's forms closer than this are even: within what the rounds resolve.
      constexpr double kEven = 0.02;
      int agree = 0;
      for (const auto& b : check->blocks)
        if (b.lost_ns() <= kEven * std::min(b.fused_ns, b.unfused_ns)) ++agree;
      if (o.json) {
        nlohmann::ordered_json j{{"network", src.shown},
                                 {"threads", t},
                                 {"rounds", check->rounds},
                                 {"model", m->describe()},
                                 {"every_block_fused_ms", check->total_ns(true) / 1e6},
                                 {"every_block_op_by_op_ms", check->total_ns(false) / 1e6},
                                 {"as_auto_chose_ms", check->auto_ns() / 1e6},
                                 {"each_block_faster_form_ms", check->best_ns() / 1e6},
                                 {"choices_agreeing", agree},
                                 {"saved_to", saved.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(saved)},
                                 {"blocks", nlohmann::ordered_json::array()}};
        for (const auto& b : check->blocks)
          j["blocks"].push_back({{"block", b.name},
                                 {"measured_fused_us", b.fused_ns / 1e3},
                                 {"measured_op_by_op_us", b.unfused_ns / 1e3},
                                 {"predicted_fused_us", b.predicted_fused_ns / 1e3},
                                 {"predicted_op_by_op_us", b.predicted_unfused_ns / 1e3},
                                 {"auto", b.chosen ? "fused" : "op by op"},
                                 {"lost_us", b.lost_ns() / 1e3}});
        out.push_back(std::move(j));
        continue;
      }
      if (check->blocks.empty()) {
        std::printf("%s: no block fuses (no inverted residual, separable or IGCV3 chain): nothing to check\n\n",
                    src.shown.c_str());
        continue;
      }
      std::printf("%s, %d thread%s: %zu fusible block%s, %d rounds alternating the two forms (step medians)\n%s\n\n",
                  src.shown.c_str(), t, t == 1 ? "" : "s", check->blocks.size(), check->blocks.size() == 1 ? "" : "s",
                  check->rounds, m->describe().c_str());
      std::printf("%-30s %30s   %30s   %-9s %8s\n", "", "measured us", "predicted us", "", "");
      std::printf("%-30s %10s %10s %8s   %10s %10s %8s   %-9s %8s\n", "block", "fused", "op by op", "f / o", "fused",
                  "op by op", "f / o", "auto", "lost us");
      for (const auto& b : check->blocks)
        std::printf("%-30.30s %10.1f %10.1f %8.3f   %10.1f %10.1f %8.3f   %-9s %8.1f\n", b.name.c_str(),
                    b.fused_ns / 1e3, b.unfused_ns / 1e3, b.unfused_ns > 0 ? b.fused_ns / b.unfused_ns : 0.0,
                    b.predicted_fused_ns / 1e3, b.predicted_unfused_ns / 1e3,
                    b.predicted_unfused_ns > 0 ? b.predicted_fused_ns / b.predicted_unfused_ns : 0.0,
                    b.chosen ? "fused" : "op by op", b.lost_ns() / 1e3);
      std::printf(
          "\nthese blocks: every one fused %.3f ms, every one op by op %.3f ms, as auto chose %.3f ms, each in "
          "its faster form %.3f ms\n",
          check->total_ns(true) / 1e6, check->total_ns(false) / 1e6, check->auto_ns() / 1e6, check->best_ns() / 1e6);
      std::printf("auto picked the faster form (or one within %.0f %% of it) for %d of %zu blocks\n", kEven * 100,
                  agree, check->blocks.size());
      if (!saved.empty())
        std::printf(
            "saved these measurements (%s): from now on auto runs each of these block shapes in its faster form "
            "measured here, at %d thread%s, until the kernels change (--no-save to leave them out)\n",
            saved.c_str(), t, t == 1 ? "" : "s");
      // Where forcing one form beats auto by more than the rounds resolve, say which.
      const double a_ns = check->auto_ns(), rows_ns = check->total_ns(true), off_ns = check->total_ns(false);
      const bool rows_better = rows_ns <= off_ns;
      const double forced = rows_better ? rows_ns : off_ns;
      if (forced < a_ns * (1.0 - kEven))
        std::printf(
            "here --fuse-bottleneck %s ran these blocks %.1f %% faster than auto (run the check again to "
            "confirm: at two threads runs differ by more)\n",
            rows_better ? "rows" : "off", (1.0 - forced / a_ns) * 100);
      std::printf("\n");
    }
  }
  if (o.json) std::cout << out.dump(2) << "\n";
  return 0;
}

int run(const Options& o) {
  if (o.latency || o.validate || o.fusion) {
    if (o.latency + o.validate + o.fusion > 1) {
      std::cerr << "convscope-cli: calibrate: --latency, --validate and --fusion are separate runs: give one\n";
      return kExitUsage;
    }
    auto kt = pick_kernels(o.isa == "all" ? "auto" : o.isa, o.portable);
    if (!kt) return kt.error();
    if (o.fusion) return run_fusion(o, **kt);
    return o.latency ? run_latency(o, **kt) : run_validate(o, **kt);
  }
  // Every table this CPU runs (each has its own FMA peak and read bandwidth), or the one asked for.
  std::vector<const kernels::KernelTable*> tables;
  if (o.isa == "all" && !o.portable) {
    for (kernels::Isa isa : kernels::available_isas()) tables.push_back(&kernels::kernels_for(isa));
  } else {
    auto kt = pick_kernels(o.isa, o.portable);
    if (!kt) return kt.error();
    tables.push_back(*kt);
  }
  std::vector<profile::Calibration> cals;
  for (const auto* kt : tables) {
    auto cal = profile::load_or_measure(*kt, true);
    if (!cal) {
      std::cerr << format_diagnostics(cal.error(), "convscope-cli");
      return kExitUsage;
    }
    cals.push_back(*cal);
  }
  const std::string used = kernels::isa_name(kernels::best_kernels().isa);
  if (o.json) {
    nlohmann::ordered_json j{{"cpu", cals.front().cpu},
                             {"cores", cals.front().cores},
                             {"kernels_used", used},
                             {"cache_file", profile::cache_path().string()},
                             {"tables", nlohmann::ordered_json::array()}};
    for (const auto& c : cals)
      j["tables"].push_back({{"isa", c.isa},
                             {"peak_gflops_1", c.peak_gflops_1},
                             {"peak_gflops_all", c.peak_gflops_all},
                             {"cache_gbps", c.cache_gbps},
                             {"l3_gbps", c.l3_gbps},
                             {"dram_gbps", c.dram_gbps},
                             {"measured_at", c.measured_at}});
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("cpu            %s (%d logical CPUs)\n", cals.front().cpu.c_str(), cals.front().cores);
  for (const auto& c : cals) {
    std::printf("\nkernels        %s%s\n", c.isa.c_str(), c.isa == used ? "  (what profile and the app run)" : "");
    std::printf("peak FP32      %.1f GFLOP/s on one core, %.1f GFLOP/s on %d\n", c.peak_gflops_1, c.peak_gflops_all,
                c.cores);
    std::printf("bandwidth      %.1f GB/s L2 (256 KiB buffer), %.1f GB/s L3 (8 MiB), %.1f GB/s DRAM (512 MiB)\n",
                c.cache_gbps, c.l3_gbps, c.dram_gbps);
    std::printf("ridge point    %.1f FLOP/B (DRAM, one core)\n", c.peak_gflops_1 / c.dram_gbps);
  }
  std::printf("\nsaved to       %s\n", profile::cache_path().string().c_str());
  return 0;
}
}  // namespace

Command add_calibrate(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "calibrate", "measure this machine's peak FLOP/s and bandwidths for every kernel table it runs (cached)");
  cmd->add_flag("--json", o->json, "print JSON");
  add_isa_option(cmd, o->isa, "all");
  cmd->add_flag("--portable", o->portable, "calibrate the portable kernels only (same as --isa portable)");
  cmd->add_flag("--latency", o->latency,
                "calibrate the latency model: time the kernels on a grid of probe graphs and fit it (cached)");
  cmd->add_flag("--validate", o->validate,
                "the latency model's accuracy: predicted against measured for every preset, variants and FILEs");
  cmd->add_flag("--fusion", o->fusion,
                "every fusible block of the FILEs run fused in row bands and op by op, alternating, beside the "
                "latency model's prediction and auto's choice");
  cmd->add_option("--rounds", o->rounds, "--fusion: alternating rounds (default 20)")->check(CLI::Range(1, 10000));
  cmd->add_flag("--no-save", o->no_save,
                "--fusion: do not keep the measured forms (by default auto then runs each measured block shape in "
                "its faster form on this machine)");
  cmd->add_option("--threads", o->threads,
                  "thread counts for --latency / --validate / --fusion, e.g. 1,4 (default: 1 and all)")
      ->check(CLI::Range(1, 256))
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_flag("--skip-presets", o->skip_presets, "--validate: only the FILEs given");
  cmd->add_option("--passes", o->passes,
                  "--validate: passes over the networks (measured: their median; with 2 or more, how well the "
                  "passes agree: the machine's own repeatability)")
      ->check(CLI::Range(1, 20));
  cmd->add_option("--samples", o->samples, "--latency: write every timed step (features, measured, predicted) as CSV");
  cmd->add_option("--round-trip-above", o->round_trip_above,
                  "--latency on several threads: time each probe only while the cores' cache-line round trip is at "
                  "least NS (a VM's vCPUs on two core complexes), waiting for it otherwise (up to 15 minutes per pass)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--round-trip-below", o->round_trip_below,
                  "--latency on several threads: only while the round trip is below NS (the vCPUs on one complex)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("FILE", o->files,
                  "--validate: more networks; --fusion: the networks to check (graph files, ONNX models, presets)");
  return {cmd, [o] { return run(*o); }};
}
}  // namespace convscope::cli
