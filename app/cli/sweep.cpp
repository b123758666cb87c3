// convscope-cli sweep: costs, predicted latency (and measured latency) over a grid of width
// multiplier, resolution and block parameters, with the Pareto front and the scaling laws.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "command.h"
#include "common.h"
#include "io/graph_json.h"
#include "io/report.h"
#include "kernels/kernels.h"
#include "profile/latency_calibration.h"
#include "sweep/session.h"

namespace convscope::cli {

namespace {
struct Options {
  std::string file, alphas, resolutions, out, pareto = "latency,+params";
  std::vector<std::string> params;
  bool measure = false, no_predict = false;
  int threads = 1;
  double min_time = 0.2;
};

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }

/// The engine names a grid's fields (alpha, resolution, param); the CLI's messages name its flags.
Diagnostics as_flags(Diagnostics d) {
  for (auto& e : d)
    if (e.where == "alpha" || e.where == "resolution" || e.where == "param" || e.where == "pareto")
      e.where = "--" + e.where;
  return d;
}

/// The grid and the front's axes from the flags; every bad flag is reported.
Result<std::pair<sweep::Spec, sweep::ParetoAxes>> parse_flags(const Options& o) {
  auto spec = sweep::parse_spec({o.alphas, o.resolutions, o.params});
  auto axes = sweep::parse_pareto(o.pareto);
  Diagnostics bad;
  if (!spec) bad = spec.error();
  if (!axes) bad.insert(bad.end(), axes.error().begin(), axes.error().end());
  if (!bad.empty()) return tl::unexpected(as_flags(bad));
  return std::pair{std::move(*spec), *axes};
}

void print_table(const sweep::Spec& spec, const std::vector<sweep::Point>& points) {
  std::printf("%-6s %6s", "alpha", "res");
  for (const auto& a : spec.params) std::printf(" %12s", a.selector.substr(0, 12).c_str());
  std::printf(" %12s %12s %11s %9s %10s %7s %6s %7s %9s %10s %10s\n", "params", "MAdds", "peak mem", "pred. ms",
              "median ms", "error", "speed", "pareto", "MAdds/law", "params/law", "lat/MAdds");
  for (const auto& p : points) {
    std::printf("%-6.3g %6lld", p.alpha, static_cast<long long>(p.resolution));
    for (const auto& v : p.values) std::printf(" %12s", ir::param_value_str(v).c_str());
    if (!p.valid) {
      std::printf("  invalid: %s\n", p.problem.c_str());
      continue;
    }
    char pred[32] = "-", err[32] = "-", speed[32] = "-";
    if (p.machine_speed) std::snprintf(speed, sizeof speed, "%.2f", *p.machine_speed);
    if (p.predicted_ms) std::snprintf(pred, sizeof pred, "%.3f%s", *p.predicted_ms, p.extrapolated ? "*" : "");
    if (auto e = p.prediction_error()) std::snprintf(err, sizeof err, "%+.1f%%", *e * 100);
    std::printf(" %12s %12s %11s %9s %10s %7s %6s %7s %9.3f %10.3f %10s\n", io::with_commas(p.params).c_str(),
                io::human(p.madds).c_str(), io::human(p.peak_memory_bytes, true).c_str(), pred,
                p.median_ms ? std::to_string(*p.median_ms).substr(0, 7).c_str() : "-", err, speed, p.pareto ? "*" : "",
                p.madds_law, p.params_law,
                p.latency_law > 0 ? std::to_string(p.latency_law).substr(0, 5).c_str() : "-");
  }
  std::printf(
      "\nlaws relative to the largest alpha and resolution: MAdds/law = (MAdds ratio) / (alpha^2 rho^2), "
      "params/law = (params ratio) / alpha^2, lat/MAdds = (latency ratio) / (MAdds ratio); 1.000 = the law holds\n"
      "speed: the latency model's speed probe around the point's measurement over its time at calibration "
      "(1.20 = the machine ran 20 %% slower than when the model was calibrated)\n");
}

int run(const Options& o) {
  Source src = open_graph(o.file);
  if (!src.graph) return print_load_error(src);
  auto parsed = parse_flags(o);
  if (!parsed) {
    std::cerr << format_diagnostics(parsed.error(), "convscope-cli");
    return kExitUsage;
  }
  sweep::SessionSetup setup;
  setup.pareto = parsed->second;
  if (!o.no_predict) setup.model = latency_model(kernels::best_kernels(), o.threads);
  auto started = sweep::Session::start(std::move(*src.graph), std::move(parsed->first), std::move(setup));
  if (!started) {
    std::cerr << format_diagnostics(as_flags(started.error()), "convscope-cli: " + src.shown);
    return kExitUsage;
  }
  sweep::Session& session = *started;
  if (const auto model = session.model_description(); !model.empty())
    std::fprintf(stderr, "convscope-cli: predicted with %s\n", model.c_str());
  const bool json = std::filesystem::path(o.out).extension() == ".json";
  auto write_out = [&]() -> bool {
    auto w = io::write_file_atomic(o.out, json ? session.json() : session.csv());
    if (!w) std::cerr << format_diagnostics(w.error(), "convscope-cli: " + o.out);
    return w.has_value();
  };
  int rc = 0;
  if (o.measure) {
    // Resume: keep what an earlier, interrupted run of the same grid measured.
    if (!o.out.empty() && std::filesystem::exists(o.out)) {
      std::ifstream in(o.out);
      std::ostringstream ss;
      ss << in.rdbuf();
      if (const auto kept = session.resume(ss.str()))
        std::cerr << "convscope-cli: resuming: " << kept << " points already measured in " << o.out << "\n";
    }
    std::signal(SIGINT, on_sigint);
    sweep::MeasureOptions mo;
    mo.threads = o.threads;
    mo.min_seconds = o.min_time;
    mo.cancel = &g_interrupted;
    const bool tty = ::isatty(2) != 0;
    mo.progress = [&](std::size_t done, std::size_t total) {
      if (!tty) return;
      const int w = 40, bar = static_cast<int>(static_cast<double>(done) /
                                               static_cast<double>(std::max<std::size_t>(total, 1)) * w);
      std::fprintf(stderr, "\rmeasuring [%s%s] %zu/%zu", std::string(static_cast<std::size_t>(bar), '#').c_str(),
                   std::string(static_cast<std::size_t>(w - bar), ' ').c_str(), done, total);
    };
    if (!o.out.empty()) mo.checkpoint = [&](const std::vector<sweep::Point>&) { write_out(); };
    if (!session.measure(std::move(mo))) {
      rc = 130;
      std::cerr << "\nconvscope-cli: interrupted; the points measured so far are kept"
                << (o.out.empty() ? "" : " in " + o.out + " (run the same command again to resume)") << "\n";
    } else if (tty) {
      std::fprintf(stderr, "\n");
    }
  }
  if (!o.out.empty()) {
    if (!write_out()) return kExitUsage;
    std::cerr << "convscope-cli: " << session.points().size() << " points written to " << o.out << "\n";
    return rc;
  }
  print_table(session.spec(), session.points());
  return rc;
}
}  // namespace

Command add_sweep(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "sweep", "costs (and measured latency) over a grid of width multiplier, resolution and block parameters");
  cmd->add_option("FILE", o->file, "graph file, ONNX model or preset name")->required();
  cmd->add_option("--alpha", o->alphas, "width multipliers, e.g. 0.35,0.5,0.75,1.0,1.4");
  cmd->add_option("--resolution", o->resolutions, "resolutions: START:STOP:STEP (inclusive) or a list, e.g. 96:224:32");
  cmd->add_option(
      "--param", o->params,
      "NAME=V1,V2 where NAME is a parameter (every block that has it), kind.param or block_id.param; repeatable");
  cmd->add_flag("--measure", o->measure, "also measure each point's latency on the CPU backend (resumable with --out)");
  cmd->add_option("--threads", o->threads, "threads for the prediction and --measure")->check(CLI::Range(1, 256));
  cmd->add_flag("--no-predict", o->no_predict,
                "no predicted latency (otherwise the cached latency model predicts every point; one is calibrated "
                "first when there is none, about 10 s)");
  cmd->add_option("--min-time", o->min_time, "seconds of timing per point")->check(CLI::Range(0.0, 600.0));
  cmd->add_option("--pareto", o->pareto,
                  "the front to mark: X,Y from latency, predicted, madds, params, memory (X minimised; Y minimised, "
                  "or maximised as +Y: by default the most parameters for the latency; latency among measured "
                  "points only, the predicted latency when none is measured, else MAdds)")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "write the results to FILE.csv or FILE.json (atomic; checkpointed while measuring)");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace convscope::cli
