#pragma once
/// This machine's roofline ceilings, measured: peak FP32 FLOP/s (one core and
/// all cores, with the kernels' instruction set) and memory bandwidth (DRAM,
/// and a cache-resident buffer). A few seconds; cached per machine.

#include <filesystem>
#include <string>

#include "kernels/kernels.h"
#include "runtime/cache_fit.h"
#include "util/result.h"

namespace convscope::profile {

struct Calibration {
  std::string cpu;             ///< CPU model
  std::string isa;             ///< instruction set of the kernels measured
  int cores = 1;               ///< threads used for the all-core figures
  double peak_gflops_1 = 0;    ///< one core
  double peak_gflops_all = 0;  ///< all cores
  double dram_gbps = 0;        ///< streaming read of a 512 MiB buffer, beyond any cache (GB/s)
  double l3_gbps = 0;          ///< streaming read of an 8 MiB buffer (GB/s)
  double cache_gbps = 0;       ///< streaming read of a 256 KiB buffer, L2-resident (GB/s)
  std::string measured_at;     ///< ISO date-time

  /// Peak GFLOP/s for `threads` threads (interpolated between one and all cores).
  [[nodiscard]] double peak_gflops(int threads) const;
  /// The bandwidth an op moving `bytes` sees: L2 up to kL2FitBytes, L3 up to
  /// kL3FitBytes, DRAM beyond (GB/s).
  [[nodiscard]] double bandwidth_gbps(double bytes) const;
  /// The roofline prediction in nanoseconds for an op moving `bytes` and doing
  /// `flops`: max(flops / peak, bytes / bandwidth_gbps(bytes)).
  [[nodiscard]] double roofline_ns(double flops, double bytes, int threads) const;
  /// Which ceiling bounds the op: "compute", "L2", "L3" or "DRAM".
  [[nodiscard]] std::string bound(double flops, double bytes, int threads) const;
};

/// Traffic up to which an op is assumed to stream from L2 / from L3 (runtime/cache_fit.h).
using runtime::kL2FitBytes;
using runtime::kL3FitBytes;
/// What a virtual machine's share of a shared L3 holds: on a 2-vCPU slice of a
/// Zen 4 (32 MiB L3 per 8 cores, 2026-12-03) a network of 10 MiB already found
/// its weights gone from L3 by the next run. The latency model ramps between
/// these sizes and lets the fit say where the machine loses its lines.
inline constexpr double kSharedL3FitBytes = 4.0 * 1024.0 * 1024.0;

/// The time now as an ISO date-time (UTC), as calibrations record it.
std::string now_iso();

/// Measures now (about 2 to 4 seconds).
Calibration measure(const kernels::KernelTable& kt);

/// The cache file: $CONVSCOPE_CACHE_DIR, else $XDG_CACHE_HOME/convscope, else ~/.cache/convscope.
std::filesystem::path cache_path();

/// Cached calibration for this CPU and ISA, or a fresh measurement (saved) when
/// there is none or `force` is set.
Result<Calibration> load_or_measure(const kernels::KernelTable& kt, bool force = false);

}  // namespace convscope::profile
