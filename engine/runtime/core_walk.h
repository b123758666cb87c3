#pragma once
/// Which cores hold each stretch of the arena as a plan runs on several
/// threads, step by step, as the executor splits the steps
/// (Schedule::thread_split, Schedule::row_parts).
///
/// A thread that reads lines another core wrote last fetches them from that
/// core's cache, and one that writes lines another core holds must take them
/// away first; on the 2-vCPU Zen 5 VM this project is measured on, both cost
/// far more than the core's own L2 (profile/core_traffic.h). Two users:
/// profile::core_traffic counts those bytes per step for the latency model,
/// and the memory plan (plan_arena_by_thread) places each tensor so that what
/// a thread writes lies on lines the same thread held last.
#include <cstdint>
#include <limits>
#include <vector>

#include "runtime/cache_fit.h"
#include "runtime/memory_plan.h"
#include "runtime/schedule.h"

namespace convscope::runtime {

/// Floats [lo, hi) of the buffer of value `root` (a value with memory of its
/// own: a concat's output or a slice's source for the values inside them),
/// touched by one thread in one step; `density` of them are the value's own
/// (a value inside a concat interleaves with its siblings pixel by pixel).
struct Touch {
  int root = 0;
  std::int64_t lo = 0, hi = 0;
  double density = 1;
  int thread = 0;
  /// Writes: the share of the floats this thread writes (1, or 1 / threads
  /// when every thread writes a column range of each pixel), and who holds
  /// the stretch afterwards (the thread, or kEveryone for such column writes).
  double share = 1;
  int holder = 0;
  /// Reads: rows a window reaches beyond the thread's own pixels (those a
  /// pixel-aligned split would give it), which a neighbour's part wrote.
  bool halo = false;
};

inline constexpr int kNobody = -1, kEveryone = -2;

/// What the threads of step i read and write, in buffer-relative floats.
struct StepTouches {
  std::vector<Touch> reads, writes;
  /// The output's whole buffer stretch and the share of it the step writes
  /// (a concat writes only the channels it copies).
  int out_root = 0;
  std::int64_t out_lo = 0, out_hi = 0;
  double out_density = 1;
  bool no_work = false;
};

StepTouches step_touches(const Schedule& s, std::size_t i);

/// The value whose buffer holds v (v itself, or the concat or slice source it lies in).
int root_of(const Schedule& s, int v);

/// What one step moved between cores, per thread, and the output elements on
/// lines no step touched within each of the given amounts of traffic.
struct StepTraffic {
  std::vector<double> read, write;
  std::vector<double> halo_read;  ///< of `read`'s kind, in halo rows (Touch::halo); not in `read`
  std::vector<double> out_lost;
};

/// The arena's stretches, each with the core that wrote it last and the cores
/// that read it since. Offsets are per value id (only roots are looked at).
class CoreWalk {
 public:
  /// `lost_after`: traffic amounts (bytes) for StepTraffic::out_lost.
  CoreWalk(int threads, std::vector<double> lost_after = {});

  /// Runs one step: counts its threads' cross-core bytes, then marks what
  /// they wrote. The result lives until the next call.
  const StepTraffic& step(const StepTouches& t, const std::vector<std::int64_t>& offset, double step_bytes);
  /// Runs one step without counting: marks what its threads read and wrote
  /// (the state after it is step()'s).
  void mark(const StepTouches& t, const std::vector<std::int64_t>& offset, double step_bytes);

  /// The bytes the step's threads would write over lines another core holds,
  /// or on lines no step touched within an L2's or an L3's worth of traffic
  /// (weighted: core_walk.cpp, kStaleL2 and kStaleL3), if its output's buffer
  /// started at `out_offset` (nothing changes). Stops once the count exceeds
  /// `limit` (what it returns then is more than `limit`, not the whole).
  [[nodiscard]] double write_cost(const StepTouches& t, std::int64_t out_offset,
                                  double limit = std::numeric_limits<double>::infinity()) const;

 private:
  struct Holder {
    int writer = kNobody;
    std::uint64_t readers = 0;  ///< bit t % 64: thread t read it since it was written
    double touched = -1e300;    ///< traffic count when a step last touched it
    bool operator==(const Holder&) const = default;
  };
  /// Bytes thread t writes over lines other cores hold in [lo, hi), plus,
  /// with `stale`, those on lines the caches lost (weighted as kStaleL2/L3).
  /// `from`: a stretch at or a little before lo (a search finds it if not);
  /// left at the one holding hi - 1, for the next part.
  [[nodiscard]] double foreign_write(std::int64_t lo, std::int64_t hi, double bytes_per_float, int t, bool stale,
                                     std::size_t& from) const;
  /// step() and mark(): counts into traffic_ only with `count`.
  void walk(const StepTouches& t, const std::vector<std::int64_t>& offset, double step_bytes, bool count);
  /// The stretch holding x; from `from` on when it is at or a little before x.
  [[nodiscard]] std::size_t find(std::int64_t x) const;
  [[nodiscard]] std::size_t find_from(std::int64_t x, std::size_t from) const;
  /// Makes every one of cuts_ a stretch start.
  void cut_all();
  /// Merges each of stretches [first, last] into the one before it where
  /// their holders are the same (what is counted does not depend on where
  /// the walk cuts its stretches; the walk stays as short as its holders).
  void coalesce(std::size_t first, std::size_t last);

  int threads_;
  std::vector<double> lost_after_;
  double now_ = 0;
  /// Stretch i runs from starts_[i] to starts_[i + 1] (the last start marks the end).
  std::vector<std::int64_t> starts_;
  std::vector<Holder> holders_;
  StepTraffic traffic_;
  // Scratch of step().
  std::vector<std::int64_t> cuts_, lost_floats_;
};

/// Offsets (per value id, roots only) of a schedule as laid out.
std::vector<std::int64_t> value_offsets(const Schedule& s);

/// step_touches of every step.
std::vector<StepTouches> schedule_touches(const Schedule& s);

/// One step's traffic in a steady-state run (the plan runs twice; the second
/// counts): profile::core_traffic's features and what placement_cost sums.
struct SteadyTraffic {
  /// Bytes on the thread with the most of each: read from lines another core
  /// wrote (outside and in halo rows), written over lines another core holds.
  double read = 0, halo_read = 0, write = 0;
  double write_all = 0;  ///< bytes written over other cores' lines, all threads
  /// Output elements on lines no step touched within an L2's (those lost from
  /// L3 too) and within an L3's worth of traffic (StepTraffic::out_lost).
  double out_l2_lost = 0, out_l3_lost = 0;
};

/// Every step's SteadyTraffic with the roots' buffers at `offset` (per value id)
/// in an arena of `arena_floats`. A cache loses a line only when the distinct
/// data touched since passes its size: the traffic since, but never more than
/// the run's footprint (its weights and arena): a network that fits L3 loses
/// nothing from it, however many bytes its steps move.
std::vector<SteadyTraffic> steady_traffic(const Schedule& s, const std::vector<StepTouches>& touches,
                                          const std::vector<std::int64_t>& offset, std::int64_t arena_floats);

/// What a memory plan costs its steps, summed over the steps and threads of
/// a steady-state run: bytes written over lines another core held, and output
/// bytes on lines the caches lost (weighted as CoreWalk::write_cost).
double placement_cost(const std::vector<SteadyTraffic>& traffic);

/// The arena may grow by 1 / kArenaSlack for buffers placed by thread.
inline constexpr std::int64_t kArenaSlack = 8;

/// The memory plan of a schedule on several threads. The plan by size
/// (plan_arena) reuses memory by liveness alone, so a thread's part of a
/// buffer often lands on lines the other core wrote or read last, and each
/// such line is taken from that core's cache before it is written (on the
/// Zen 5 VM of docs/performance.md, MobileNetV1's 112x112 depthwise at two
/// threads ran 98 us against 49 with its halves where each thread's were).
/// Here, `by_size` with each buffer moved, as its first step writes it, to
/// the place where the fewest bytes cross between cores there (its writers
/// over the lines' holders, counted with CoreWalk, plus the next buffers'
/// writers over its own; lines the caches lost count too), among those that fit beside every buffer live with
/// it: its own, the lowest free ones, and those that line its writers' part
/// boundaries up with those of the buffers that held the place last or take
/// it next, below 1 / kArenaSlack more than `by_size`'s arena. Two sweeps,
/// the second from the state the first run leaves. Kept if it costs less in
/// a steady-state run (placement_cost) than `by_size` (a move lowers the
/// count only where it looks: at four threads EfficientNet-B0 came out 0.4 %
/// worse; its first run alone, 0.4 % better), else `by_size`.
/// `requests` and `roots` as Schedule::build makes them (one request per
/// root value); `traffic`, if given, receives the steady_traffic of the plan
/// returned (walked to compare the two, so the latency model need not again).
ArenaPlan plan_arena_by_thread(const Schedule& s, const std::vector<int>& roots,
                               const std::vector<ArenaRequest>& requests, const ArenaPlan& by_size,
                               std::vector<SteadyTraffic>* traffic = nullptr);

}  // namespace convscope::runtime
