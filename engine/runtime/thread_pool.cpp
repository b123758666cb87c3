#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>

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
}  // namespace

ThreadPool::ThreadPool(int threads) {
  chunks_.resize(static_cast<std::size_t>(std::max(threads, 1)));
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

void ThreadPool::parallel_for(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn,
                              std::int64_t grain) {
  if (n <= 0) return;
  const std::int64_t units = (n + grain - 1) / grain;
  const std::int64_t parts = std::min<std::int64_t>(threads(), units);
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  // Publish the job: chunks and job are written before generation_ moves
  // (seq_cst), and a worker reads them only after it saw the move.
  for (int p = 0; p < threads(); ++p) chunks_[static_cast<std::size_t>(p)] = chunk(n, grain, threads(), p);
  job_ = &fn;
  pending_.store(static_cast<int>(threads()) - 1);
  generation_.fetch_add(1);
  // A worker counts itself as sleeping before it checks generation_ under the
  // mutex, so either it sees the new generation or this sees it sleeping.
  if (sleeping_workers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    start_.notify_all();
  }
  fn(chunks_[0].first, chunks_[0].second);
  // Wait for the workers: spin first, then sleep.
  const auto until = std::chrono::steady_clock::now() + kSpin;
  while (pending_.load(std::memory_order_acquire) != 0) {
    if (std::chrono::steady_clock::now() < until) {
      CONVSCOPE_PAUSE();
      continue;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    caller_sleeping_.store(true);
    done_.wait(lock, [&] { return pending_.load() == 0; });
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
    const auto chunk = chunks_[static_cast<std::size_t>(index)];
    if (chunk.second > chunk.first) (*job_)(chunk.first, chunk.second);
    // The last worker to finish wakes the caller if it went to sleep; the
    // caller sets caller_sleeping_ before its last look at pending_.
    if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

}  // namespace convscope::runtime
