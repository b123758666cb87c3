#pragma once
/// Calibrating the latency model: a designed set of probe graphs (one block
/// each, over a grid of shapes that spans what efficient networks use) is
/// scheduled, built and run; every step is timed as the profiler times it
/// (each step on its own, in the order of a run) and the model is fitted to
/// those times. Models are cached per CPU model, kernel table, kernel revision
/// and thread count; a cached model that does not match is redone, never used.

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "profile/latency_model.h"

namespace convscope::profile {

/// A probe: one small graph (JSON text) and how to fuse its bottleneck.
struct Probe {
  std::string family;  ///< e.g. "pointwise", "depthwise"
  std::string json;
  std::int64_t split = 0;  ///< channel slices
  bool rows = false;       ///< row bands
};

/// The designed probe set (deterministic).
std::vector<Probe> probes();

struct LatencyCalibrationOptions {
  int threads = 1;
  double seconds_per_probe = 0.02;  ///< timing budget per probe graph
  int min_runs = 5;
  std::function<void(double)> progress;  ///< fraction done, 0..1
  const std::atomic<bool>* cancel = nullptr;
  /// Only probes whose index % stride == 0 (tests use a fraction of the set).
  int probe_stride = 1;
  /// Scale each probe's times by the machine's speed at that moment (the speed
  /// probe timed every few probes) to the calibration's median speed.
  bool normalize_drift = true;
  /// Times every probe this many times, a whole pass after another, and fits
  /// each step's mean: a load burst rarely hits a probe in both passes.
  int passes = 2;
};

/// Times every probe (twice by default) and fits a model (about 40 seconds per thread count).
Result<LatencyModel> calibrate_latency(const kernels::KernelTable& kt, const LatencyCalibrationOptions& options,
                                       std::vector<Sample>* samples = nullptr);

/// Where models are cached: latency-models.json beside calibration.json.
std::filesystem::path latency_cache_path();

struct CachedModel {
  std::optional<LatencyModel> model;  ///< set when a model for this machine exists and matches
  std::string why_not;                ///< why there is none ("" when there is)
};
/// The cached model for this CPU, kernel table and thread count, if it is valid.
CachedModel load_latency_model(const kernels::KernelTable& kt, int threads);

/// The cached model for `o.threads`, or a fresh calibration (saved) when there
/// is none, it does not match, or `force` is set. `why` (optional) receives why
/// it was calibrated ("" when the cached one was used).
Result<LatencyModel> load_or_calibrate_latency(const kernels::KernelTable& kt, const LatencyCalibrationOptions& o,
                                               bool force = false, std::string* why = nullptr,
                                               std::vector<Sample>* samples = nullptr);

}  // namespace convscope::profile
