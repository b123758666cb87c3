#pragma once
/// What this CPU is and which instruction set the kernels use.

#include <string>
#include <vector>

namespace convscope::kernels {

enum class Isa { Portable, Avx2 };

struct CpuInfo {
  std::string model;  ///< e.g. "AMD EPYC 7B13" from /proc/cpuinfo
  bool avx2 = false;  ///< AVX2 and FMA both present
  int logical_cpus = 1;
};

/// Detected once.
const CpuInfo& cpu_info();

/// "avx2+fma" or "portable".
std::string isa_name(Isa isa);

/// The ISAs this build has kernels for and this CPU can run, best first.
std::vector<Isa> available_isas();

}  // namespace convscope::kernels
