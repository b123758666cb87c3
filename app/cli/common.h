#pragma once
/// What several convscope-cli commands share: opening a FILE argument (graph
/// file, ONNX model, preset name or standard input), the cost flags, and the
/// exit codes.

#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "cost/analysis.h"
#include "ir/graph.h"
#include "kernels/kernels.h"
#include "profile/latency_model.h"
#include "runtime/weights.h"
#include "util/result.h"

namespace convscope::cli {

/// Exit codes: 0 success, 1 the graph has problems, 2 bad usage or unreadable input.
constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;

/// A file path (.json graph or .onnx model), "-" for standard input, or the
/// name of a preset ("mobilenet_v2").
struct Source {
  std::string shown;  ///< what messages call it
  Result<ir::Graph> graph;
  std::map<std::string, runtime::OpWeights> weights;  ///< an imported model's weights, by "<block>/<op>"
};
Source open_graph(const std::string& arg);
/// Prints why a source did not open; returns kExitUsage.
int print_load_error(const Source& s);

/// The options that change what is counted (every command that analyses a graph).
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

  void add_to(CLI::App* cmd);
  /// Applies the overrides; returns an error message or empty.
  std::string apply(ir::Graph& g, cost::AnalysisOptions& o) const;
};

struct Loaded {
  std::string shown;
  ir::Graph graph;
  cost::Analysis analysis;
  std::map<std::string, runtime::OpWeights> weights;  ///< imported weights (ONNX), else empty
};
/// Opens FILE, applies the flags and analyzes it; on failure prints why and
/// returns the exit code instead.
tl::expected<Loaded, int> load_and_analyze(const std::string& file, const CostFlags& flags);
/// load_and_analyze, and the graph must be complete (no invalid block): what a
/// command that runs or transforms the network needs; else prints every problem
/// and returns kExitInvalid.
tl::expected<Loaded, int> load_complete(const std::string& file, const CostFlags& flags);

/// The kernel table for --isa (auto, avx512, avx2, portable; --portable is the same as
/// --isa portable); on failure prints why and returns kExitUsage.
tl::expected<const kernels::KernelTable*, int> pick_kernels(const std::string& isa, bool portable = false);
/// Adds --isa NAME to a command.
/// `extra`: one more accepted value besides the table names (calibrate's "all").
void add_isa_option(CLI::App* cmd, std::string& isa, const std::string& extra = {});

/// The latency model for these kernels and threads: the cached one, else a
/// calibration now (about 10 s; a progress line on a terminal, and why on
/// stderr). Failure is printed and gives nullopt. `round_trip` (ns, 0:
/// unbounded): the placement of the cores a calibration waits for
/// (LatencyCalibrationOptions::min_round_trip_ns, max_round_trip_ns).
std::optional<profile::LatencyModel> latency_model(const kernels::KernelTable& kt, int threads, bool force = false,
                                                   std::vector<profile::Sample>* samples = nullptr,
                                                   std::pair<double, double> round_trip = {0, 0});

}  // namespace convscope::cli
