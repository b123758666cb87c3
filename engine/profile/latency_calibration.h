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
  /// Several threads: time a probe only while the cores' round trip is within
  /// [min_round_trip_ns, max_round_trip_ns) (0: unbounded), waiting for it
  /// otherwise and timing a probe again when the round trip left the range
  /// meanwhile: a model of one placement of the cores on a VM that moves its
  /// vCPUs between core complexes (kOtherPlacement). The calibration fails
  /// after waiting `placement_wait_seconds` in one pass.
  double min_round_trip_ns = 0, max_round_trip_ns = 0;
  double placement_wait_seconds = 900;
};

/// Times every probe (twice by default) and fits a model (about 40 seconds per thread count).
Result<LatencyModel> calibrate_latency(const kernels::KernelTable& kt, const LatencyCalibrationOptions& options,
                                       std::vector<Sample>* samples = nullptr);

/// Where models are cached: latency-models.json beside calibration.json.
std::filesystem::path latency_cache_path();
/// What a cached model (and a measured fusion form) is kept under: this CPU's
/// model, the kernel table and the thread count ("AMD EPYC 9R45 | avx512 | 2").
std::string machine_cache_key(const std::string& isa, int threads);

/// Several threads: the cache keeps the newest model of each placement of the
/// cores (speed_probe.h: a VM's two vCPUs on one core complex, 90-140 ns a
/// round trip, or on two, 350-650 ns), models whose round trips differ by this
/// factor or more. One placement's coefficients scaled to the other's round
/// trip (LatencyModel::cross_core_scale) missed by a median 23 % (Zen 4).
inline constexpr double kOtherPlacement = 1.6;

/// The model of `placements` whose calibration round trip is nearest
/// `round_trip_ns` (by ratio); `fallback` when none is, or the round trip is unknown.
const LatencyModel& nearest_placement(const std::vector<LatencyModel>& placements, double round_trip_ns,
                                      const LatencyModel& fallback);

struct CachedModel {
  std::optional<LatencyModel> model;  ///< set when a model for this machine exists and matches
  std::string why_not;                ///< why there is none ("" when there is)
  /// Every valid model of this thread count, one per placement of the cores,
  /// the newest first; `model` is the one for the placement measured on loading.
  std::vector<LatencyModel> placements;
};
/// The cached model for this CPU, kernel table and thread count, if it is
/// valid; on several threads, with models of two placements, the one nearest
/// the cores' round trip now (measured: about a millisecond).
CachedModel load_latency_model(const kernels::KernelTable& kt, int threads);
/// The same models without measuring anything: `model` is the newest, for
/// callers that pick a placement themselves (after a run, by the round trip it
/// ran with).
CachedModel cached_latency_models(const kernels::KernelTable& kt, int threads);
/// After a run on `threads` that found the cores' round trip `round_trip_ns`:
/// the cached model of that placement where the cache has one per placement,
/// else `fallback`.
LatencyModel model_for_round_trip(const kernels::KernelTable& kt, int threads, double round_trip_ns,
                                  const LatencyModel& fallback);

/// Caches `m` for this CPU, kernel table and its thread count (atomically):
/// it replaces the model there, which is kept as the other placement's when
/// their round trips differ by kOtherPlacement or more.
void save_latency_model(const kernels::KernelTable& kt, const LatencyModel& m);

/// The cached model for `o.threads`, or a fresh calibration (saved) when there
/// is none, it does not match, or `force` is set. `why` (optional) receives why
/// it was calibrated ("" when the cached one was used).
Result<LatencyModel> load_or_calibrate_latency(const kernels::KernelTable& kt, const LatencyCalibrationOptions& o,
                                               bool force = false, std::string* why = nullptr,
                                               std::vector<Sample>* samples = nullptr);

}  // namespace convscope::profile
