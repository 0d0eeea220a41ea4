#include "runtime/engine_stats.h"

#include <algorithm>
#include <cstdio>

namespace slidesparse {

std::string engine_stats_line(const EngineStats& stats, int running, int waiting, double kv_used, int kv_blocks) {
  char line[320];
  const int n = std::snprintf(line, sizeof line,
                              "prefill %.0f tok/s | decode %.0f tok/s | running %d waiting %d | KV %.1f%% of %d blocks",
                              stats.prefill_seconds > 0 ? stats.prefill_tokens / stats.prefill_seconds : 0.0,
                              stats.decode_seconds > 0 ? stats.decode_tokens / stats.decode_seconds : 0.0, running,
                              waiting, 100.0 * kv_used, kv_blocks);
  std::string out(line, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof line - 1) : 0);
  if (stats.decode_steps > 0) {
    std::snprintf(line, sizeof line, " | host %.0f us per decode step",
                  1e6 * stats.decode_host_seconds / stats.decode_steps);
    out += line;
  }
  if (stats.decode_gaps > 0) {
    std::snprintf(line, sizeof line, " | GPU gap %.1f us between decode steps",
                  1e6 * stats.decode_gap_seconds / stats.decode_gaps);
    out += line;
  }
  if (stats.prefix_cached_tokens > 0) {
    std::snprintf(line, sizeof line, " | prefix cache %lld tokens", static_cast<long long>(stats.prefix_cached_tokens));
    out += line;
  }
  return out;
}

}  // namespace slidesparse
