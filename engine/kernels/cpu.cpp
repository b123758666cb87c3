#include "kernels/cpu.h"

#include <fstream>
#include <thread>

namespace convscope::kernels {

const CpuInfo& cpu_info() {
  static const CpuInfo info = [] {
    CpuInfo c;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    c.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    c.avx512 = c.avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#endif
    c.logical_cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        const auto colon = line.find(':');
        if (colon != std::string::npos) c.model = line.substr(line.find_first_not_of(' ', colon + 1));
        break;
      }
    }
    if (c.model.empty()) c.model = "unknown CPU";
    return c;
  }();
  return info;
}

std::string isa_name(Isa isa) {
  switch (isa) {
    case Isa::Portable:
      return "portable";
    case Isa::Avx2:
      return "avx2+fma";
    case Isa::Avx512:
      return "avx512";
  }
  return "?";
}

std::string_view isa_short_name(Isa isa) {
  switch (isa) {
    case Isa::Portable:
      return "portable";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
  }
  return "?";
}

}  // namespace convscope::kernels
