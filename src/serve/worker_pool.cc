#include "serve/worker_pool.h"

#include <string>
#include <system_error>

#include "core/error.h"

namespace slidesparse {

WorkerPool::WorkerPool(size_t max_threads, StartThread start_thread)
    : max_threads_(max_threads),
      start_thread_(start_thread ? std::move(start_thread)
                                 : StartThread([](std::function<void()> body) { return std::thread(std::move(body)); })) {
  require(max_threads >= 1, "the HTTP worker pool needs at least one thread");
}

WorkerPool::~WorkerPool() { shutdown(); }

void WorkerPool::enqueue(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  jobs_.push_back(std::move(job));
  if (jobs_.size() > idle_ && threads_.size() < max_threads_) {
    try {
      threads_.push_back(start_thread_([this] { work(); }));
      return;
    } catch (const std::system_error& e) {
      // Refused by the system: the job waits for a running thread, unless there is none.
      if (threads_.empty()) {
        jobs_.pop_back();
        fail("the HTTP server could not start a worker thread: " + std::string(e.what()));
      }
    }
  }
  wake_.notify_one();
}

void WorkerPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (std::thread& t : threads) t.join();
}

size_t WorkerPool::threads() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

void WorkerPool::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      ++idle_;
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // stopping, nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace slidesparse
