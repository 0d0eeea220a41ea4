// Host cost of continuous batching per engine step, on the CPU alone: a benchmark protocol's
// workload through the scheduler and block manager, timing schedule(), the step's arrays
// (fill_step_batch) and complete() per step.
// decode: M sequences of 16 prompt tokens, 256 generated; prefill: M tokens per step as M / 1024
// prompts of 1024 tokens, 128 steps' worth, one token generated; blocks of 64. While the GPU runs a
// step the host waits, so this time between steps is GPU idle time (docs/PERF.md).
// Prompts are distinct (no two share a block), so --prefix-caching measures the cache's bookkeeping
// (every full block registered, every admission looked up) without hits.
// Usage: scheduler_bench [--prefill] [--prefix-caching] [M ...]   (default 64 128 256 512; with
// --prefill 32768)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "runtime/step_batch.h"
#include "sequences/scheduler.h"

namespace {

using Clock = std::chrono::steady_clock;

void run(int m, bool prefill, bool prefix_caching) {
  using namespace slidesparse;
  const int prompt_len = prefill ? std::min(m, 1024) : 16, seqs_per_step = prefill ? m / prompt_len : m;
  const int requests = prefill ? 128 * seqs_per_step : m, output_len = prefill ? 1 : 256;
  BlockManager blocks(prefill ? 4 * (m / 64) + 64 : 8 * m + 64, 64, prefix_caching);
  SchedulerConfig config;
  config.max_num_seqs = seqs_per_step;
  config.max_num_batched_tokens = prefill ? m : std::max(m, 272);
  config.max_model_len = prompt_len + output_len;
  Scheduler scheduler(config, blocks);
  SamplingParams params;
  params.max_tokens = output_len;
  params.ignore_eos = true;
  std::vector<std::unique_ptr<Sequence>> sequences;
  for (int i = 0; i < requests; ++i) {
    std::vector<int32_t> prompt(static_cast<size_t>(prompt_len));
    for (int j = 0; j < prompt_len; ++j) prompt[static_cast<size_t>(j)] = (i * 7919 + j) % 128000;
    sequences.push_back(std::make_unique<Sequence>(i, std::move(prompt), params));
    scheduler.add(sequences.back().get());
  }
  int steps = 0;
  double schedule_s = 0, batch_s = 0, complete_s = 0;
  std::vector<int32_t> sampled;
  StepBatch batch;
  const int max_blocks = (config.max_model_len + 63) / 64;
  while (!scheduler.idle()) {
    const auto a = Clock::now();
    const SchedulerStep step = scheduler.schedule();
    const auto b = Clock::now();
    fill_step_batch(step, 64, max_blocks, batch);
    const auto c = Clock::now();
    sampled.assign(step.chunks.size(), 3);
    scheduler.complete(step, sampled);
    const auto d = Clock::now();
    schedule_s += std::chrono::duration<double>(b - a).count();
    batch_s += std::chrono::duration<double>(c - b).count();
    complete_s += std::chrono::duration<double>(d - c).count();
    ++steps;
  }
  std::printf("%s%s M=%5d: %d steps, schedule %.1f us/step, arrays %.1f us/step, complete %.1f us/step\n",
              prefill ? "prefill" : "decode", prefix_caching ? " (prefix caching)" : "", m, steps,
              1e6 * schedule_s / steps, 1e6 * batch_s / steps, 1e6 * complete_s / steps);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> ms;
  bool prefill = false, prefix_caching = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--prefill")
      prefill = true;
    else if (std::string(argv[i]) == "--prefix-caching")
      prefix_caching = true;
    else
      ms.push_back(std::atoi(argv[i]));
  }
  if (ms.empty()) ms = prefill ? std::vector<int>{32768} : std::vector<int>{64, 128, 256, 512};
  for (int m : ms) run(m, prefill, prefix_caching);
}
