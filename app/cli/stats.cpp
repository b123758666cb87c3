// convscope-cli stats: the per-block (or per-op) table and totals of one graph.
#include <iostream>

#include "command.h"
#include "common.h"
#include "io/report.h"

namespace convscope::cli {

namespace {
struct Options {
  std::string file, format = "table";
  bool ops = false, formulas = false;
  CostFlags flags;
};

int run(const Options& o) {
  auto l = load_and_analyze(o.file, o.flags);
  if (!l) return l.error();
  const auto& [shown, g, a, named] = *l;
  if (o.format == "json")
    std::cout << io::report_json(g, a);
  else if (o.format == "csv")
    std::cout << io::report_csv(g, a);
  else
    std::cout << io::report_table(g, a, {.ops = o.ops, .formulas = o.formulas});
  if (!a.complete()) {
    std::cerr << format_diagnostics(a.diagnostics, shown);
    return kExitInvalid;
  }
  return 0;
}
}  // namespace

Command add_stats(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("stats", "per-layer table and totals of a graph file or preset");
  cmd->add_option("FILE", o->file, "graph file (.json), ONNX model, preset name, or - for stdin")->required();
  cmd->add_option("--format", o->format, "table, json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
  cmd->add_flag("--ops", o->ops, "table: one row per primitive op instead of per block");
  cmd->add_flag("--formulas", o->formulas, "table: each block's closed-form formula with its numbers filled in");
  o->flags.add_to(cmd);
  return {cmd, [o] { return run(*o); }};
}

}  // namespace convscope::cli
