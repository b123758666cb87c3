#include "runtime/thread_pool.h"

#include <algorithm>

namespace convscope::runtime {

ThreadPool::ThreadPool(int threads) {
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
  std::vector<std::pair<std::int64_t, std::int64_t>> chunks;
  for (std::int64_t p = 0; p < parts; ++p) {
    const std::int64_t b = units * p / parts * grain, e = std::min(n, units * (p + 1) / parts * grain);
    chunks.emplace_back(b, e);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    chunks_ = chunks;
    pending_ = static_cast<int>(parts) - 1;
    ++generation_;
  }
  start_.notify_all();
  fn(chunks[0].first, chunks[0].second);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::worker(int index) {
  std::uint64_t seen = 0;
  for (;;) {
    std::pair<std::int64_t, std::int64_t> chunk{0, 0};
    const std::function<void(std::int64_t, std::int64_t)>* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (static_cast<std::size_t>(index) >= chunks_.size()) continue;
      chunk = chunks_[static_cast<std::size_t>(index)];
      job = job_;
    }
    (*job)(chunk.first, chunk.second);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

}  // namespace convscope::runtime
