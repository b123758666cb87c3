#pragma once
/// Traffic up to which data is assumed to stay in L2 / in L3: the roofline's
/// bandwidth tiers (profile::Calibration::bandwidth_gbps), the latency model's
/// lines lost before a step touches them, and the memory plan's stale lines
/// (core_walk.h) all use these.
namespace convscope::runtime {

inline constexpr double kL2FitBytes = 1024.0 * 1024.0;
inline constexpr double kL3FitBytes = 16.0 * 1024.0 * 1024.0;

}  // namespace convscope::runtime
