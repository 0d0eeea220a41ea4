#include "runtime/engine_stats.h"

#include <cstdio>

namespace slidesparse {

std::string engine_stats_line(const EngineStats& stats, int running, int waiting, double kv_used, int kv_blocks) {
  char line[320];
  const int n = std::snprintf(line, sizeof line,
                              "prefill %.0f tok/s | decode %.0f tok/s | running %d waiting %d | KV %.1f%% of %d blocks",
                              stats.prefill_seconds > 0 ? stats.prefill_tokens / stats.prefill_seconds : 0.0,
                              stats.decode_seconds > 0 ? stats.decode_tokens / stats.decode_seconds : 0.0, running,
                              waiting, 100.0 * kv_used, kv_blocks);
  if (stats.decode_steps > 0 && n > 0 && n < static_cast<int>(sizeof line))
    std::snprintf(line + n, sizeof line - n, " | host %.0f us per decode step",
                  1e6 * stats.decode_host_seconds / stats.decode_steps);
  return line;
}

}  // namespace slidesparse
