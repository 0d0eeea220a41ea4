// Host cost of continuous batching per engine step, on the CPU alone: the decode benchmark's
// workload (M sequences of 16 prompt tokens, 256 generated, blocks of 64) through the scheduler and
// block manager, timing schedule() and complete() per step. While the GPU replays a decode graph
// the host has nothing else to do, but between steps this time is GPU idle time (docs/PERF.md).
// Usage: scheduler_bench [M ...]   (default 64 128 256 512)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "sequences/scheduler.h"

namespace {

using Clock = std::chrono::steady_clock;

void run(int m) {
  using namespace slidesparse;
  BlockManager blocks(8 * m + 64, 64);
  SchedulerConfig config;
  config.max_num_seqs = m;
  config.max_num_batched_tokens = std::max(m, 272);
  config.max_model_len = 272;
  Scheduler scheduler(config, blocks);
  SamplingParams params;
  params.max_tokens = 256;
  params.ignore_eos = true;
  std::vector<std::unique_ptr<Sequence>> sequences;
  for (int i = 0; i < m; ++i) {
    sequences.push_back(std::make_unique<Sequence>(i, std::vector<int32_t>(16, 7), params));
    scheduler.add(sequences.back().get());
  }
  int steps = 0;
  double schedule_s = 0, complete_s = 0;
  std::vector<int32_t> sampled;
  while (!scheduler.idle()) {
    const auto a = Clock::now();
    const SchedulerStep step = scheduler.schedule();
    const auto b = Clock::now();
    sampled.assign(step.chunks.size(), 3);
    scheduler.complete(step, sampled);
    const auto c = Clock::now();
    schedule_s += std::chrono::duration<double>(b - a).count();
    complete_s += std::chrono::duration<double>(c - b).count();
    ++steps;
  }
  std::printf("M=%4d: %d steps, schedule %.1f us/step, complete %.1f us/step\n", m, steps, 1e6 * schedule_s / steps,
              1e6 * complete_s / steps);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> ms;
  for (int i = 1; i < argc; ++i) ms.push_back(std::atoi(argv[i]));
  if (ms.empty()) ms = {64, 128, 256, 512};
  for (int m : ms) run(m);
}
