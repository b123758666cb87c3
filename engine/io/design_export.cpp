#include "io/design_export.h"

#include "io/export.h"
#include "io/graph_json.h"
#include "io/onnx_export.h"
#include "io/report.h"

namespace convscope::io {

std::string_view export_format_name(ExportFormat f) {
  switch (f) {
    case ExportFormat::Onnx:
      return "onnx";
    case ExportFormat::PyTorch:
      return "pytorch";
    case ExportFormat::Dot:
      return "dot";
    case ExportFormat::Csv:
      return "csv";
    case ExportFormat::Json:
      return "json";
  }
  return "?";
}

std::optional<ExportFormat> export_format_from_name(std::string_view name) {
  for (auto f : {ExportFormat::Onnx, ExportFormat::PyTorch, ExportFormat::Dot, ExportFormat::Csv, ExportFormat::Json})
    if (export_format_name(f) == name) return f;
  return std::nullopt;
}

std::optional<ExportFormat> export_format_for_path(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".onnx") return ExportFormat::Onnx;
  if (ext == ".py") return ExportFormat::PyTorch;
  if (ext == ".dot" || ext == ".gv") return ExportFormat::Dot;
  if (ext == ".csv") return ExportFormat::Csv;
  if (ext == ".json") return ExportFormat::Json;
  return std::nullopt;
}

Result<std::string> export_design(const ir::Graph& g, const cost::Analysis& a, ExportFormat format,
                                  const std::map<std::string, runtime::OpWeights>& named) {
  const bool needs_valid =
      format == ExportFormat::Onnx || format == ExportFormat::PyTorch || format == ExportFormat::Csv;
  if (needs_valid && !a.complete()) {
    Diagnostics d = a.diagnostics;
    d.push_back({"", "export to " + std::string(export_format_name(format)) + " needs a valid graph"});
    return tl::unexpected(std::move(d));
  }
  switch (format) {
    case ExportFormat::Onnx:
      // The weights are written into the file: refuse more than 4 GiB of them (protobuf's limit is 2 GiB anyway).
      if (auto fits = runtime::check_weight_memory(a, std::int64_t{4} << 30); !fits)
        return tl::unexpected(fits.error());
      return to_onnx(g, a, runtime::Weights::with_named(g, a, named));
    case ExportFormat::PyTorch:
      return to_pytorch(g, a);
    case ExportFormat::Dot:
      return to_dot(g, a);
    case ExportFormat::Csv:
      return report_csv(g, a);
    case ExportFormat::Json:
      return graph_to_json(g);
  }
  return fail("", "unknown export format");
}

}  // namespace convscope::io
