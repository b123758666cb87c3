// convscope-cli presets: the bundled presets with their totals.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "common.h"
#include "io/graph_json.h"
#include "io/presets.h"
#include "io/report.h"

namespace convscope::cli {

namespace {
int run(const std::string& format) {
  const auto files = io::preset_files();
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
                   {"complete", a.complete()},
                   {"file", f.string()}});
    } else {
      std::printf("%-26s %-40s %8zu %13s %11s %12s%s\n", f.stem().string().c_str(), g->name.substr(0, 40).c_str(),
                  g->nodes.size(), io::with_commas(a.totals.params).c_str(), io::human(a.totals.madds).c_str(),
                  io::human(a.memory.peak_bytes, true).c_str(), a.complete() ? "" : "  INVALID");
    }
  }
  if (format == "json") std::cout << j.dump(2) << "\n";
  return rc;
}
}  // namespace

Command add_presets(CLI::App& app) {
  auto format = std::make_shared<std::string>("table");
  auto* cmd = app.add_subcommand("presets", "list the bundled presets with their totals");
  cmd->add_option("--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
  return {cmd, [format] { return run(*format); }};
}

}  // namespace convscope::cli
