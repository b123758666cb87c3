#pragma once
/// One entry point for every export of a design, shared by `convscope-cli
/// export` and the app's File > Export: ONNX (with the engine's weights, or the
/// imported ones), PyTorch source, Graphviz DOT, the per-layer CSV report, and
/// the graph file itself.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cost/analysis.h"
#include "ir/graph.h"
#include "runtime/weights.h"
#include "util/result.h"

namespace convscope::io {

enum class ExportFormat { Onnx, PyTorch, Dot, Csv, Json };

/// "onnx", "pytorch", "dot", "csv", "json".
std::string_view export_format_name(ExportFormat f);
std::optional<ExportFormat> export_format_from_name(std::string_view name);
/// By suffix: .onnx, .py, .dot / .gv, .csv, .json.
std::optional<ExportFormat> export_format_for_path(const std::filesystem::path& path);

/// The exported bytes. ONNX and PyTorch need a valid graph (every block valid);
/// the error then lists the problems. `named` are weights by "<block>/<op>"
/// (an imported model's); ops without one get the deterministic generated weights.
Result<std::string> export_design(const ir::Graph& g, const cost::Analysis& a, ExportFormat format,
                                  const std::map<std::string, runtime::OpWeights>& named = {});

}  // namespace convscope::io
