// convscope-cli: the headless face of ConvScope. Every command reads graph files
// (or preset names) and prints what the engine computes; nothing is computed here.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "blocks/registry.h"
#include "cost/analysis.h"
#include "cost/compare.h"
#include "io/design_export.h"
#include "io/export.h"
#include "io/graph_json.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "io/profile_report.h"
#include "io/report.h"
#include "profile/calibration.h"
#include "profile/profiler.h"
#include "runtime/plan.h"
#include "sweep/sweep.h"

namespace fs = std::filesystem;
using namespace convscope;

namespace {

/// Exit codes: 0 success, 1 the graph has problems, 2 bad usage or unreadable input.
constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;

std::vector<fs::path> preset_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("CONVSCOPE_PRESETS")) dirs.emplace_back(env);
  dirs.emplace_back(CONVSCOPE_PRESET_DIR);
  dirs.emplace_back("/usr/local/share/convscope/presets");
  dirs.emplace_back("/usr/share/convscope/presets");
  return dirs;
}

/// A file path (.json graph or .onnx model), "-" for standard input, or the
/// name of a preset ("mobilenet_v2").
struct Source {
  std::string shown;  // what messages call it
  Result<ir::Graph> graph;
  std::map<std::string, runtime::OpWeights> weights;  // an imported model's weights, by "<block>/<op>"
};

Source open_onnx(const std::string& path) {
  auto m = io::import_onnx(path);
  if (!m) return {path, tl::unexpected(m.error()), {}};
  return {path, std::move(m->graph), std::move(m->weights)};
}

Source open_graph(const std::string& arg) {
  if (arg == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return {"<stdin>", io::graph_from_json(ss.str()), {}};
  }
  if (fs::exists(arg) && fs::path(arg).extension() == ".onnx") return open_onnx(arg);
  if (fs::exists(arg)) return {arg, io::load_graph(arg), {}};
  if (arg.find('/') == std::string::npos)
    for (const auto& dir : preset_dirs()) {
      const fs::path p = dir / (arg + ".json");
      if (fs::exists(p)) return {p.string(), io::load_graph(p), {}};
    }
  return {arg, fail("", "no such file or preset (presets: convscope-cli presets)"), {}};
}

struct CostFlags {
  std::optional<double> alpha;
  std::optional<std::int64_t> resolution;
  std::optional<std::int64_t> classes;
  std::optional<std::int64_t> batch;
  std::string convention = "paper";
  std::string precision = "fp32";
  std::string bias;  // "", "on", "off"
  std::string bn;    // "", separate, counted, folded
  bool no_classifier = false;
  std::string memory = "ops";
  std::int64_t split = 0;

  void add_to(CLI::App* cmd) {
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

  /// Applies the overrides; returns an error message or empty.
  std::string apply(ir::Graph& g, cost::AnalysisOptions& o) const {
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
};

int print_load_error(const Source& s) {
  std::cerr << format_diagnostics(s.graph.error(), "convscope-cli: " + s.shown);
  return kExitUsage;
}

struct Loaded {
  std::string shown;
  ir::Graph graph;
  cost::Analysis analysis;
  std::map<std::string, runtime::OpWeights> weights;  // imported weights (ONNX), else empty
};

/// Opens FILE, applies the flags and analyzes it; on failure prints why and
/// returns the exit code instead.
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

int cmd_stats(const std::string& file, const CostFlags& flags, const std::string& format, bool ops, bool formulas) {
  auto l = load_and_analyze(file, flags);
  if (!l) return l.error();
  const auto& [shown, g, a, named] = *l;
  if (format == "json")
    std::cout << io::report_json(g, a);
  else if (format == "csv")
    std::cout << io::report_csv(g, a);
  else
    std::cout << io::report_table(g, a, {.ops = ops, .formulas = formulas});
  if (!a.complete()) {
    std::cerr << format_diagnostics(a.diagnostics, shown);
    return kExitInvalid;
  }
  return 0;
}

int cmd_validate(const std::vector<std::string>& files, const CostFlags& flags) {
  int rc = 0;
  for (const auto& file : files) {
    auto l = load_and_analyze(file, flags);
    if (!l) {
      rc = std::max(rc, l.error());
      continue;
    }
    const auto& [shown, g, a, named] = *l;
    if (a.complete()) {
      std::cout << shown << ": ok (" << g.nodes.size() << " blocks, " << a.ops.size() << " ops, "
                << io::with_commas(a.totals.params) << " params, " << io::with_commas(a.totals.madds) << " MAdds)\n";
    } else {
      std::cerr << format_diagnostics(a.diagnostics, shown);
      rc = std::max(rc, kExitInvalid);
    }
  }
  return rc;
}

int cmd_blocks(const std::string& format) {
  const auto& reg = blocks::Registry::builtin();
  if (format == "json") {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const auto& k : reg.kinds()) {
      const auto& info = k->info();
      nlohmann::ordered_json b;
      b["name"] = info.name;
      b["title"] = info.title;
      b["category"] = std::string(blocks::category_name(info.category));
      b["summary"] = info.summary;
      b["reference"] = info.reference;
      b["inputs"] = {{"min", info.min_inputs},
                     {"max", info.max_inputs == blocks::kVariadic ? nlohmann::ordered_json(nullptr)
                                                                  : nlohmann::ordered_json(info.max_inputs)}};
      b["params"] = nlohmann::ordered_json::array();
      for (const auto& p : info.params)
        b["params"].push_back({{"name", p.name},
                               {"type", ir::param_type_name(p.type)},
                               {"default", ir::param_value_str(p.def)},
                               {"range", ir::param_range_str(p)},
                               {"optional", p.optional},
                               {"doc", p.doc}});
      j.push_back(b);
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  for (const auto& k : reg.kinds()) {
    const auto& info = k->info();
    std::cout << info.name << "  [" << blocks::category_name(info.category) << "]  " << info.title << "\n";
    std::cout << "  " << info.summary << "\n";
    if (!info.reference.empty()) std::cout << "  ref: " << info.reference << "\n";
    // The closed form with the defaults on a 56x56x32 input, as an example.
    ir::ParamMap eff;
    for (const auto& p : info.params)
      if (!p.optional) eff.emplace(p.name, p.def);
    std::vector<ir::Shape> ins(std::max<std::size_t>(info.min_inputs, info.max_inputs == 0 ? 0 : 1),
                               ir::Shape{56, 56, 32});
    if (info.category != blocks::Category::Input) {
      const blocks::BlockContext ctx(eff, ins);
      blocks::Checks checks;
      k->check(ctx, checks);
      if (checks.items().empty()) std::cout << "  MAdds = " << k->formula(ctx).symbolic << "\n";
    }
    for (const auto& p : info.params)
      std::cout << "    " << p.name << " (" << ir::param_type_name(p.type) << " " << ir::param_range_str(p)
                << (p.optional ? ", optional" : ", default " + ir::param_value_str(p.def)) << "): " << p.doc << "\n";
    std::cout << "\n";
  }
  return 0;
}

int cmd_compare(const std::string& in_str, std::int64_t out_c, std::int64_t stride, std::int64_t kernel,
                const std::string& format, const CostFlags& flags) {
  static const std::regex shape_re(R"((\d+)x(\d+)x(\d+))");
  std::smatch m;
  if (!std::regex_match(in_str, m, shape_re)) {
    std::cerr << "convscope-cli: --in: expected HxWxC such as 56x56x32, got '" << in_str << "'\n";
    return kExitUsage;
  }
  ir::Shape in;
  try {
    in = {std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3])};
  } catch (const std::exception&) {
    std::cerr << "convscope-cli: --in: number out of range in '" << in_str << "'\n";
    return kExitUsage;
  }
  if (!in.valid() || in.h > (1 << 20) || in.w > (1 << 20) || in.c > (1 << 20)) {
    std::cerr << "convscope-cli: --in: each of H, W, C must be in 1..1048576, got " << in.str() << "\n";
    return kExitUsage;
  }
  ir::Graph dummy;
  cost::AnalysisOptions options;
  if (auto err = flags.apply(dummy, options); !err.empty()) {
    std::cerr << "convscope-cli: " << err << "\n";
    return kExitUsage;
  }
  const auto rows = cost::compare_blocks(in, out_c, stride, kernel, options);
  if (format == "json")
    std::cout << io::compare_json(rows, in, out_c, stride, kernel);
  else if (format == "csv")
    std::cout << io::compare_csv(rows);
  else
    std::cout << io::compare_table(rows, in, out_c, stride, kernel);
  return 0;
}

int cmd_format(const std::vector<std::string>& files, bool in_place, bool check) {
  int rc = 0;
  for (const auto& file : files) {
    Source src = open_graph(file);
    if (!src.graph) {
      rc = std::max(rc, print_load_error(src));
      continue;
    }
    const std::string text = io::graph_to_json(*src.graph);
    if (check || in_place) {
      std::ifstream f(src.shown, std::ios::binary);
      std::ostringstream ss;
      ss << f.rdbuf();
      const bool same = ss.str() == text;
      if (check && !same) {
        std::cerr << src.shown << ": not in canonical form (run convscope-cli format --in-place)\n";
        rc = std::max(rc, kExitInvalid);
      }
      if (in_place && !same) {
        if (auto r = io::write_file_atomic(src.shown, text); !r) {
          std::cerr << format_diagnostics(r.error(), "convscope-cli: " + src.shown);
          rc = kExitUsage;
        }
      }
    } else {
      std::cout << text;
    }
  }
  return rc;
}

int cmd_presets(const std::string& format) {
  std::vector<fs::path> files;
  for (const auto& dir : preset_dirs()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".json") files.push_back(e.path());
    if (!files.empty()) break;
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "convscope-cli: no presets found (set CONVSCOPE_PRESETS to the presets folder)\n";
    return kExitUsage;
  }
  int rc = 0;
  if (format != "json")
    std::printf("%-26s %-40s %8s %13s %11s %12s\n", "preset", "network", "blocks", "params", "MAdds", "peak memory");
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const auto& f : files) {
    auto g = io::load_graph(f);
    if (!g) {
      std::cerr << format_diagnostics(g.error(), f.string());
      rc = kExitInvalid;
      continue;
    }
    const auto a = cost::analyze(*g);
    if (!a.complete()) rc = kExitInvalid;
    if (format == "json") {
      j.push_back({{"preset", f.stem().string()},
                   {"name", g->name},
                   {"blocks", g->nodes.size()},
                   {"params", a.totals.params},
                   {"madds", a.totals.madds},
                   {"peak_memory_bytes", a.memory.peak_bytes},
                   {"complete", a.complete()}});
    } else {
      std::printf("%-26s %-40s %8zu %13s %11s %12s%s\n", f.stem().string().c_str(), g->name.substr(0, 40).c_str(),
                  g->nodes.size(), io::with_commas(a.totals.params).c_str(), io::human(a.totals.madds).c_str(),
                  io::human(a.memory.peak_bytes, true).c_str(), a.complete() ? "" : "  INVALID");
    }
  }
  if (format == "json") std::cout << j.dump(2) << "\n";
  return rc;
}

struct ProfileFlags {
  int threads = 1;
  bool json = false;
  double min_time = 0.5;
  int min_runs = 10;
  int warmup = 3;
  bool portable = false;
  std::int64_t memory_limit_mb = 4096;
  bool force_calibration = false;
  std::int64_t fuse_split = 0;
};

const kernels::KernelTable& pick_kernels(bool portable) {
  return portable ? kernels::kernels_for(kernels::Isa::Portable) : kernels::best_kernels();
}

int cmd_calibrate(const ProfileFlags& pf) {
  auto cal = profile::load_or_measure(pick_kernels(pf.portable), true);
  if (!cal) {
    std::cerr << format_diagnostics(cal.error(), "convscope-cli");
    return kExitUsage;
  }
  if (pf.json) {
    nlohmann::ordered_json j{{"cpu", cal->cpu},
                             {"isa", cal->isa},
                             {"cores", cal->cores},
                             {"peak_gflops_1", cal->peak_gflops_1},
                             {"peak_gflops_all", cal->peak_gflops_all},
                             {"cache_gbps", cal->cache_gbps},
                             {"l3_gbps", cal->l3_gbps},
                             {"dram_gbps", cal->dram_gbps},
                             {"measured_at", cal->measured_at},
                             {"cache_file", profile::cache_path().string()}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("cpu            %s (%d logical CPUs)\n", cal->cpu.c_str(), cal->cores);
  std::printf("kernels        %s\n", cal->isa.c_str());
  std::printf("peak FP32      %.1f GFLOP/s on one core, %.1f GFLOP/s on %d\n", cal->peak_gflops_1, cal->peak_gflops_all,
              cal->cores);
  std::printf("bandwidth      %.1f GB/s L2 (256 KiB buffer), %.1f GB/s L3 (8 MiB), %.1f GB/s DRAM (512 MiB)\n",
              cal->cache_gbps, cal->l3_gbps, cal->dram_gbps);
  std::printf("ridge point    %.1f FLOP/B (DRAM, one core)\n", cal->peak_gflops_1 / cal->dram_gbps);
  std::printf("saved to       %s\n", profile::cache_path().string().c_str());
  return 0;
}

int cmd_profile(const std::string& file, const CostFlags& flags, const ProfileFlags& pf) {
  auto l = load_and_analyze(file, flags);
  if (!l) return l.error();
  const auto& [shown, g, a, named] = *l;
  if (!a.complete()) {
    std::cerr << format_diagnostics(a.diagnostics, shown);
    return kExitInvalid;
  }
  const auto& kt = pick_kernels(pf.portable);
  const auto weights = runtime::Weights::with_named(g, a, named);
  runtime::PlanOptions po;
  po.threads = pf.threads;
  po.kernels = &kt;
  po.memory_limit_bytes = pf.memory_limit_mb << 20;
  po.split = pf.fuse_split;
  po.weights = &weights;
  auto plan = runtime::Plan::build(g, a, po);
  if (!plan) {
    std::cerr << format_diagnostics(plan.error(), "convscope-cli: " + shown);
    return kExitInvalid;
  }
  // Deterministic input values: latency does not depend on them.
  for (std::size_t i = 0; i < plan->n_inputs(); ++i) {
    float* x = plan->input(i);
    const std::int64_t n = plan->batch() * plan->input_shape(i).elements();
    for (std::int64_t k = 0; k < n; ++k) x[k] = static_cast<float>((k * 7919) % 2001) / 1000.f - 1.f;
  }
  auto cal = profile::load_or_measure(kt, pf.force_calibration);
  if (!cal) {
    std::cerr << format_diagnostics(cal.error(), "convscope-cli");
    return kExitUsage;
  }
  profile::ProfileOptions o;
  o.warmup = pf.warmup;
  o.min_runs = pf.min_runs;
  o.min_seconds = pf.min_time;
  const bool tty = ::isatty(2) != 0;
  if (tty)
    o.progress = [](double f) {
      const int w = 40, done = static_cast<int>(f * w);
      std::fprintf(stderr, "\rprofiling [%s%s] %3d%%", std::string(static_cast<std::size_t>(done), '#').c_str(),
                   std::string(static_cast<std::size_t>(w - done), ' ').c_str(), static_cast<int>(f * 100));
    };
  const auto r = profile::profile_plan(*plan, o);
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
  if (pf.json)
    std::cout << io::profile_json(g, a, *plan, r, *cal);
  else
    std::cout << io::profile_table(g, a, *plan, r, *cal);
  return 0;
}

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }

struct SweepFlags {
  std::string alphas, resolutions, out, pareto = "latency,params";
  std::vector<std::string> params;
  bool measure = false;
  int threads = 1;
  double min_time = 0.2;
};

int cmd_sweep(const std::string& file, const SweepFlags& sf) {
  Source src = open_graph(file);
  if (!src.graph) return print_load_error(src);
  const ir::Graph g = std::move(*src.graph);
  sweep::Spec spec;
  Diagnostics bad;
  if (!sf.alphas.empty()) {
    if (auto a = sweep::parse_alphas(sf.alphas))
      spec.alphas = *a;
    else
      bad.insert(bad.end(), a.error().begin(), a.error().end());
  }
  if (!sf.resolutions.empty()) {
    if (auto r = sweep::parse_resolutions(sf.resolutions))
      spec.resolutions = *r;
    else
      bad.insert(bad.end(), r.error().begin(), r.error().end());
  }
  for (const auto& text : sf.params) {
    if (auto axis = sweep::parse_param_axis(text))
      spec.params.push_back(*axis);
    else
      bad.insert(bad.end(), axis.error().begin(), axis.error().end());
  }
  const auto comma = sf.pareto.find(',');
  auto metric_of = [](const std::string& name, sweep::Metric& m) {
    if (name == "latency")
      m = sweep::Metric::Latency;
    else if (name == "madds")
      m = sweep::Metric::MAdds;
    else if (name == "params")
      m = sweep::Metric::Params;
    else if (name == "memory")
      m = sweep::Metric::PeakMemory;
    else
      return false;
    return true;
  };
  sweep::Metric mx = sweep::Metric::Latency, my = sweep::Metric::Params;
  if (comma == std::string::npos || !metric_of(sf.pareto.substr(0, comma), mx) ||
      !metric_of(sf.pareto.substr(comma + 1), my))
    bad.push_back({"--pareto", "expected X,Y from latency, madds, params, memory; got '" + sf.pareto + "'"});
  if (!bad.empty()) {
    std::cerr << format_diagnostics(bad, "convscope-cli");
    return kExitUsage;
  }
  if (auto ok = sweep::check(g, spec); !ok) {
    std::cerr << format_diagnostics(ok.error(), "convscope-cli: " + src.shown);
    return kExitUsage;
  }
  auto points = sweep::evaluate(g, spec);
  auto write_out = [&](const std::vector<sweep::Point>& pts) -> bool {
    if (sf.out.empty()) return true;
    std::vector<sweep::Point> copy = pts;
    sweep::fill_laws(copy);
    sweep::mark_pareto(copy, mx, my);
    const bool json = sf.out.size() >= 5 && sf.out.substr(sf.out.size() - 5) == ".json";
    auto w = io::write_file_atomic(sf.out, json ? sweep::to_json(spec, copy) : sweep::to_csv(spec, copy));
    if (!w) std::cerr << format_diagnostics(w.error(), "convscope-cli: " + sf.out);
    return w.has_value();
  };
  int rc = 0;
  if (sf.measure) {
    // Resume: keep what an earlier, interrupted run of the same grid measured.
    if (!sf.out.empty() && fs::exists(sf.out)) {
      std::ifstream in(sf.out);
      std::ostringstream ss;
      ss << in.rdbuf();
      std::size_t kept = 0;
      for (const auto& old : sweep::read_previous(ss.str(), spec))
        for (auto& p : points)
          if (p.valid && !p.median_ms && sweep::point_key(p) == sweep::point_key(old)) {
            p.median_ms = old.median_ms;
            p.min_ms = old.min_ms;
            p.p90_ms = old.p90_ms;
            ++kept;
          }
      if (kept) std::cerr << "convscope-cli: resuming: " << kept << " points already measured in " << sf.out << "\n";
    }
    std::signal(SIGINT, on_sigint);
    sweep::MeasureOptions mo;
    mo.threads = sf.threads;
    mo.min_seconds = sf.min_time;
    mo.cancel = &g_interrupted;
    const bool tty = ::isatty(2) != 0;
    mo.progress = [&](std::size_t done, std::size_t total) {
      if (!tty) return;
      const int w = 40, bar = static_cast<int>(static_cast<double>(done) /
                                               static_cast<double>(std::max<std::size_t>(total, 1)) * w);
      std::fprintf(stderr, "\rmeasuring [%s%s] %zu/%zu", std::string(static_cast<std::size_t>(bar), '#').c_str(),
                   std::string(static_cast<std::size_t>(w - bar), ' ').c_str(), done, total);
    };
    mo.checkpoint = [&](const std::vector<sweep::Point>& pts) { write_out(pts); };
    if (!sweep::measure(g, spec, points, mo)) {
      rc = 130;
      std::cerr << "\nconvscope-cli: interrupted; the points measured so far are kept"
                << (sf.out.empty() ? "" : " in " + sf.out + " (run the same command again to resume)") << "\n";
    } else if (tty) {
      std::fprintf(stderr, "\n");
    }
  }
  sweep::fill_laws(points);
  sweep::mark_pareto(points, mx, my);
  if (!sf.out.empty()) {
    if (!write_out(points)) return kExitUsage;
    std::cerr << "convscope-cli: " << points.size() << " points written to " << sf.out << "\n";
    return rc;
  }
  // A table on stdout.
  std::printf("%-6s %6s", "alpha", "res");
  for (const auto& a : spec.params) std::printf(" %12s", a.selector.substr(0, 12).c_str());
  std::printf(" %12s %12s %11s %10s %7s %9s %10s %10s\n", "params", "MAdds", "peak mem", "median ms", "pareto",
              "MAdds/law", "params/law", "lat/MAdds");
  for (const auto& p : points) {
    std::printf("%-6.3g %6lld", p.alpha, static_cast<long long>(p.resolution));
    for (const auto& v : p.values) std::printf(" %12s", ir::param_value_str(v).c_str());
    if (!p.valid) {
      std::printf("  invalid: %s\n", p.problem.c_str());
      continue;
    }
    std::printf(" %12s %12s %11s %10s %7s %9.3f %10.3f %10s\n", io::with_commas(p.params).c_str(),
                io::human(p.madds).c_str(), io::human(p.peak_memory_bytes, true).c_str(),
                p.median_ms ? std::to_string(*p.median_ms).substr(0, 7).c_str() : "-", p.pareto ? "*" : "", p.madds_law,
                p.params_law, p.latency_law > 0 ? std::to_string(p.latency_law).substr(0, 5).c_str() : "-");
  }
  std::printf(
      "\nlaws relative to the largest alpha and resolution: MAdds/law = (MAdds ratio) / (alpha^2 rho^2), "
      "params/law = (params ratio) / alpha^2, lat/MAdds = (latency ratio) / (MAdds ratio); 1.000 = the law holds\n");
  return rc;
}

int cmd_export(const std::string& file, const CostFlags& flags, const std::string& to, const std::string& out) {
  auto l = load_and_analyze(file, flags);
  if (!l) return l.error();
  const auto& [shown, g, a, named] = *l;
  const auto format = io::export_format_from_name(to);
  if (format == io::ExportFormat::Onnx && (out.empty() || out == "-")) {
    std::cerr << "convscope-cli: export --to onnx writes a binary file: give --out FILE.onnx\n";
    return kExitUsage;
  }
  auto bytes = io::export_design(g, a, *format, named);
  if (!bytes) {
    std::cerr << format_diagnostics(bytes.error(), shown);
    return kExitInvalid;
  }
  const std::string text = std::move(*bytes);
  if (out.empty() || out == "-") {
    std::cout << text;
    return 0;
  }
  if (auto w = io::write_file_atomic(out, text); !w) {
    std::cerr << format_diagnostics(w.error(), "convscope-cli: " + out);
    return kExitUsage;
  }
  return 0;
}

int cmd_conventions() {
  for (const auto& c : cost::named_conventions()) {
    std::cout << c.name << ": " << c.description << "\n";
    std::cout << "    bias " << (c.count_bias ? "counted" : "not counted") << ", batch norm "
              << cost::bn_counting_name(c.bn) << ", classifier " << (c.include_classifier ? "included" : "excluded")
              << (c.background_class ? ", +1 background class" : "") << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"convscope-cli: parameters, multiply-adds and memory of efficient CNN blocks and networks"};
  app.set_version_flag("--version", std::string("convscope-cli ") + CONVSCOPE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  std::string file, format = "table", in_shape;
  std::vector<std::string> files;
  bool ops = false, formulas = false, in_place = false, check = false;
  std::int64_t out_c = 0, stride = 1, kernel = 3;
  CostFlags flags;

  auto* stats = app.add_subcommand("stats", "per-layer table and totals of a graph file or preset");
  stats->add_option("FILE", file, "graph file (.json), preset name, or - for stdin")->required();
  stats->add_option("--format", format, "table, json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
  stats->add_flag("--ops", ops, "table: one row per primitive op instead of per block");
  stats->add_flag("--formulas", formulas, "table: each block's closed-form formula with its numbers filled in");
  flags.add_to(stats);

  auto* validate = app.add_subcommand("validate", "check graph files; print every problem with its path");
  validate->add_option("FILE", files, "graph files or preset names")->required();
  flags.add_to(validate);

  auto* blocks_cmd = app.add_subcommand("blocks", "every block kind with its parameters, ranges and formula");
  blocks_cmd->add_option("--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));

  auto* compare = app.add_subcommand("compare", "the block kinds side by side for one input and output shape");
  compare->add_option("--in", in_shape, "input shape HxWxC, e.g. 56x56x32")->required();
  compare->add_option("--out", out_c, "output channels")->required()->check(CLI::Range(1, 1 << 20));
  compare->add_option("--stride", stride, "stride")->check(CLI::Range(1, 16))->capture_default_str();
  compare->add_option("--kernel", kernel, "spatial kernel size k")->check(CLI::Range(1, 31))->capture_default_str();
  compare->add_option("--format", format, "table, json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
  flags.add_to(compare);

  auto* format_cmd = app.add_subcommand("format", "print graph files in canonical form");
  format_cmd->add_option("FILE", files, "graph files")->required();
  format_cmd->add_flag("-i,--in-place", in_place, "rewrite the files (atomically)");
  format_cmd->add_flag("--check", check, "exit 1 if a file is not in canonical form");

  auto* presets = app.add_subcommand("presets", "list the bundled presets with their totals");
  presets->add_option("--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));

  auto* conventions = app.add_subcommand("conventions", "list the named counting conventions");

  ProfileFlags pf;
  auto* profile_cmd =
      app.add_subcommand("profile", "run a graph on the CPU backend: measured latency per layer beside the roofline");
  profile_cmd->add_option("FILE", file, "graph file, preset name, or - for stdin")->required();
  profile_cmd->add_option("--threads", pf.threads, "worker threads (1 gives the most stable numbers)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  profile_cmd->add_flag("--json", pf.json, "print one JSON object (network, machine, layers, blocks)");
  profile_cmd->add_option("--min-time", pf.min_time, "seconds per phase (whole network, then per layer)")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  profile_cmd->add_option("--min-runs", pf.min_runs, "runs per phase at least")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  profile_cmd->add_option("--warmup", pf.warmup, "warm-up runs")->check(CLI::Range(0, 1000))->capture_default_str();
  profile_cmd->add_flag("--portable", pf.portable, "use the portable kernels instead of the best for this CPU");
  profile_cmd->add_option("--memory-limit", pf.memory_limit_mb, "refuse plans needing more than this many MiB")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  profile_cmd->add_flag("--recalibrate", pf.force_calibration, "measure the machine's ceilings again first");
  profile_cmd
      ->add_option("--fuse-bottleneck", pf.fuse_split,
                   "run each expand -> depthwise -> project chain as one step over T channel slices "
                   "(the t-way split: the expanded tensor never exists whole); 0 = op by op")
      ->check(CLI::Range(0, 1 << 20));
  flags.add_to(profile_cmd);

  SweepFlags sf;
  auto* sweep_cmd = app.add_subcommand(
      "sweep", "costs (and measured latency) over a grid of width multiplier, resolution and block parameters");
  sweep_cmd->add_option("FILE", file, "graph file or preset name")->required();
  sweep_cmd->add_option("--alpha", sf.alphas, "width multipliers, e.g. 0.35,0.5,0.75,1.0,1.4");
  sweep_cmd->add_option("--resolution", sf.resolutions,
                        "resolutions: START:STOP:STEP (inclusive) or a list, e.g. 96:224:32");
  sweep_cmd->add_option(
      "--param", sf.params,
      "NAME=V1,V2 where NAME is a parameter (every block that has it), kind.param or block_id.param; repeatable");
  sweep_cmd->add_flag("--measure", sf.measure,
                      "also measure each point's latency on the CPU backend (resumable with --out)");
  sweep_cmd->add_option("--threads", sf.threads, "threads for --measure")->check(CLI::Range(1, 256));
  sweep_cmd->add_option("--min-time", sf.min_time, "seconds of timing per point")->check(CLI::Range(0.0, 600.0));
  sweep_cmd
      ->add_option("--pareto", sf.pareto, "the front to mark: X,Y from latency, madds, params, memory (both minimised)")
      ->capture_default_str();
  sweep_cmd->add_option("--out", sf.out,
                        "write the results to FILE.csv or FILE.json (atomic; checkpointed while measuring)");

  std::string export_to, export_out;
  auto* export_cmd = app.add_subcommand("export",
                                        "write the graph for other tools: ONNX (opset 14, with weights), PyTorch code, "
                                        "Graphviz DOT, per-layer CSV, graph JSON");
  export_cmd->add_option("FILE", file, "graph file or preset name")->required();
  export_cmd->add_option("--to", export_to, "onnx, pytorch, dot, csv or json")
      ->required()
      ->check(CLI::IsMember({"onnx", "dot", "pytorch", "csv", "json"}));
  export_cmd->add_option("--out", export_out, "output file (atomic); standard output when absent");
  flags.add_to(export_cmd);

  auto* calibrate_cmd = app.add_subcommand("calibrate", "measure this machine's peak FLOP/s and bandwidth (cached)");
  calibrate_cmd->add_flag("--json", pf.json, "print JSON");
  calibrate_cmd->add_flag("--portable", pf.portable, "calibrate the portable kernels");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "convscope-cli: " << e.what() << "\nRun 'convscope-cli --help' for usage.\n";
    return kExitUsage;
  }

  try {
    if (*stats) return cmd_stats(file, flags, format, ops, formulas);
    if (*validate) return cmd_validate(files, flags);
    if (*blocks_cmd) return cmd_blocks(format);
    if (*compare) return cmd_compare(in_shape, out_c, stride, kernel, format, flags);
    if (*format_cmd) return cmd_format(files, in_place, check);
    if (*presets) return cmd_presets(format);
    if (*conventions) return cmd_conventions();
    if (*profile_cmd) return cmd_profile(file, flags, pf);
    if (*calibrate_cmd) return cmd_calibrate(pf);
    if (*sweep_cmd) return cmd_sweep(file, sf);
    if (*export_cmd) return cmd_export(file, flags, export_to, export_out);
  } catch (const std::exception& e) {
    // Nothing should reach here; if it does, say so instead of aborting.
    std::cerr << "convscope-cli: internal error: " << e.what() << "\n";
    return 70;
  }
  return kExitUsage;
}
