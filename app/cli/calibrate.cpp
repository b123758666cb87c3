// convscope-cli calibrate: this machine's peak FLOP/s and bandwidths (cached), the ceilings of the roofline.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "common.h"
#include "kernels/kernels.h"
#include "profile/calibration.h"

namespace convscope::cli {

namespace {
struct Options {
  std::string isa = "all";
  bool json = false, portable = false;
};

int run(const Options& o) {
  // Every table this CPU runs (each has its own FMA peak and read bandwidth), or the one asked for.
  std::vector<const kernels::KernelTable*> tables;
  if (o.isa == "all" && !o.portable) {
    for (kernels::Isa isa : kernels::available_isas()) tables.push_back(&kernels::kernels_for(isa));
  } else {
    auto kt = pick_kernels(o.isa, o.portable);
    if (!kt) return kt.error();
    tables.push_back(*kt);
  }
  std::vector<profile::Calibration> cals;
  for (const auto* kt : tables) {
    auto cal = profile::load_or_measure(*kt, true);
    if (!cal) {
      std::cerr << format_diagnostics(cal.error(), "convscope-cli");
      return kExitUsage;
    }
    cals.push_back(*cal);
  }
  const std::string used = kernels::isa_name(kernels::best_kernels().isa);
  if (o.json) {
    nlohmann::ordered_json j{{"cpu", cals.front().cpu},
                             {"cores", cals.front().cores},
                             {"kernels_used", used},
                             {"cache_file", profile::cache_path().string()},
                             {"tables", nlohmann::ordered_json::array()}};
    for (const auto& c : cals)
      j["tables"].push_back({{"isa", c.isa},
                             {"peak_gflops_1", c.peak_gflops_1},
                             {"peak_gflops_all", c.peak_gflops_all},
                             {"cache_gbps", c.cache_gbps},
                             {"l3_gbps", c.l3_gbps},
                             {"dram_gbps", c.dram_gbps},
                             {"measured_at", c.measured_at}});
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("cpu            %s (%d logical CPUs)\n", cals.front().cpu.c_str(), cals.front().cores);
  for (const auto& c : cals) {
    std::printf("\nkernels        %s%s\n", c.isa.c_str(), c.isa == used ? "  (what profile and the app run)" : "");
    std::printf("peak FP32      %.1f GFLOP/s on one core, %.1f GFLOP/s on %d\n", c.peak_gflops_1, c.peak_gflops_all,
                c.cores);
    std::printf("bandwidth      %.1f GB/s L2 (256 KiB buffer), %.1f GB/s L3 (8 MiB), %.1f GB/s DRAM (512 MiB)\n",
                c.cache_gbps, c.l3_gbps, c.dram_gbps);
    std::printf("ridge point    %.1f FLOP/B (DRAM, one core)\n", c.peak_gflops_1 / c.dram_gbps);
  }
  std::printf("\nsaved to       %s\n", profile::cache_path().string().c_str());
  return 0;
}
}  // namespace

Command add_calibrate(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "calibrate", "measure this machine's peak FLOP/s and bandwidths for every kernel table it runs (cached)");
  cmd->add_flag("--json", o->json, "print JSON");
  add_isa_option(cmd, o->isa, "all");
  cmd->add_flag("--portable", o->portable, "calibrate the portable kernels only (same as --isa portable)");
  return {cmd, [o] { return run(*o); }};
}
}  // namespace convscope::cli
