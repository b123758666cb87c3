#pragma once
/// What both fuzz harnesses do with a graph that loaded: analyse it, check that
/// its canonical text loads back to the same totals, and export it. A finding is
/// a sanitizer report, a crash, a hang, or one of the checks below failing
/// (reported with the reason, then abort, so libFuzzer saves the input).

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cost/analysis.h"
#include "io/export.h"
#include "io/graph_json.h"
#include "io/onnx_export.h"
#include "ir/graph.h"
#include "runtime/weights.h"

namespace convscope::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

/// Weights are made (and the ONNX exporter run) only for graphs this small, so
/// one input stays well under a millisecond-scale budget.
inline constexpr std::int64_t kExportWeightLimit = std::int64_t{4} << 20;

/// A refused input must say why: at least one diagnostic, none of them empty.
inline void check_refusal(const Diagnostics& diags) {
  if (diags.empty()) finding("input refused without a message");
  for (const auto& d : diags)
    if (d.message.empty()) finding("input refused with an empty message at '" + d.where + "'");
}

inline void exercise(const ir::Graph& graph) {
  const cost::Analysis a = cost::analyze(graph);
  if (a.complete() && a.totals.madds < 0) finding("negative multiply-adds on a complete graph");
  if (a.memory.peak_bytes < 0) finding("negative peak memory");

  // Saving and loading again must keep the graph: same validity, same totals.
  const std::string text = io::graph_to_json(graph);
  auto again = io::graph_from_json(text);
  if (!again) finding("the canonical text of a loaded graph does not load: " + format_diagnostics(again.error()));
  const cost::Analysis b = cost::analyze(*again);
  if (a.complete() != b.complete() || a.totals.madds != b.totals.madds || a.totals.params != b.totals.params)
    finding("a graph and its canonical text analyse differently");
  if (io::graph_to_json(*again) != text) finding("the canonical text is not stable under load and save");

  if (!a.complete()) return;
  (void)io::to_dot(graph, a);
  (void)io::to_pytorch(graph, a);
  if (!runtime::check_weight_memory(a, kExportWeightLimit)) return;
  const auto weights = runtime::Weights::generate(graph, a);
  (void)io::to_onnx(graph, a, weights);
}

}  // namespace convscope::fuzz
