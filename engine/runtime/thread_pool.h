#pragma once
/// A small fork-join pool: parallel_for splits a range into one home range per
/// thread (ThreadPool::chunk); the calling thread works too. One thread (the
/// default) runs inline. Each home range runs in up to kPieces pieces, its
/// owner taking them front to back; a thread done with its own takes the
/// unstarted pieces of the others from their backs. Undisturbed, every thread
/// runs (nearly) its own range, so it reads the pixels it wrote the step
/// before; when one core is slowed (another tenant, the hypervisor taking the
/// vCPU away for milliseconds), the others do its work instead of waiting.
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

  /// Calls fn(begin, end) on disjoint pieces covering [0, n), each inside one
  /// thread's home range, boundaries multiples of `grain`; returns when all are
  /// done. Scratch per thread must be indexed by piece, not by calling thread:
  /// split over parts (n = parts, grain 1) to give each part its own.
  /// Not reentrant: call it from one thread at a time.
  /// Without `balance`, each home range runs as one piece and is never taken
  /// over: a small job's hand-off costs a line or two less between cores.
  void parallel_for(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn, std::int64_t grain = 1,
                    bool balance = true);

  /// Pieces per home range at most.
  static constexpr std::int64_t kPieces = 4;

  /// The home range of [0, n) that thread t of `threads` runs in
  /// parallel_for(n, fn, grain) when no thread is held up (empty past the last
  /// one): what the latency model's walk of the arena needs to know about which
  /// core touches what.
  [[nodiscard]] static std::pair<std::int64_t, std::int64_t> chunk(std::int64_t n, std::int64_t grain, int threads,
                                                                   int t);

 private:
  /// One thread's home range of the current job, on its own cache line.
  struct alignas(64) Home {
    std::atomic<std::uint64_t> state{0};  ///< generation, next piece from the front, end of the unclaimed ones
    std::int64_t begin = 0, end = 0, piece = 0;
  };

  void worker(int index);
  /// Runs pieces of job `generation`: thread `self`'s own, then the others'.
  void run_share(int self, std::uint32_t generation);
  /// Takes piece `k` of `home` for job `generation`, from its front or back; false if none is left.
  bool claim(std::size_t home, std::uint32_t generation, bool from_front, std::int64_t& k);
  [[nodiscard]] std::pair<std::int64_t, std::int64_t> piece(const Home& h, std::int64_t k) const;

  std::vector<Home> homes_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  const std::function<void(std::int64_t, std::int64_t)>* job_ = nullptr;
  std::atomic<bool> balance_{true};  ///< the current job's: threads take over each other's pieces
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::int64_t> remaining_{0};  ///< pieces of the current job not yet finished
  std::atomic<bool> stop_{false};
  std::atomic<int> sleeping_workers_{0};      ///< workers waiting on start_
  std::atomic<bool> caller_sleeping_{false};  ///< the caller waits on done_
};

}  // namespace convscope::runtime
