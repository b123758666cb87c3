#pragma once
/// The machine's speed now against its speed when the latency model was
/// calibrated. A shared machine (a cloud VM beside other tenants, a laptop
/// changing its clock) runs the same network 10 to 30 % slower or faster from
/// one minute to the next; no model fitted a minute earlier can be closer than
/// that. A small fixed network (a few inverted residuals from a 112 x 112 map
/// whose expanded tensors leave L2, a 3x3 convolution, a classifier: GEMM,
/// depthwise and memory-bound steps, about two milliseconds) is timed when the model is calibrated and again when it
/// predicts; the ratio tells the model's error apart from the machine's drift.
/// It runs on one thread for models of any thread count: where several threads
/// sit (one core complex or two) is told apart by the cross-core round trip
/// (core_round_trip_ns, RunConditions), which the model prices on its own; a
/// two-thread probe ran 1.8x slower when a VM's vCPUs moved to two complexes,
/// and normalising by it would have taken that for the machine's speed.

#include <functional>
#include <memory>
#include <string>

#include "kernels/kernels.h"
#include "util/result.h"

namespace convscope::runtime {
class Plan;
}

namespace convscope::profile {

struct LatencyModel;

/// The reference network, built once for a kernel table, on one thread.
class SpeedProbe {
 public:
  static Result<SpeedProbe> build(const kernels::KernelTable& kt);
  SpeedProbe(SpeedProbe&&) noexcept;
  SpeedProbe& operator=(SpeedProbe&&) noexcept;
  ~SpeedProbe();

  /// Median of whole runs over about `seconds` (at least 7 runs), in ns.
  double time_ns(double seconds = 0.02);

  /// The probe's time (ns) just before and just after `run`, the faster of the
  /// two (load bursts only ever slow it down); 0 when `run` returns false
  /// (cancelled). Over a calibration's reference time it is the machine's speed
  /// (RunConditions::speed; 1.2: 20 % slower).
  double time_around(const std::function<bool()>& run);

 private:
  SpeedProbe();
  std::unique_ptr<runtime::Plan> plan_;
};

/// The round trip of one cache line passed from one thread to another and back
/// (each side waits for the other's store to an atomic counter), in ns: the
/// median over `batches` batches of `round_trips`. What a line costs to move
/// between the cores two threads run on, which prices every line a two-thread
/// step reads from or writes over the other core (core_traffic.h). On the
/// 2-vCPU Zen 5 VM of docs/performance.md it measured 400-650 ns in most runs
/// and once 137 ns (the hypervisor placing the vCPUs on two core complexes or
/// on one), so a two-thread calibration and a report made minutes apart can see
/// different machines. 0 with fewer than two CPUs allowed (a spinning wait
/// would then wait for the scheduler, not the cache), or when not one batch
/// finished within a second (a machine too busy to tell).
double core_round_trip_ns(int round_trips = 5000, int batches = 5);

/// The machine around one measured run, for the prediction shown beside it:
/// what was measured, against any model of the thread count that ran.
struct RunConditions {
  double probe_ns = 0;       ///< the speed probe just before and just after, the faster; 0: not timed
  double round_trip_ns = 0;  ///< core_round_trip_ns just before and just after, averaged; 0: not measured
  /// probe_ns over `m`'s reference time; 0 when either is unknown.
  [[nodiscard]] double speed(const LatencyModel& m) const;
  /// round_trip_ns over `m`'s (LatencyModel::cross_core_scale); 1 on one thread or when either is unknown.
  [[nodiscard]] double cross_core_scale(const LatencyModel& m) const;
};

/// Runs `run` between measurements of the machine: the speed probe (`probe`,
/// may be null; only when `m` has a reference time) and, on several threads,
/// the cores' round trip. Without a model (`m` null) `run` still runs and
/// nothing is measured.
RunConditions conditions_around(SpeedProbe* probe, const LatencyModel* m, const std::function<bool()>& run);
/// The same with a probe built for `kt` when `m` has a reference time.
RunConditions conditions_around(const kernels::KernelTable& kt, const LatencyModel* m,
                                const std::function<bool()>& run);

/// "the machine runs 18 % slower than when the model was calibrated", or "" within +-tolerance.
std::string describe_drift(double speed, double tolerance = 0.10);

}  // namespace convscope::profile
