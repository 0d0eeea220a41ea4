// The HTTP server's worker pool: threads start as jobs arrive, up to the cap; jobs beyond it wait
// for a free thread in arrival order; shutdown runs what is queued and joins every thread.
#include "serve/worker_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

#include "core/error.h"

namespace slidesparse {
namespace {

using namespace std::chrono_literals;

// Jobs that record their start and wait for the gate to open (for all, or for one job).
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  int released = -1;  // a job let through alone
  int running = 0, done = 0;
  std::vector<int> started;

  std::function<void()> job(int id) {
    return [this, id] {
      std::unique_lock lock(mutex);
      started.push_back(id);
      ++running;
      changed.notify_all();
      changed.wait(lock, [this, id] { return open || released == id; });
      --running;
      ++done;
      changed.notify_all();
    };
  }
  // Waits (at most 30 s: a bound for a stuck pool, not a timing) until `pred` holds.
  template <typename P>
  bool wait_for(P pred) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 30s, pred);
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
  void release_one(int id) {
    std::lock_guard lock(mutex);
    released = id;
    changed.notify_all();
  }
};

TEST(WorkerPool, StartsThreadsUpToItsCapAndQueuesTheRestInOrder) {
  Gate gate;
  WorkerPool pool(3);
  EXPECT_EQ(pool.threads(), 0u);
  for (int i = 0; i < 5; ++i) pool.enqueue(gate.job(i));
  ASSERT_TRUE(gate.wait_for([&] { return gate.running == 3; }));
  EXPECT_EQ(pool.threads(), 3u);
  {
    std::lock_guard lock(gate.mutex);
    EXPECT_EQ(gate.started.size(), 3u);  // jobs 3 and 4 wait for a free thread
  }
  // One thread at a time comes free: each takes the oldest waiting job. (Freed together, two threads
  // would take jobs 3 and 4 in order but could start them in either.)
  gate.release_one(0);
  ASSERT_TRUE(gate.wait_for([&] { return gate.done == 1 && gate.started.size() == 4u; }));
  gate.release_one(1);
  ASSERT_TRUE(gate.wait_for([&] { return gate.done == 2 && gate.started.size() == 5u; }));
  gate.release();
  ASSERT_TRUE(gate.wait_for([&] { return gate.done == 5; }));
  EXPECT_EQ(pool.threads(), 3u);
  std::lock_guard lock(gate.mutex);
  ASSERT_EQ(gate.started.size(), 5u);
  std::vector<int> first(gate.started.begin(), gate.started.begin() + 3);  // on three threads, any order
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(gate.started[3], 3);
  EXPECT_EQ(gate.started[4], 4);
}

TEST(WorkerPool, ShutdownRunsTheQueuedJobsAndJoins) {
  Gate gate;
  WorkerPool pool(1);
  for (int i = 0; i < 3; ++i) pool.enqueue(gate.job(i));
  ASSERT_TRUE(gate.wait_for([&] { return gate.running == 1; }));
  gate.release();
  pool.shutdown();
  EXPECT_EQ(gate.done, 3);
  EXPECT_EQ(gate.started, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(pool.threads(), 0u);
  pool.shutdown();  // idempotent
}

TEST(WorkerPool, NeedsAThread) {
  try {
    WorkerPool pool(0);
    ADD_FAILURE() << "a pool without threads";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "the HTTP worker pool needs at least one thread");
  }
}

// A thread starter that the system refuses after `allowed` threads (EAGAIN, as pthread_create at
// its limit).
WorkerPool::StartThread refusing_after(int allowed) {
  auto started = std::make_shared<int>(0);
  return [started, allowed](std::function<void()> body) {
    if (*started >= allowed) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    ++*started;
    return std::thread(std::move(body));
  };
}

// Refused threads: the connections wait for the running ones instead of failing the server.
TEST(WorkerPool, JobsWaitForTheRunningThreadsWhenTheSystemRefusesMore) {
  Gate gate;
  WorkerPool pool(8, refusing_after(2));
  for (int i = 0; i < 5; ++i) pool.enqueue(gate.job(i));
  ASSERT_TRUE(gate.wait_for([&] { return gate.running == 2; }));
  EXPECT_EQ(pool.threads(), 2u);
  gate.release();
  ASSERT_TRUE(gate.wait_for([&] { return gate.done == 5; }));
  pool.shutdown();
  std::sort(gate.started.begin(), gate.started.end());
  EXPECT_EQ(gate.started, (std::vector<int>{0, 1, 2, 3, 4}));
}

// Without any thread nothing would serve the job: one clear error, and the job is not kept.
TEST(WorkerPool, NoThreadAtAllIsAnError) {
  WorkerPool pool(8, refusing_after(0));
  bool ran = false;
  try {
    pool.enqueue([&ran] { ran = true; });
    ADD_FAILURE() << "a job queued on a pool without threads";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("the HTTP server could not start a worker thread: ", 0), 0u) << e.what();
  }
  pool.shutdown();
  EXPECT_FALSE(ran);
  EXPECT_EQ(pool.threads(), 0u);
}

}  // namespace
}  // namespace slidesparse
