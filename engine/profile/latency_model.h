#pragma once
/// A latency model of ConvScope's own kernels: each step of a schedule (the
/// steps a run would time, with the same fusions and layouts) is predicted from
/// a few shape features of its kind, with coefficients fitted by least squares
/// to steps timed on this machine (profile/latency_calibration.h). The network
/// is the sum of its steps. See docs/latency-model.md for the features.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/schedule.h"
#include "util/result.h"

namespace convscope::profile {

/// Bumped whenever the features or the fit change: older calibrations are redone.
/// 2: a fused sigmoid / swish is a feature of GEMM and depthwise steps; 3: shuffles by
/// group count, grouped pointwise probes; 4: bottlenecks fused in row bands; 5: separable
/// blocks fused in row bands; 6: the speed probe's reference time (profile/speed_probe.h), samples
/// normalised by the machine's drift during calibration; 7: multiply-add coefficients floored at
/// the FMA peak, the whole-run overhead fitted as a factor and a cost per step; 8: a GEMM's
/// narrow last panel (one that runs fewer vectors) has a multiply-add feature of its own, and
/// bottleneck and transposed-convolution work pads columns to vectors, not to whole panels; 9:
/// data steps (pooling, global pooling, concat copies, shuffle, slice, upsample, CReLU) pay per
/// pixel as well as per element, pooling's taps per vector of channels; a concat written
/// wholly in place and a slice read in place have a fixed cost of their own; 10: a step kind
/// that splits its pixels across threads counts its work on the busiest thread and has a
/// feature for running across the threads at all (a small step runs on one thread unless
/// its input's writer ran across them); 11: steps with no work (concats written wholly in
/// place, slices read in place) are skipped by runs and predicted 0, their features gone; 12:
/// kinds that stream their inputs count the input elements written more than L2's worth of
/// traffic before they run; 13: the same beyond L3's worth, and calibration probes for skip
/// connections (a concat and an add of a tensor written several MB of traffic before).
/// 14: GEMMs of one row tile (fully connected, squeeze-excite) pay for their weights
/// where the network pushed them out of L2 / L3 (nothing to hide the fetch behind).
/// 15: pooling at stride 1 has its own cost per tap; inception probe networks.
/// 16: a row-band bottleneck's features are its busiest thread's work, walked as the runtime
/// splits its rows (each thread streams the weights once per band of its own).
/// 17: a graph input counts as written long ago when a whole run's traffic exceeds the cache
/// (one-step probes on large inputs read them from L3 on every run).
/// 18: depthwise pays per row pass of each channel vector where the table runs
/// column order, and for a fused h-swish / h-sigmoid. 19: 5x5 and 7x7 too.
/// 20: an input larger than a cache misses in it even when the step before wrote it
/// (the share of its lines an LRU cache loses, not all or nothing).
/// 21: grouped 1x1 convolutions of narrow groups pay per permute (kernel revision 23), not per GEMM tile.
/// 22: pooling pays per window loop over channel blocks; depthwise per tile it runs.
/// 23: bytes read from lines another core wrote and written over lines another core holds
/// (two or more threads: core_traffic.h).
/// 24: output elements whose arena lines the caches lost before the write.
/// 25: half the writer's weights count as traffic between a tensor's write and its read.
/// 26: every probe timed in two passes, each step fitted on their mean.
/// 27: copied slices whose rows start off a cache line, and those written inside a wider
/// tensor (a concat's); split probes of 48, 116 and 232 channels.
/// 28: the output lines a concat's copies touch; probes copying 3 to 24 channels beside 32.
/// 29: the cross-core walk splits each step as its executor does (Schedule::row_parts):
/// grains, whole rows per image, and the halo rows a window reads from its neighbour's part.
/// 30: on two or more threads the memory plan places tensors by thread (plan_arena_by_thread):
/// the probes' layouts, and so their cross-core and lost-line counts, change.
/// 31: the cross-core bytes of the halo rows a window reads beyond its thread's pixels are a
/// feature of their own (read one line at a time as the windows reach them, not streamed).
/// 32: channel shuffles folded into the depthwise and grouped 1x1 convolutions after them
/// (PlanOptions::fold_shuffles): the probe networks' IGCV3 blocks lose a step.
/// 33: IGCV3 blocks fuse in row bands (grouped expand and project, both permutations in the
/// step): their GEMM calls beyond two per band and the band's shuffled output are features;
/// IGCV3 probes in row bands.
/// 34: row-band chains stop at the depthwise when squeeze-excite reads it (no project);
/// squeeze-excite inverted residual probes in row bands; band buffers on cache lines, a
/// band's budget counts the output it shuffles; IGCV3 probes of 4 groups only where they fuse.
/// 35: a fused bottleneck's expanded and depthwise elements through exp-based and hard
/// activations are features (EfficientNet's swish steps measured 1.2-2x their v34
/// prediction); probes of the widest chains in row bands (112 x 112 x 16, t = 6).
/// 36: Winograd steps (3x3 stride-1 convolutions by F(4x4, 3x3)): the 36 GEMMs'
/// multiply-adds and weight passes over the busiest thread's bands, the transforms'
/// elements; Winograd probes alone and in chains of fire modules.
/// 37: a convolution's batch norm and activation blocks fuse into its step (the op-by-op
/// probe networks lose those steps; Schedule::build), and a fused chain takes the next
/// block's activation; skip probes over 112 x 112 tensors, copied back from DRAM.
/// 38: depthwise pays per input vector its tiles load (k rows of each tile's columns).
/// 39: a thread's parts that follow one another (a row-band chain's bands, Winograd's tile
/// bands) walk as one stretch: rows a band reads of the thread's next band are its own, not
/// halo; the placement by thread, seeing fewer part boundaries, puts some tensors elsewhere.
/// 40: a row-band chain whose weights do not stay in L2 pays their floats once per band
/// (from L3: the op-by-op GEMM keeps a block of them in L2 over all its rows).
/// 41: calibration probes of wide separable blocks (MobileNetV1 and Xception widths), each
/// timed fused in row bands and op by op in turn, so the fusion choice is fitted on its difference.
/// 42: calibration networks in EfficientNet's style (squeeze-excite in every block, 16-70 MiB),
/// where squeeze-excite's one-pixel GEMMs fetch weights L3 did not keep.
/// 43: a one-row-tile GEMM's weights on five footprint ramps (knots 1, 4, 8, 16, 32, 64 MiB), not three.
/// 44: a channel scale or an add writes over an input no later step reads (PlanOptions::elementwise_in_place).
/// 45: global pooling splits its input rows across the threads (each pools the rows it wrote).
/// 46: the lines a cache lost counted by distinct data: traffic since a touch at most the run's footprint.
/// 47: a slice written inside a wider tensor pays per pixel (its rows' partial lines), not per element.
/// 48: on several threads, the cross-core features (the hand-off, lines read from or written over
/// another core's) priced per the cache-line round trip between the cores at the time: the speed
/// probe runs on one thread, the round trip is measured around every probe, and a prediction
/// scales them by the round trip now against the calibration's (LatencyModel::cross_core_scale).
/// 49: Winograd steps get the weight features (their network's footprint beyond L2, beyond
/// L3), and calibration networks of Winograd chains whose weights come from DRAM.
/// 50: a depthwise's row passes follow its walk (dw_walk): pixel-major where column order's rows crowd L1.
/// 51: calibration networks of interleaved group convolutions (IGCV2 blocks, ShuffleNet V1
/// units): grouped GEMMs of 2 to 64 groups and many-group shuffles timed inside networks.
/// 52: every step scaled along its network's footprint (LatencyModel::footprint_slope).
inline constexpr int kLatencyModelVersion = 52;
inline constexpr int kMaxFeatures = 20;

/// One step's features for its kind's linear model (x[0] = 1: the fixed cost).
struct StepFeatures {
  runtime::StepKind kind = runtime::StepKind::Gemm;
  int n = 0;  ///< features used
  std::array<double, kMaxFeatures> x{};
  /// Bit j set: feature j is a cross-core one, whose cost goes with the round
  /// trip of a cache line between the cores (scaled by cross_core_scale).
  std::uint32_t cross_core = 0;
};

struct CoreTraffic;
/// The features of every step of `s` (shapes, padded tile counts, slices, the
/// lines that move between cores: core_traffic.h).
std::vector<StepFeatures> schedule_features(const runtime::Schedule& s);
/// Step i's: schedule_features(s)[i] (its traffic between cores walks the whole schedule).
StepFeatures step_features(const runtime::Schedule& s, std::size_t i);
/// Step i's, given its traffic between cores.
StepFeatures step_features(const runtime::Schedule& s, std::size_t i, const CoreTraffic& traffic);
/// Whether steps of this kind carry weights (and so the two weight features).
bool has_weights(runtime::StepKind kind);
/// Names of a kind's features, for docs and reports (steps with weights have two more).
std::vector<std::string> feature_names(runtime::StepKind kind, bool has_weights);

/// The fit of one step kind.
struct KindFit {
  std::vector<double> coef;  ///< ns per unit of each feature (non-negative); empty: not fitted
  int samples = 0;
  /// Range of each feature over the samples: a step outside it is extrapolated.
  std::vector<double> lo, hi;
  double median_abs_error = 0;  ///< |predicted / measured - 1| over the samples, median
};

struct StepPrediction {
  double ns = 0;
  bool fitted = false;        ///< false: the kind had no samples (ns = 0)
  bool extrapolated = false;  ///< a feature lies outside the calibrated range
};

struct NetworkPrediction {
  std::vector<StepPrediction> steps;
  double total_ns = 0;   ///< sum of the steps times the model's network factor
  int extrapolated = 0;  ///< steps predicted outside the calibrated range
  int unfitted = 0;      ///< steps whose kind the model has no fit for
};

struct LatencyModel {
  std::string cpu;          ///< CPU model it was calibrated on
  std::string isa;          ///< kernel table
  int threads = 1;          ///< threads the steps ran with
  int kernel_revision = 0;  ///< kernels::kKernelRevision at calibration
  int version = kLatencyModelVersion;
  std::string measured_at;  ///< ISO date-time
  double calibration_seconds = 0;
  int probes = 0;  ///< probe graphs timed
  std::array<KindFit, runtime::kStepKinds> fits{};
  /// What running steps back to back costs beyond each step timed on its own
  /// (fitted by fit_network over the calibration's probe networks): a network's
  /// total is network_factor x the sum of its steps + network_step_ns per step.
  double network_factor = 1.0;
  double network_step_ns = 0;
  /// How a step's time moves with its network's footprint (weights and arena,
  /// which pass through the caches between two runs of a step): each step is
  /// scaled by 1 + footprint_slope x (log2 footprint - footprint_log2_mid), the
  /// footprint in MiB and its log2 clamped to the probe networks' range
  /// [footprint_log2_lo, footprint_log2_hi] (fit_network: from the tenth smallest to
  /// the largest). 0: no tilt.
  double footprint_slope = 0;
  double footprint_log2_mid = 0, footprint_log2_lo = 0, footprint_log2_hi = 0;
  /// The speed probe's median time over the calibration (profile/speed_probe.h): a
  /// prediction is for a machine that runs the probe in this time. 0: not timed.
  double reference_ns = 0;
  /// The FMA peak (GFLOP/s, the table's, for `threads`) that bounds the
  /// multiply-add coefficients from below: no step is priced faster than the
  /// peak allows. 0: no floor.
  double peak_gflops = 0;
  /// How far the probe's time moved during the calibration: (slowest - fastest) / median.
  double calibration_drift = 0;
  /// On two or more threads, core_round_trip_ns() before and after the
  /// calibration (speed_probe.h): which cross-core regime the two-thread fit
  /// saw. 0: not measured (one thread, or a model saved before it was).
  std::array<double, 2> core_round_trip_ns{};
  /// The round trip the cross-core coefficients are for: the median of those
  /// measured between the probes through the calibration (each probe's
  /// cross-core features scaled by its own round trip against it). 0: one thread.
  double round_trip_ns = 0;
  /// The share of the probes' round trips kOtherPlacement times round_trip_ns
  /// or more away from it (either way): the cores moved to their other
  /// placement for that part of the calibration, and the fit mixes the two.
  double other_placement_share = 0;
  /// Not saved: the round trip now over round_trip_ns, by which predictions
  /// scale the cross-core features (RunConditions::cross_core_scale; 1: as calibrated).
  /// The hypervisor of a 2-vCPU VM moves its vCPUs between one core complex
  /// (90-110 ns) and two (360-400 ns): two-thread steps then cost up to 4x.
  double cross_core_scale = 1;

  /// A model where every step costs `ns`, whatever its shape (tests and benchmarks
  /// count steps with it; nothing is calibrated).
  static LatencyModel per_step(double ns);

  [[nodiscard]] StepPrediction predict(const StepFeatures& f) const;
  [[nodiscard]] NetworkPrediction predict(const runtime::Schedule& s) const;
  /// The factor on every step of a network of `footprint_bytes` (footprint_slope).
  [[nodiscard]] double footprint_scale(double footprint_bytes) const;
  /// "latency model v1, AMD EPYC 9R45 / avx512, 1 thread, 2026-12-01 22:40", and on several threads
  /// "; cross-core costs x3.60 (...)" when cross_core_scale is more than 10 % from 1.
  [[nodiscard]] std::string describe() const;
  /// Why this model must not be used on this machine with these kernels, or "" when it may.
  [[nodiscard]] std::string mismatch(const std::string& cpu_model, const std::string& isa_name, int n_threads) const;
};

/// One timed step.
struct Sample {
  StepFeatures f;
  double ns = 0;
  bool in_network = false;  ///< timed inside a probe network (else in a one-block probe)
};

/// Fits every kind that has samples: weighted least squares, coefficients kept
/// non-negative (multiply-add coefficients at least 2 / m.peak_gflops ns).
/// Where a kind has enough samples timed inside networks (three per feature),
/// only those are used: they ran where a network runs them.
void fit(LatencyModel& m, const std::vector<Sample>& samples);

/// One probe network: its whole un-instrumented run, and its steps as the model predicts them.
struct NetworkSample {
  double whole_ns = 0;
  double steps_ns = 0;  ///< sum of the predicted steps
  int steps = 0;
  double footprint_bytes = 0;  ///< its weights and arena (network_footprint); 0: not known
};

/// What passes through the caches between two runs of one step of `s`: its weights and arena (bytes).
double network_footprint(const runtime::Schedule& s);

/// Fits network_factor and network_step_ns: whole = factor x steps_ns + step_ns x
/// steps, fitted on the relative error (whole / steps_ns against steps /
/// steps_ns) by Theil-Sen, which one network timed in a load burst does not
/// move. Two threads on two cores can cost more per step than the steps timed
/// on their own (the hand-off to the worker, cache lines the other core wrote),
/// so a network of many short steps runs further over its sum than one of few
/// long ones. step_ns is kept within 0..20 us and the factor within 0.5..2;
/// with fewer than four networks, or a fit outside those, step_ns is 0 and the
/// factor the median ratio.
/// First the footprint tilt (footprint_slope): the Theil-Sen slope of whole /
/// steps_ns against log2 of the footprint, relative to the median ratio and
/// kept within 0..0.2 per doubling; the factor and step_ns are then fitted on
/// the ratios with the tilt taken out. The calibration's own networks ran
/// further over their fitted steps the larger they were (Intel Xeon, one
/// thread: 0.86-0.96 below 8 MiB, 1.05-1.13 at 9-22, 1.3-1.4 at 54-69).
void fit_network(LatencyModel& m, const std::vector<NetworkSample>& networks);

nlohmann::json to_json(const LatencyModel& m);
Result<LatencyModel> latency_model_from_json(const nlohmann::json& j);

}  // namespace convscope::profile
