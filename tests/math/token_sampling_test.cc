#include "math/token_sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace slidesparse {
namespace {

TEST(TokenSampling, OrderKeysFollowFloatOrder) {
  const float inf = std::numeric_limits<float>::infinity();
  const float ordered[] = {-inf, -3e38f, -1.0f, -1e-40f, -0.0f, 1e-40f, 1.0f, 2.5f, 3e38f, inf};
  for (size_t i = 0; i + 1 < std::size(ordered); ++i)
    EXPECT_LE(logit_order_key(ordered[i]), logit_order_key(ordered[i + 1])) << ordered[i];
  EXPECT_EQ(logit_order_key(-inf), 0x007FFFFFu);  // every non-NaN key is above 0
  EXPECT_EQ(logit_order_key(0.0f), 0x80000000u);
  EXPECT_EQ(logit_order_key(-0.0f), 0x7FFFFFFFu);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 100.0f);
  for (int i = 0; i < 100000; ++i) {
    const float a = normal(rng), b = normal(rng);
    EXPECT_EQ(a < b, logit_order_key(a) < logit_order_key(b)) << a << " " << b;
  }
}

TEST(TokenSampling, WeightsArePowersOfTwoAtIntegerExponentsAndZeroBelowTheGrid) {
  const float scale = 1.0f;  // x = logit - top
  EXPECT_EQ(token_weight(5.0f, 5.0f, scale), 1u << 31);
  EXPECT_EQ(token_weight(4.0f, 5.0f, scale), 1u << 30);
  EXPECT_EQ(token_weight(-25.0f, 5.0f, scale), 2u);
  EXPECT_EQ(token_weight(-26.0f, 5.0f, scale), 1u);
  EXPECT_EQ(token_weight(-26.5f, 5.0f, scale), 0u);
  EXPECT_EQ(token_weight(-std::numeric_limits<float>::infinity(), 5.0f, scale), 0u);
  EXPECT_EQ(token_weight(std::numeric_limits<float>::quiet_NaN(), 5.0f, scale), 0u);
  // 2^-0.5 of 2^31, and the temperature's scale: x = (logit - top) * scale.
  EXPECT_NEAR(token_weight(4.5f, 5.0f, scale), 1518500249.0, 1518500249.0 * 2e-7);
  EXPECT_EQ(token_weight(4.0f, 5.0f, 2.0f), 1u << 29);
}

// Within 2e-7 of 2^(31 + x), less the truncation to an integer (< 1).
TEST(TokenSampling, WeightsTrackTwoToTheXWithin2e7) {
  double worst = 0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = -20.0f * static_cast<float>(i) / 200000.0f;
    const double want = std::ldexp(std::exp2(static_cast<double>(x)), 31);
    const double got = token_weight(x, 0.0f, 1.0f);
    ASSERT_LE(got, want * (1 + 2e-7)) << x;
    ASSERT_GE(got, want * (1 - 2e-7) - 1) << x;
    worst = std::max(worst, std::abs(got - want) / want);
    ASSERT_LE(token_weight(x, 0.0f, 1.0f), token_weight(x + 1e-3f, 0.0f, 1.0f)) << x;  // monotone here
  }
  EXPECT_LT(worst, 1.0 / 2048);  // at x = -20 the weight is ~2^11
}

TEST(TokenSampling, OrderKeysInvert) {
  const float inf = std::numeric_limits<float>::infinity();
  for (const float x : {-inf, -3e38f, -1.0f, -1e-40f, -0.0f, 0.0f, 1e-40f, 2.5f, inf}) {
    EXPECT_EQ(logit_order_key(logit_of_order_key(logit_order_key(x))), logit_order_key(x)) << x;
    EXPECT_EQ(std::signbit(logit_of_order_key(logit_order_key(x))), std::signbit(x)) << x;
    EXPECT_EQ(logit_of_order_key(logit_order_key(x)), x);
  }
}

// Non-zero weight is a threshold on the key: lowest_weighted_key is the first key that weighs, the
// key below it weighs nothing, and so do all keys below (checked on random keys of the row's range).
TEST(TokenSampling, LowestWeightedKeyIsTheWeightsThreshold) {
  EXPECT_EQ(lowest_weighted_key(5.0f, 1.0f), logit_order_key(-26.0f));  // x = logit - 5 >= -31
  EXPECT_EQ(lowest_weighted_key(0.0f, 2.0f), logit_order_key(-15.5f));
  const float max = std::numeric_limits<float>::max();
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 30.0f);
  std::uniform_real_distribution<float> log_temperature(-9.0f, 6.0f);
  std::vector<float> tops = {0.0f, -0.0f, max, -max, 1e-30f, -1e-30f, 1e-42f, 20.0f, -20.0f};
  for (int i = 0; i < 200; ++i) tops.push_back(normal(rng));
  for (const float top : tops) {
    for (int t = 0; t < 12; ++t) {
      const float scale = 1.4426950408889634f / std::exp(log_temperature(rng));
      const uint32_t lowest = lowest_weighted_key(top, scale), top_key = logit_order_key(top);
      ASSERT_GT(lowest, logit_order_key(-std::numeric_limits<float>::infinity()));
      ASSERT_LE(lowest, top_key);
      ASSERT_GT(token_weight(logit_of_order_key(lowest), top, scale), 0u) << top << " " << scale;
      ASSERT_EQ(token_weight(logit_of_order_key(lowest - 1), top, scale), 0u) << top << " " << scale;
      std::uniform_int_distribution<uint32_t> key(logit_order_key(-std::numeric_limits<float>::infinity()), top_key);
      for (int k = 0; k < 64; ++k) {
        const uint32_t probe = k < 32 ? key(rng) : lowest - 16 + static_cast<uint32_t>(k - 32);
        if (probe > top_key) continue;
        ASSERT_EQ(token_weight(logit_of_order_key(probe), top, scale) > 0, probe >= lowest)
            << top << " " << scale << " " << probe;
      }
    }
  }
}

TEST(TokenSampling, TopPTargetAndDrawPoint) {
  EXPECT_EQ(top_p_target(0.5f, 10), 5u);
  EXPECT_EQ(top_p_target(0.51f, 10), 6u);  // ceil
  EXPECT_EQ(top_p_target(1.0f, 12345), 12345u);
  EXPECT_EQ(top_p_target(1e-9f, 1u << 31), 3u);
  EXPECT_EQ(draw_point(0, 1000), 0u);
  EXPECT_EQ(draw_point(~uint64_t{0}, 1000), 999u);
  EXPECT_EQ(draw_point(uint64_t{1} << 63, 1000), 500u);
  EXPECT_EQ(draw_point(uint64_t{1} << 63, uint64_t{1} << 62), uint64_t{1} << 61);
}

TEST(TokenSampling, GreedyRows) {
  SampleRowParams p;
  EXPECT_TRUE(samples_greedily(p));
  p.exponent_scale = 1.44f;
  EXPECT_FALSE(samples_greedily(p));
  p.top_k = 1;
  EXPECT_TRUE(samples_greedily(p));
}

}  // namespace
}  // namespace slidesparse
