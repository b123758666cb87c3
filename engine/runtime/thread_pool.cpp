#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <tuple>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CONVSCOPE_PAUSE() _mm_pause()
#else
#define CONVSCOPE_PAUSE() std::this_thread::yield()
#endif

namespace convscope::runtime {
namespace {
/// How long a thread spins before it sleeps (a plan step takes 5-500 us).
constexpr auto kSpin = std::chrono::microseconds(200);

/// A home range's state: [generation:32 | front piece:16 | back piece:16].
constexpr std::uint64_t pack(std::uint64_t generation, std::uint64_t front, std::uint64_t back) {
  return (generation & 0xffffffffu) << 32 | front << 16 | back;
}
}  // namespace

ThreadPool::ThreadPool(int threads) : homes_(static_cast<std::size_t>(std::max(threads, 1))) {
  for (int i = 1; i < std::max(threads, 1); ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& t : workers_) t.join();
}

std::pair<std::int64_t, std::int64_t> ThreadPool::chunk(std::int64_t n, std::int64_t grain, int threads, int t) {
  const std::int64_t units = (n + grain - 1) / grain;
  const std::int64_t parts = std::max<std::int64_t>(1, std::min<std::int64_t>(threads, units));
  if (n <= 0 || t >= parts) return {0, 0};
  return {units * t / parts * grain, std::min(n, units * (t + 1) / parts * grain)};
}

std::pair<std::int64_t, std::int64_t> ThreadPool::piece(const Home& h, std::int64_t k) const {
  const std::int64_t b = h.begin + k * h.piece;
  return {b, std::min(h.end, b + h.piece)};
}

bool ThreadPool::claim(std::size_t home, std::uint32_t generation, bool from_front, std::int64_t& k) {
  std::atomic<std::uint64_t>& state = homes_[home].state;
  std::uint64_t s = state.load(std::memory_order_acquire);
  for (;;) {
    const std::uint64_t front = s >> 16 & 0xffffu, back = s & 0xffffu;
    if (s >> 32 != generation || front >= back) return false;
    const std::uint64_t next = from_front ? pack(generation, front + 1, back) : pack(generation, front, back - 1);
    if (state.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
      k = static_cast<std::int64_t>(from_front ? front : back - 1);
      return true;
    }
  }
}

void ThreadPool::run_share(int self, std::uint32_t generation) {
  const auto n = homes_.size();
  const auto own = static_cast<std::size_t>(self);
  std::int64_t k = 0, ran = 0;
  // Its own range front to back, then the other ranges' unstarted pieces from
  // their backs. The claims carry the job's generation: a thread that wakes
  // after the job ended claims nothing, and the job's function and ranges stay
  // valid while any piece of it runs (the job ends only when every piece did).
  for (std::size_t i = 0; i < (balance_ ? n : 1); ++i) {
    const std::size_t home = (own + i) % n;
    while (claim(home, generation, i == 0, k)) {
      const auto [b, e] = piece(homes_[home], k);
      (*job_)(b, e);
      ++ran;
    }
  }
  // Counted once per thread, not per piece: the counter's line moves between
  // cores once per thread and job.
  if (ran > 0 && remaining_.fetch_sub(ran, std::memory_order_acq_rel) == ran && caller_sleeping_.load()) {
    std::lock_guard<std::mutex> lock(mutex_);
    done_.notify_one();
  }
}

void ThreadPool::parallel_for(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn,
                              std::int64_t grain, bool balance) {
  if (n <= 0) return;
  const std::int64_t units = (n + grain - 1) / grain;
  const std::int64_t parts = std::min<std::int64_t>(threads(), units);
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  // Each thread's home range (ThreadPool::chunk) in up to kPieces pieces of
  // whole grains. Published before generation_ moves (seq_cst); a worker
  // claims pieces only of the generation it saw.
  const auto generation = static_cast<std::uint32_t>(generation_.load() + 1);
  std::int64_t pieces = 0;
  for (int t = 0; t < threads(); ++t) {
    Home& h = homes_[static_cast<std::size_t>(t)];
    std::tie(h.begin, h.end) = chunk(n, grain, threads(), t);
    const std::int64_t home_units = (h.end - h.begin + grain - 1) / grain;
    const std::int64_t count = std::min<std::int64_t>(balance ? kPieces : 1, home_units);
    h.piece = count > 0 ? (home_units + count - 1) / count * grain : 0;
    const std::int64_t used = h.piece > 0 ? (h.end - h.begin + h.piece - 1) / h.piece : 0;
    pieces += used;
    h.state.store(pack(generation, 0, static_cast<std::uint64_t>(used)), std::memory_order_relaxed);
  }
  job_ = &fn;
  balance_ = balance;
  remaining_.store(pieces);
  generation_.fetch_add(1);
  // A worker counts itself as sleeping before it checks generation_ under the
  // mutex, so either it sees the new generation or this sees it sleeping.
  if (sleeping_workers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    start_.notify_all();
  }
  run_share(0, generation);
  // Wait for the pieces other threads claimed: spin first, then sleep.
  const auto until = std::chrono::steady_clock::now() + kSpin;
  while (remaining_.load(std::memory_order_acquire) != 0) {
    if (std::chrono::steady_clock::now() < until) {
      CONVSCOPE_PAUSE();
      continue;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    caller_sleeping_.store(true);
    done_.wait(lock, [&] { return remaining_.load() == 0; });
    caller_sleeping_.store(false);
  }
}

void ThreadPool::worker(int index) {
  std::uint64_t seen = 0;
  for (;;) {
    // Spin for the next generation, then sleep on the condition variable.
    const auto until = std::chrono::steady_clock::now() + kSpin;
    while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed) &&
           std::chrono::steady_clock::now() < until)
      CONVSCOPE_PAUSE();
    if (generation_.load() == seen && !stop_.load()) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleeping_workers_.fetch_add(1);
      start_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
      sleeping_workers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = generation_.load();
    run_share(index, static_cast<std::uint32_t>(seen));
  }
}

}  // namespace convscope::runtime
