// convscope-cli export: the graph for other tools (ONNX, PyTorch code, DOT, CSV, graph JSON).
#include <iostream>

#include "command.h"
#include "common.h"
#include "io/design_export.h"
#include "io/graph_json.h"

namespace convscope::cli {

namespace {
struct Options {
  std::string file, to, out;
  CostFlags flags;
};

int run(const Options& o) {
  auto l = load_and_analyze(o.file, o.flags);
  if (!l) return l.error();
  const auto& [shown, g, a, named] = *l;
  const auto format = io::export_format_from_name(o.to);
  if (format == io::ExportFormat::Onnx && (o.out.empty() || o.out == "-")) {
    std::cerr << "convscope-cli: export --to onnx writes a binary file: give --out FILE.onnx\n";
    return kExitUsage;
  }
  auto bytes = io::export_design(g, a, *format, named);
  if (!bytes) {
    std::cerr << format_diagnostics(bytes.error(), shown);
    return kExitInvalid;
  }
  if (o.out.empty() || o.out == "-") {
    std::cout << *bytes;
    return 0;
  }
  if (auto w = io::write_file_atomic(o.out, *bytes); !w) {
    std::cerr << format_diagnostics(w.error(), "convscope-cli: " + o.out);
    return kExitUsage;
  }
  return 0;
}
}  // namespace

Command add_export(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("export",
                                 "write the graph for other tools: ONNX (opset 14, with weights), PyTorch code, "
                                 "Graphviz DOT, per-layer CSV, graph JSON");
  cmd->add_option("FILE", o->file, "graph file, ONNX model or preset name")->required();
  cmd->add_option("--to", o->to, "onnx, pytorch, dot, csv or json")
      ->required()
      ->check(CLI::IsMember({"onnx", "dot", "pytorch", "csv", "json"}));
  cmd->add_option("--out", o->out, "output file (atomic); standard output when absent");
  o->flags.add_to(cmd);
  return {cmd, [o] { return run(*o); }};
}

}  // namespace convscope::cli
