#include "common.h"

#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "io/graph_json.h"
#include "io/onnx_import.h"
#include "io/presets.h"
#include "profile/latency_calibration.h"

namespace convscope::cli {

namespace fs = std::filesystem;

Source open_graph(const std::string& arg) {
  if (arg == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return {"<stdin>", io::graph_from_json(ss.str()), {}};
  }
  if (fs::exists(arg) && fs::path(arg).extension() == ".onnx") {
    auto m = io::import_onnx(arg);
    if (!m) return {arg, tl::unexpected(m.error()), {}};
    return {arg, std::move(m->graph), std::move(m->weights)};
  }
  if (fs::exists(arg)) return {arg, io::load_graph(arg), {}};
  if (auto preset = io::find_preset(arg)) return {preset->string(), io::load_graph(*preset), {}};
  return {arg, fail("", "no such file or preset (presets: convscope-cli presets)"), {}};
}

int print_load_error(const Source& s) {
  std::cerr << format_diagnostics(s.graph.error(), "convscope-cli: " + s.shown);
  return kExitUsage;
}

void CostFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--alpha", alpha, "width multiplier (make_divisible(c*alpha, 8))")->check(CLI::Range(0.01, 16.0));
  cmd->add_option("--resolution", resolution, "input height and width in pixels")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--classes", classes, "classifier outputs")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--batch", batch, "images per run (MAdds and memory scale with it)")->check(CLI::Range(1, 65536));
  std::string names;
  for (const auto& c : cost::named_conventions()) names += (names.empty() ? "" : ", ") + c.name;
  cmd->add_option("--convention", convention, "counting convention: " + names)->capture_default_str();
  cmd->add_option("--precision", precision, "bytes per element: fp32, fp16 or int8")
      ->check(CLI::IsMember({"fp32", "fp16", "int8"}))
      ->capture_default_str();
  cmd->add_option("--bias", bias, "override the convention: count conv/fc biases (on|off)")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--bn", bn, "override the convention: batch norm separate|counted|folded")
      ->check(CLI::IsMember({"separate", "counted", "folded"}));
  cmd->add_flag("--no-classifier", no_classifier, "leave the classifier out of the totals");
  cmd->add_option("--memory", memory, "peak memory view: ops (every op materialises) or blocks (blocks as one op)")
      ->check(CLI::IsMember({"ops", "blocks"}))
      ->capture_default_str();
  cmd->add_option("--split", split, "blocks view: keep inner tensors in T slices (the t-way split); 0 = not counted")
      ->check(CLI::Range(0, 1 << 20));
}

std::string CostFlags::apply(ir::Graph& g, cost::AnalysisOptions& o) const {
  if (alpha) g.settings.alpha = *alpha;
  if (resolution) g.settings.resolution = *resolution;
  if (classes) g.settings.classes = *classes;
  if (batch) g.settings.batch = *batch;
  auto c = cost::find_convention(convention);
  if (!c) {
    std::string names;
    for (const auto& n : cost::named_conventions()) names += (names.empty() ? "" : ", ") + n.name;
    return "--convention: unknown convention '" + convention + "' (known: " + names + ")";
  }
  o.convention = *c;
  if (!bias.empty()) o.convention.count_bias = bias == "on";
  if (!bn.empty()) cost::parse_bn_counting(bn, o.convention.bn);
  if (no_classifier) o.convention.include_classifier = false;
  if (!bias.empty() || !bn.empty() || no_classifier) o.convention.name += " (modified)";
  cost::parse_precision(precision, o.precision);
  cost::parse_memory_view(memory, o.memory_view);
  o.split = split;
  return {};
}

tl::expected<Loaded, int> load_and_analyze(const std::string& file, const CostFlags& flags) {
  Source src = open_graph(file);
  if (!src.graph) return tl::unexpected(print_load_error(src));
  Loaded l{src.shown, std::move(*src.graph), {}, std::move(src.weights)};
  cost::AnalysisOptions options;
  if (auto err = flags.apply(l.graph, options); !err.empty()) {
    std::cerr << "convscope-cli: " << err << "\n";
    return tl::unexpected(kExitUsage);
  }
  l.analysis = cost::analyze(l.graph, options);
  return l;
}

tl::expected<Loaded, int> load_complete(const std::string& file, const CostFlags& flags) {
  auto l = load_and_analyze(file, flags);
  if (l && !l->analysis.complete()) {
    std::cerr << format_diagnostics(l->analysis.diagnostics, l->shown);
    return tl::unexpected(kExitInvalid);
  }
  return l;
}

tl::expected<const kernels::KernelTable*, int> pick_kernels(const std::string& isa, bool portable) {
  auto kt = kernels::kernels_by_name(portable ? "portable" : isa);
  if (!kt) {
    std::cerr << format_diagnostics(kt.error(), "convscope-cli: --isa");
    return tl::unexpected(kExitUsage);
  }
  return *kt;
}

void add_isa_option(CLI::App* cmd, std::string& isa, const std::string& extra) {
  // Checked while parsing, so a wrong name is refused before any file is read.
  const auto known = [extra](const std::string& name) {
    if (!extra.empty() && name == extra) return std::string();
    auto kt = kernels::kernels_by_name(name);
    return kt ? std::string() : kt.error().front().message;
  };
  std::string help = "kernels: auto (the best this CPU runs), avx512, avx2 or portable";
  if (!extra.empty()) help += ", or " + extra;
  cmd->add_option("--isa", isa, help)->check(CLI::Validator(known, "ISA"))->capture_default_str();
}

std::optional<profile::LatencyModel> latency_model(const kernels::KernelTable& kt, int threads, bool force,
                                                   std::vector<profile::Sample>* samples,
                                                   std::pair<double, double> round_trip) {
  const bool tty = ::isatty(2) != 0;
  profile::LatencyCalibrationOptions o;
  o.threads = threads;
  o.min_round_trip_ns = round_trip.first;
  o.max_round_trip_ns = round_trip.second;
  if (tty)
    o.progress = [threads](double f) {
      std::fprintf(stderr, "\rcalibrating the latency model (%d thread%s) %3d%%", threads, threads == 1 ? "" : "s",
                   static_cast<int>(f * 100));
    };
  std::string why;
  auto m = profile::load_or_calibrate_latency(kt, o, force, &why, samples);
  if (!why.empty())
    std::fprintf(stderr, "%sconvscope-cli: latency model calibrated (%s)\n", tty ? "\r" : "", why.c_str());
  if (!m) {
    std::cerr << format_diagnostics(m.error(), "convscope-cli: latency model");
    return std::nullopt;
  }
  return std::move(*m);
}

}  // namespace convscope::cli
