#include "runtime/engine_stats.h"

#include <gtest/gtest.h>

namespace slidesparse {
namespace {

TEST(EngineStatsLine, PrefillOnlyHasNoHostTime) {
  EngineStats s;
  s.prefill_tokens = 32768;
  s.prefill_seconds = 0.125;
  EXPECT_EQ(engine_stats_line(s, 0, 3, 0.0, 4096),
            "prefill 262144 tok/s | decode 0 tok/s | running 0 waiting 3 | KV 0.0% of 4096 blocks");
}

TEST(EngineStatsLine, DecodeStepsAddTheHostTimePerStep) {
  EngineStats s;
  s.decode_tokens = 512 * 200;
  s.decode_seconds = 1.0;
  s.decode_steps = 200;
  s.decode_host_seconds = 200 * 131.4e-6;
  EXPECT_EQ(engine_stats_line(s, 512, 0, 0.253, 26639),
            "prefill 0 tok/s | decode 102400 tok/s | running 512 waiting 0 | KV 25.3% of 26639 blocks"
            " | host 131 us per decode step");
  s.decode_gaps = 199;
  s.decode_gap_seconds = 199 * 12.34e-6;
  EXPECT_EQ(engine_stats_line(s, 512, 0, 0.253, 26639),
            "prefill 0 tok/s | decode 102400 tok/s | running 512 waiting 0 | KV 25.3% of 26639 blocks"
            " | host 131 us per decode step | GPU gap 12.3 us between decode steps");
}

TEST(EngineStatsLine, PrefixCacheTokensOnceThereAreAny) {
  EngineStats s;
  s.prefill_tokens = 1000;
  s.prefill_seconds = 0.5;
  s.prefix_cached_tokens = 4096;
  EXPECT_EQ(engine_stats_line(s, 2, 0, 0.5, 100),
            "prefill 2000 tok/s | decode 0 tok/s | running 2 waiting 0 | KV 50.0% of 100 blocks"
            " | prefix cache 4096 tokens");
}

}  // namespace
}  // namespace slidesparse
