// The HTTP server's worker threads: one per connection being served (a streaming response holds its
// worker until it ends; a kept-alive connection holds it between requests). cpp-httplib's own pool
// starts all of its threads at once and never more, so a fixed number large enough for every
// client that keeps its connection open would sit idle; too small, and the connections beyond it
// waited for one of the kept-alive ones to close, which under steady load meant until the end of
// the load (tools/serve_bench --keep-alive). This pool starts a thread when a connection arrives and
// none is free, up to `max_threads`, and keeps it for the next connections. When the system refuses
// a thread (its limit on threads, or memory), the connection waits for a running one, as it would
// beyond max_threads; only a pool that has no thread at all fails.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace slidesparse {

class WorkerPool final : public httplib::TaskQueue {
 public:
  // Starts a thread running `body`; throws std::system_error as std::thread's constructor does.
  using StartThread = std::function<std::thread(std::function<void()> body)>;

  explicit WorkerPool(size_t max_threads, StartThread start_thread = nullptr);
  ~WorkerPool() override;

  // Runs `job` on a free thread, on a new one while fewer than max_threads exist, or else as soon
  // as one is free (in arrival order). Throws Error, with `job` dropped, when the system refuses
  // the pool's first thread.
  void enqueue(std::function<void()> job) override;
  // Runs the jobs already queued, then joins every thread. Idempotent.
  void shutdown() override;

  size_t threads() const;

 private:
  void work();

  const size_t max_threads_;
  const StartThread start_thread_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;  // threads waiting for a job
  bool stopping_ = false;
};

}  // namespace slidesparse
