// convscope-cli validate: checks graph files, printing every problem with its path.
#include <iostream>

#include "command.h"
#include "common.h"
#include "io/report.h"

namespace convscope::cli {

namespace {
struct Options {
  std::vector<std::string> files;
  CostFlags flags;
};

int run(const Options& o) {
  int rc = 0;
  for (const auto& file : o.files) {
    auto l = load_and_analyze(file, o.flags);
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
}  // namespace

Command add_validate(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("validate", "check graph files; print every problem with its path");
  cmd->add_option("FILE", o->files, "graph files, ONNX models or preset names")->required();
  o->flags.add_to(cmd);
  return {cmd, [o] { return run(*o); }};
}

}  // namespace convscope::cli
