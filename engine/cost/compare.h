#pragma once
/// Side-by-side comparison of the block kinds for one input shape, output
/// channel count and stride: each kind that can produce that mapping is built
/// into a two-node graph and analyzed like any other graph.

#include <cstdint>
#include <string>
#include <vector>

#include "cost/analysis.h"

namespace convscope::cost {

struct CompareRow {
  std::string kind;  ///< registry name
  std::string title;
  ir::ParamMap params;  ///< the block's parameters
  bool ok = false;
  std::string problem;  ///< why the kind could not be evaluated
  Totals totals;
  std::int64_t peak_memory_bytes = 0;
  ir::Shape out;
  std::string formula;     ///< filled-in closed form
  double madds_ratio = 0;  ///< to the standard convolution
  double params_ratio = 0;
  std::string theory;       ///< the paper's ratio to standard conv, when it has one
  double theory_ratio = 0;  ///< its value (0 when none)
};

/// The two-block graph a comparison row is evaluated on: an input of shape `in`
/// feeding one block of `kind` with `params` (the app profiles these).
ir::Graph compare_graph(const ir::Shape& in, const std::string& kind, const ir::ParamMap& params);

/// Evaluates every block kind with a compare configuration for input `in`.
/// Ratios are taken to the kind marked compare_reference (standard convolution).
std::vector<CompareRow> compare_blocks(const ir::Shape& in, std::int64_t out_c, std::int64_t stride,
                                       std::int64_t kernel, const AnalysisOptions& options = {});

}  // namespace convscope::cost
