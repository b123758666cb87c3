// convscope-cli compress: Deep Compression's sizes on the model's real weights
// (an ONNX model's, or the engine's deterministic ones), and the output drift.
#include <iostream>

#include "command.h"
#include "common.h"
#include "compress/deep_compression.h"
#include "io/compress_report.h"

namespace convscope::cli {

namespace {
struct Options {
  std::string file;
  CostFlags flags;
  double prune = 0;
  std::vector<std::string> prune_layer;
  std::string bits = "conv=8,fc=5";
  std::string index_bits = "conv=8,fc=5";
  int inputs = 4;
  std::string format = "table";
};

/// "conv=8,fc=5" (either part may be left out) into the two numbers.
bool parse_bits(const std::string& text, int& conv, int& fc, std::string& why) {
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find(',', at), text.size());
    const std::string part = text.substr(at, end - at);
    const std::size_t eq = part.find('=');
    const std::string key = eq == std::string::npos ? "" : part.substr(0, eq);
    int v = 0;
    try {
      std::size_t used = 0;
      v = std::stoi(part.substr(eq + 1), &used);
      if (used != part.size() - eq - 1) throw std::invalid_argument(part);
    } catch (const std::exception&) {
      why = "expected conv=N,fc=N, got \"" + text + "\"";
      return false;
    }
    if (key == "conv")
      conv = v;
    else if (key == "fc")
      fc = v;
    else {
      why = "expected conv=N,fc=N, got \"" + text + "\"";
      return false;
    }
    at = end + 1;
  }
  return true;
}

int run(const Options& o) {
  compress::Options co;
  co.prune = o.prune;
  std::string why;
  if (!parse_bits(o.bits, co.conv_bits, co.fc_bits, why)) {
    std::cerr << "convscope-cli: --bits: " << why << "\n";
    return kExitUsage;
  }
  if (!parse_bits(o.index_bits, co.conv_index_bits, co.fc_index_bits, why)) {
    std::cerr << "convscope-cli: --index-bits: " << why << "\n";
    return kExitUsage;
  }
  for (const auto& p : o.prune_layer) {
    const auto eq = p.find('=');
    double r = -1;
    try {
      std::size_t used = 0;
      if (eq != std::string::npos) r = std::stod(p.substr(eq + 1), &used);
      if (eq == std::string::npos || used != p.size() - eq - 1) throw std::invalid_argument(p);
    } catch (const std::exception&) {
      std::cerr << "convscope-cli: --prune-layer: expected ID=RATIO, got \"" << p << "\"\n";
      return kExitUsage;
    }
    co.prune_layer[p.substr(0, eq)] = r;
  }
  auto l = load_complete(o.file, o.flags);
  if (!l) return l.error();
  const auto& [shown, g, a, named] = *l;
  if (auto ok = compress::check_options(co, g, a); !ok) {
    std::cerr << format_diagnostics(ok.error(), "convscope-cli: --");
    return kExitUsage;
  }
  if (auto fits = runtime::check_weight_memory(a, std::int64_t{4} << 30); !fits) {
    std::cerr << format_diagnostics(fits.error(), "convscope-cli: " + shown);
    return kExitInvalid;
  }
  const auto weights = runtime::Weights::with_named(g, a, named);
  auto r = compress::deep_compress(g, a, weights, co, o.inputs);
  if (!r) {
    std::cerr << format_diagnostics(r.error(), "convscope-cli: " + shown);
    return kExitInvalid;
  }
  const std::string title = shown + (named.empty() ? " (the engine's deterministic weights)" : " (the model's weights)");
  std::cout << (o.format == "json" ? io::compress_report_json(*r, title) : io::compress_report_text(*r, title));
  return 0;
}
}  // namespace

Command add_compress(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("compress",
                                 "Deep Compression on the model's weights: sizes after pruning, weight sharing and "
                                 "Huffman coding, per layer and in total, and the output drift");
  cmd->add_option("FILE", o->file, "graph file, ONNX model (its weights are used) or preset name")->required();
  cmd->add_option("--prune", o->prune, "share of every layer's weights removed, smallest magnitudes first, in [0, 1)");
  cmd->add_option("--prune-layer", o->prune_layer, "ID=RATIO for one block (or block/op); repeatable");
  cmd->add_option("--bits", o->bits, "shared-weight code bits, conv=N,fc=N (1..16; the paper's 8 and 5)");
  cmd->add_option("--index-bits", o->index_bits, "relative-index bits, conv=N,fc=N (1..16; the paper's 8 and 5)");
  cmd->add_option("--inputs", o->inputs, "random inputs for the output drift (0 skips running)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--format", o->format, "table or json")->check(CLI::IsMember({"table", "json"}));
  o->flags.add_to(cmd);
  return {cmd, [o] { return run(*o); }};
}

}  // namespace convscope::cli
