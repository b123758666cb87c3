// convscope-cli format: prints (or rewrites, atomically) graph files in canonical form,
// optionally with layer-by-layer chains merged into blocks (--recognize-blocks).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "command.h"
#include "common.h"
#include "io/graph_json.h"
#include "passes/recognize.h"

namespace convscope::cli {

namespace fs = std::filesystem;

namespace {
struct Options {
  std::vector<std::string> files;
  bool in_place = false, check = false, recognize = false;
};

int run(const Options& o) {
  int rc = 0;
  for (const auto& file : o.files) {
    if (o.in_place && (file == "-" || fs::path(file).extension() == ".onnx")) {
      std::cerr << "convscope-cli: " << file
                << (file == "-" ? ": standard input cannot be rewritten in place\n"
                                : ": an ONNX model is not rewritten in place (it would become graph JSON and lose its "
                                  "weights); write the graph with: convscope-cli export " +
                                      file + " --to json --out FILE.json\n");
      rc = kExitUsage;
      continue;
    }
    Source src = open_graph(file);
    if (!src.graph) {
      rc = std::max(rc, print_load_error(src));
      continue;
    }
    if (o.recognize) passes::recognize_blocks(*src.graph);
    const std::string text = io::graph_to_json(*src.graph);
    if (o.check || o.in_place) {
      std::ifstream f(src.shown, std::ios::binary);
      std::ostringstream ss;
      ss << f.rdbuf();
      const bool same = ss.str() == text;
      if (o.check && !same) {
        std::cerr << src.shown << ": not in canonical form (run convscope-cli format --in-place)\n";
        rc = std::max(rc, kExitInvalid);
      }
      if (o.in_place && !same) {
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
}  // namespace

Command add_format(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("format", "print graph files in canonical form");
  cmd->add_option("FILE", o->files, "graph files")->required();
  cmd->add_flag("-i,--in-place", o->in_place, "rewrite the files (atomically)");
  cmd->add_flag("--check", o->check, "exit 1 if a file is not in canonical form");
  cmd->add_flag("--recognize-blocks", o->recognize,
                "merge layer-by-layer chains into blocks (separable, inverted residual, fire, Inception), "
                "as ONNX import does; costs stay the same");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace convscope::cli
