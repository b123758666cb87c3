// convscope-cli calibrate: this machine's peak FLOP/s and bandwidths (cached), the ceilings of the roofline.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "common.h"
#include "profile/calibration.h"

namespace convscope::cli {

namespace {
struct Options {
  std::string isa = "auto";
  bool json = false, portable = false;
};

int run(const Options& o) {
  auto kt = pick_kernels(o.isa, o.portable);
  if (!kt) return kt.error();
  auto cal = profile::load_or_measure(**kt, true);
  if (!cal) {
    std::cerr << format_diagnostics(cal.error(), "convscope-cli");
    return kExitUsage;
  }
  if (o.json) {
    nlohmann::ordered_json j{{"cpu", cal->cpu},
                             {"isa", cal->isa},
                             {"cores", cal->cores},
                             {"peak_gflops_1", cal->peak_gflops_1},
                             {"peak_gflops_all", cal->peak_gflops_all},
                             {"cache_gbps", cal->cache_gbps},
                             {"l3_gbps", cal->l3_gbps},
                             {"dram_gbps", cal->dram_gbps},
                             {"measured_at", cal->measured_at},
                             {"cache_file", profile::cache_path().string()}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("cpu            %s (%d logical CPUs)\n", cal->cpu.c_str(), cal->cores);
  std::printf("kernels        %s\n", cal->isa.c_str());
  std::printf("peak FP32      %.1f GFLOP/s on one core, %.1f GFLOP/s on %d\n", cal->peak_gflops_1, cal->peak_gflops_all,
              cal->cores);
  std::printf("bandwidth      %.1f GB/s L2 (256 KiB buffer), %.1f GB/s L3 (8 MiB), %.1f GB/s DRAM (512 MiB)\n",
              cal->cache_gbps, cal->l3_gbps, cal->dram_gbps);
  std::printf("ridge point    %.1f FLOP/B (DRAM, one core)\n", cal->peak_gflops_1 / cal->dram_gbps);
  std::printf("saved to       %s\n", profile::cache_path().string().c_str());
  return 0;
}
}  // namespace

Command add_calibrate(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("calibrate", "measure this machine's peak FLOP/s and bandwidth (cached)");
  cmd->add_flag("--json", o->json, "print JSON");
  add_isa_option(cmd, o->isa);
  cmd->add_flag("--portable", o->portable, "calibrate the portable kernels (same as --isa portable)");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace convscope::cli
