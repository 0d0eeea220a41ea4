// What the engine counts as it runs, and the one-line summary `generate` and `bench throughput` print.
#pragma once

#include <cstdint>
#include <string>

namespace slidesparse {

struct EngineStats {
  int64_t prefill_tokens = 0, decode_tokens = 0, steps = 0, preemptions = 0;
  double prefill_seconds = 0, decode_seconds = 0;
  // Decode steps, and their host time: the step from scheduling on, the wait for the GPU excluded.
  // With CUDA graphs (decode's default) that is the time between two steps with nothing queued.
  int64_t decode_steps = 0;
  double decode_host_seconds = 0;
};

// "prefill N tok/s | decode N tok/s | running R waiting W | KV U% of B blocks", then, once there
// were decode steps, " | host N us per decode step". kv_used is a fraction (0..1).
std::string engine_stats_line(const EngineStats& stats, int running, int waiting, double kv_used, int kv_blocks);

}  // namespace slidesparse
