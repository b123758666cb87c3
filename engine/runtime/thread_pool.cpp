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

void ThreadPool::parallel_for(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn,
                              std::int64_t grain) {
  if (n <= 0) return;
  const std::int64_t units = (n + grain - 1) / grain;
  const std::int64_t parts = std::min<std::int64_t>(threads(), units);
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::int64_t p = 0; p < threads(); ++p) {
      const auto i = static_cast<std::size_t>(p);
      if (p < parts)
        chunks_[i] = {units * p / parts * grain, std::min(n, units * (p + 1) / parts * grain)};
      else
        chunks_[i] = {0, 0};
    }
    job_ = &fn;
    pending_.store(static_cast<int>(threads()) - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  start_.notify_all();
  fn(chunks_[0].first, chunks_[0].second);
  // Wait for the workers: spin first, then sleep.
  const auto until = std::chrono::steady_clock::now() + kSpin;
  while (pending_.load(std::memory_order_acquire) != 0) {
    if (std::chrono::steady_clock::now() < until) {
      CONVSCOPE_PAUSE();
      continue;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
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
    std::pair<std::int64_t, std::int64_t> chunk;
    const std::function<void(std::int64_t, std::int64_t)>* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
      if (stop_) return;
      seen = generation_.load();
      chunk = chunks_[static_cast<std::size_t>(index)];
      job = job_;
    }
    if (chunk.second > chunk.first) (*job)(chunk.first, chunk.second);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

}  // namespace convscope::runtime
