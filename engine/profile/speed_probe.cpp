#include "profile/speed_probe.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>
#include <vector>

#include "cost/analysis.h"
#include "io/graph_json.h"
#include "profile/latency_model.h"
#include "profile/profiler.h"
#include "runtime/plan.h"

namespace convscope::profile {
namespace {

/// Fixed for good: changing it changes what every stored reference time means
/// (bump kLatencyModelVersion with it).
constexpr const char* kReferenceNetwork = R"({"format": "convscope-graph", "version": 1, "name": "speed probe",
 "blocks": [
  {"id": "input", "kind": "input", "height": 112, "width": 112, "channels": 16},
  {"id": "ir1", "kind": "inverted_residual", "inputs": ["input"], "out": 24, "expansion": 6, "kernel": 3, "stride": 2},
  {"id": "ir2", "kind": "inverted_residual", "inputs": ["ir1"], "out": 24, "expansion": 6, "kernel": 3},
  {"id": "ir3", "kind": "inverted_residual", "inputs": ["ir2"], "out": 40, "expansion": 6, "kernel": 5, "stride": 2,
   "se": true, "activation": "hswish"},
  {"id": "conv", "kind": "conv", "inputs": ["ir3"], "out": 96, "kernel": 3, "stride": 2},
  {"id": "pool", "kind": "global_pool", "inputs": ["conv"]},
  {"id": "fc", "kind": "fc", "inputs": ["pool"], "out": 1000}
 ]})";

}  // namespace

SpeedProbe::SpeedProbe() = default;
SpeedProbe::SpeedProbe(SpeedProbe&&) noexcept = default;
SpeedProbe& SpeedProbe::operator=(SpeedProbe&&) noexcept = default;
SpeedProbe::~SpeedProbe() = default;

Result<SpeedProbe> SpeedProbe::build(const kernels::KernelTable& kt) {
  auto g = io::graph_from_json(kReferenceNetwork);
  if (!g) return tl::unexpected(g.error());
  const cost::Analysis a = cost::analyze(*g);
  runtime::PlanOptions po;
  po.threads = 1;
  po.kernels = &kt;
  auto plan = runtime::Plan::build(*g, a, po);
  if (!plan) return tl::unexpected(plan.error());
  fill_timing_inputs(*plan);
  SpeedProbe p;
  p.plan_ = std::make_unique<runtime::Plan>(std::move(*plan));
  return p;
}

double SpeedProbe::time_ns(double seconds) {
  ProfileOptions o;
  o.warmup = 2;
  o.min_runs = 7;
  o.min_seconds = seconds;
  o.whole_network_only = true;
  return profile_plan(*plan_, o).network_ns.median;
}

double SpeedProbe::time_around(const std::function<bool()>& run) {
  const double before = time_ns();
  if (!run()) return 0;
  return std::min(before, time_ns());
}

double RunConditions::speed(const LatencyModel& m) const {
  return probe_ns > 0 && m.reference_ns > 0 ? probe_ns / m.reference_ns : 0;
}

double RunConditions::cross_core_scale(const LatencyModel& m) const {
  return m.threads > 1 && round_trip_ns > 0 && m.round_trip_ns > 0 ? round_trip_ns / m.round_trip_ns : 1;
}

RunConditions conditions_around(SpeedProbe* probe, const LatencyModel* m, const std::function<bool()>& run) {
  RunConditions c;
  if (!m) {
    run();
    return c;
  }
  // A quick round trip (about a millisecond) each side: where the threads run.
  auto trip = [&] { return m->threads > 1 ? core_round_trip_ns(1000, 3) : 0.0; };
  const double trip_before = trip();
  c.probe_ns = probe && m->reference_ns > 0 ? probe->time_around(run) : (run(), 0.0);
  const double trip_after = trip();
  if (trip_before > 0 && trip_after > 0) c.round_trip_ns = 0.5 * (trip_before + trip_after);
  return c;
}

RunConditions conditions_around(const kernels::KernelTable& kt, const LatencyModel* m,
                                const std::function<bool()>& run) {
  if (m && m->reference_ns > 0)
    if (auto probe = SpeedProbe::build(kt)) return conditions_around(&*probe, m, run);
  return conditions_around(nullptr, m, run);
}

std::string describe_drift(double speed, double tolerance) {
  if (!(speed > 0) || std::abs(speed - 1.0) <= tolerance) return "";
  char b[128];
  std::snprintf(b, sizeof b, "the machine runs %.0f %% %s than when the latency model was calibrated",
                std::abs(speed - 1.0) * 100, speed > 1 ? "slower" : "faster");
  return b;
}

double core_round_trip_ns(int round_trips, int batches) {
  // CPUs this process may run on (a cpuset or taskset may allow fewer than the machine has).
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  const int cpus = sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : 1;
  if (cpus < 2 || round_trips < 1 || batches < 1) return 0;
  // The counter on a line of its own (two: the adjacent-line prefetcher pairs
  // them): odd values are the pings, even the pongs.
  struct alignas(128) Line {
    std::atomic<std::int64_t> n{0};
    std::atomic<bool> stop{false};
  };
  Line line;
  const std::int64_t total = static_cast<std::int64_t>(round_trips) * batches;
  std::thread echo([&] {
    for (std::int64_t i = 0; i < total; ++i) {
      while (line.n.load(std::memory_order_acquire) != 2 * i + 1)
        if (line.stop.load(std::memory_order_relaxed)) return;
      line.n.store(2 * i + 2, std::memory_order_release);
    }
  });
  // A busy machine (both threads waiting on the scheduler at every hand-off)
  // gets a second at most: the batches finished by then count.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  std::vector<double> per_batch;
  per_batch.reserve(static_cast<std::size_t>(batches));
  std::int64_t i = 0;
  bool late = false;
  for (int b = 0; b < batches && !late; ++b) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < round_trips; ++r, ++i) {
      line.n.store(2 * i + 1, std::memory_order_release);
      while (line.n.load(std::memory_order_acquire) != 2 * i + 2) {
      }
      if (r % 256 == 255 && std::chrono::steady_clock::now() > deadline) {
        late = true;
        break;
      }
    }
    if (!late)
      per_batch.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
                          round_trips);
  }
  line.stop.store(true, std::memory_order_relaxed);
  echo.join();
  if (per_batch.empty()) return 0;
  std::nth_element(per_batch.begin(), per_batch.begin() + static_cast<std::ptrdiff_t>(per_batch.size() / 2),
                   per_batch.end());
  return per_batch[per_batch.size() / 2];
}

}  // namespace convscope::profile
