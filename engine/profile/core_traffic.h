#pragma once
/// Cache lines that move between cores when a plan runs on several threads.
///
/// A thread that reads lines another core wrote last fetches them from that
/// core's cache, and one that writes lines another core holds (wrote, or read
/// since) must take them away first. On a Zen 5 VM with 2 vCPUs both cost far
/// more than the same access to the core's own L2: a core read lines the other
/// had just written at about 23 GB/s (its own L2: about 90), and overwriting
/// 94 KB the other core had read took 25 us longer than writing lines of its own.
/// A two-thread MobileNetV3-Small ran its squeeze-excite steps 3-6x slower than
/// on one thread for this reason, not for the work they do.
///
/// core_traffic() follows which thread last wrote and which threads have read
/// each part of the arena, step by step, as the executor splits them
/// (Schedule::thread_split), and counts those bytes per step in the steady
/// state of repeated runs (the plan runs twice; the second run is counted).
/// The cross-core counts ignore cache capacity: lines another core evicted
/// still sit in its share of the last-level cache. The same walk keeps, per
/// stretch, the traffic since a step last touched it, for the output lines the
/// caches lost before a step writes them (on any thread count).
#include <vector>

#include "runtime/schedule.h"

namespace convscope::profile {

/// One step's traffic between cores, each count on the thread with the most
/// of it, and the lines of its output the caches lost (all threads).
struct CoreTraffic {
  double read_bytes = 0;  ///< bytes read from lines another core wrote last (not in halo rows)
  /// Bytes (not in read_bytes) in the halo rows a window reads beyond the thread's own
  /// pixels (runtime::Touch::halo). A few lines per part, each read as the
  /// window reaches it: on the Zen 5 VM 30-50 ns a line, where a whole tensor
  /// the other core wrote streams in at about 23 GB/s (3 ns a line).
  double halo_read_bytes = 0;
  double write_bytes = 0;  ///< bytes written over lines another core holds
  /// Output elements whose arena lines no step touched (read or wrote) within
  /// the last L2's (kL2FitBytes) or L3's (kL3FitBytes) worth of traffic: the
  /// memory plan reuses space by liveness, not recency, so a step may write
  /// where nothing has been for a long while, and each such line is fetched
  /// before it is written (model v24).
  double out_l2_lost = 0, out_l3_lost = 0;
};

/// Per step of `s` (cross-core bytes are zero with one thread; all zero for
/// steps with no work).
std::vector<CoreTraffic> core_traffic(const runtime::Schedule& s);

}  // namespace convscope::profile
