#pragma once
/// A small fork-join pool: parallel_for splits a range into one chunk per
/// thread; the calling thread works too. One thread (the default) runs inline.
/// Workers spin briefly for the next job before sleeping, because a plan hands
/// out a job every few microseconds and a sleeping thread takes longer than that
/// to wake. The hand-off itself takes no lock: a job is published by bumping
/// `generation_`, and the mutex and condition variables are touched only when a
/// thread has actually gone to sleep (an empty parallel_for on two vCPUs of a
/// Zen 5 VM: 1.4 us with a locked hand-off, 0.95 us without).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace convscope::runtime {

class ThreadPool {
 public:
  /// `threads` >= 1 in total, the caller included.
  explicit ThreadPool(int threads = 1);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  [[nodiscard]] int threads() const { return static_cast<int>(workers_.size()) + 1; }

  /// Calls fn(begin, end) on disjoint chunks covering [0, n), at most one per
  /// thread, chunk boundaries multiples of `grain`; returns when all are done.
  /// Not reentrant: call it from one thread at a time.
  void parallel_for(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn, std::int64_t grain = 1);

  /// The chunk of [0, n) that thread t of `threads` runs in parallel_for(n, fn,
  /// grain) (empty past the last chunk): what the latency model's walk of the
  /// arena needs to know about which core touches what.
  [[nodiscard]] static std::pair<std::int64_t, std::int64_t> chunk(std::int64_t n, std::int64_t grain, int threads,
                                                                   int t);

 private:
  void worker(int index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  const std::function<void(std::int64_t, std::int64_t)>* job_ = nullptr;
  std::vector<std::pair<std::int64_t, std::int64_t>> chunks_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> sleeping_workers_{0};      ///< workers waiting on start_
  std::atomic<bool> caller_sleeping_{false};  ///< the caller waits on done_
};

}  // namespace convscope::runtime
