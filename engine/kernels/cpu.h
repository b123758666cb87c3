#pragma once
/// What this CPU is and which instruction set the kernels use.

#include <string>
#include <string_view>
#include <vector>

namespace convscope::kernels {

enum class Isa { Portable, Avx2, Avx512 };

struct CpuInfo {
  std::string model;  ///< e.g. "AMD EPYC 7B13" from /proc/cpuinfo
  bool avx2 = false;    ///< AVX2 and FMA both present
  bool avx512 = false;  ///< AVX-512 F, VL, BW and DQ (Skylake-SP and later, Zen 4 and later)
  int logical_cpus = 1;
};

/// Detected once.
const CpuInfo& cpu_info();

/// "avx512", "avx2+fma" or "portable".
std::string isa_name(Isa isa);
/// The name CONVSCOPE_ISA, --isa and the calibration cache use: "avx512", "avx2", "portable".
std::string_view isa_short_name(Isa isa);

/// The ISAs this build has kernels for and this CPU can run, best first.
std::vector<Isa> available_isas();

}  // namespace convscope::kernels
