// What the engine counts as it runs, and the one-line summary `generate` and `bench throughput` print.
#pragma once

#include <cstdint>
#include <string>

namespace slidesparse {

struct EngineStats {
  int64_t prefill_tokens = 0, decode_tokens = 0, steps = 0, preemptions = 0;
  int64_t steps_ahead = 0;  // steps launched before the previous step's tokens were back (run_ahead)
  double prefill_seconds = 0, decode_seconds = 0;
  // Decode steps, and their host time: the step() call, its wait for the GPU excluded. Without
  // running ahead the GPU has nothing queued meanwhile; running ahead, it runs the next step.
  int64_t decode_steps = 0;
  double decode_host_seconds = 0;
  // What the GPU saw between consecutive decode steps: from one forward pass's end to the next
  // one's start (copies back and in, and any wait for the host), summed over decode_gaps pairs.
  int64_t decode_gaps = 0;
  double decode_gap_seconds = 0;
  // Prompt tokens whose keys and values came from the prefix cache instead of being computed.
  int64_t prefix_cached_tokens = 0;
};

// "prefill N tok/s | decode N tok/s | running R waiting W | KV U% of B blocks", then, once there
// were decode steps, " | host N us per decode step" and, once two followed each other,
// " | GPU gap N us between decode steps", and once the prefix cache gave tokens, " | prefix cache N
// tokens". kv_used is a fraction (0..1).
std::string engine_stats_line(const EngineStats& stats, int running, int waiting, double kv_used, int kv_blocks);

}  // namespace slidesparse
