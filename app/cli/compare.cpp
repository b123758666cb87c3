// convscope-cli compare: the block kinds side by side for one input and output shape.
#include <iostream>
#include <regex>

#include "command.h"
#include "common.h"
#include "cost/compare.h"
#include "io/report.h"

namespace convscope::cli {

namespace {
struct Options {
  std::string in_shape, format = "table";
  std::int64_t out_c = 0, stride = 1, kernel = 3;
  CostFlags flags;
};

int run(const Options& o) {
  static const std::regex shape_re(R"((\d+)x(\d+)x(\d+))");
  std::smatch m;
  if (!std::regex_match(o.in_shape, m, shape_re)) {
    std::cerr << "convscope-cli: --in: expected HxWxC such as 56x56x32, got '" << o.in_shape << "'\n";
    return kExitUsage;
  }
  ir::Shape in;
  try {
    in = {std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3])};
  } catch (const std::exception&) {
    std::cerr << "convscope-cli: --in: number out of range in '" << o.in_shape << "'\n";
    return kExitUsage;
  }
  if (!in.valid() || in.h > (1 << 20) || in.w > (1 << 20) || in.c > (1 << 20)) {
    std::cerr << "convscope-cli: --in: each of H, W, C must be in 1..1048576, got " << in.str() << "\n";
    return kExitUsage;
  }
  ir::Graph dummy;
  cost::AnalysisOptions options;
  if (auto err = o.flags.apply(dummy, options); !err.empty()) {
    std::cerr << "convscope-cli: " << err << "\n";
    return kExitUsage;
  }
  const auto rows = cost::compare_blocks(in, o.out_c, o.stride, o.kernel, options);
  if (o.format == "json")
    std::cout << io::compare_json(rows, in, o.out_c, o.stride, o.kernel);
  else if (o.format == "csv")
    std::cout << io::compare_csv(rows);
  else
    std::cout << io::compare_table(rows, in, o.out_c, o.stride, o.kernel);
  return 0;
}
}  // namespace

Command add_compare(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("compare", "the block kinds side by side for one input and output shape");
  cmd->add_option("--in", o->in_shape, "input shape HxWxC, e.g. 56x56x32")->required();
  cmd->add_option("--out", o->out_c, "output channels")->required()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--stride", o->stride, "stride")->check(CLI::Range(1, 16))->capture_default_str();
  cmd->add_option("--kernel", o->kernel, "spatial kernel size k")->check(CLI::Range(1, 31))->capture_default_str();
  cmd->add_option("--format", o->format, "table, json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
  o->flags.add_to(cmd);
  return {cmd, [o] { return run(*o); }};
}

}  // namespace convscope::cli
