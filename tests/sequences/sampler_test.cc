#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "core/error.h"
#include "sequences/sampler.h"

namespace slidesparse {
namespace {

SamplingParams params(float temperature, int top_k, float top_p, uint64_t seed = 1) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = top_k;
  p.top_p = top_p;
  p.seed = seed;
  return p;
}

TEST(Sampler, GreedyTakesTheFirstMaximum) {
  Sampler s(6);
  const float logits[6] = {0.5f, 3.0f, -1.0f, 3.0f, 2.9f, 0.0f};
  EXPECT_EQ(s.sample(logits, params(0.0f, 0, 1.0f), 1, 0), 1);
  EXPECT_EQ(s.sample(logits, params(0.8f, 1, 1.0f), 1, 0), 1);  // top_k 1 is greedy too
}

TEST(Sampler, ReproducibleFromSeedSequenceAndPosition) {
  Sampler s(100);
  std::vector<float> logits(100);
  for (int i = 0; i < 100; ++i) logits[i] = std::sin(0.37f * i);
  const auto p = params(1.0f, 0, 1.0f, 42);
  std::vector<int32_t> a, b, c;
  for (int pos = 0; pos < 50; ++pos) {
    a.push_back(s.sample(logits.data(), p, 7, pos));
    b.push_back(s.sample(logits.data(), p, 7, pos));
    c.push_back(s.sample(logits.data(), params(1.0f, 0, 1.0f, 43), 7, pos));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Sampler, FollowsTheSoftmaxAtTheTemperature) {
  Sampler s(3);
  const float logits[3] = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  std::map<int32_t, int> counts;
  constexpr int kDraws = 20000;
  for (int pos = 0; pos < kDraws; ++pos) ++counts[s.sample(logits, params(1.0f, 0, 1.0f), 3, pos)];
  EXPECT_NEAR(counts[0] / double(kDraws), 0.5, 0.015);
  EXPECT_NEAR(counts[1] / double(kDraws), 0.3, 0.015);
  EXPECT_NEAR(counts[2] / double(kDraws), 0.2, 0.015);
}

// Ties at a cut are all kept: top-k 2 over three equal maxima keeps the three; top-p keeps a whole
// run of equal logits once it reaches into it.
TEST(Sampler, TiesAtTheCutsAreKept) {
  Sampler s(5);
  const float logits[5] = {1.0f, 3.0f, 3.0f, 0.5f, 3.0f};
  std::map<int32_t, int> top_k, top_p;
  for (int pos = 0; pos < 3000; ++pos) {
    ++top_k[s.sample(logits, params(1.0f, 2, 1.0f), 1, pos)];
    ++top_p[s.sample(logits, params(1.0f, 0, 0.2f), 1, pos)];
  }
  EXPECT_EQ(top_k.size(), 3u);
  EXPECT_GT(top_k[1], 900);
  EXPECT_GT(top_k[2], 900);
  EXPECT_GT(top_k[4], 900);
  EXPECT_EQ(top_p.size(), 3u);  // 0.2 of the weight lies inside the run of 3.0s: all of it is kept
  EXPECT_EQ(top_p.count(0) + top_p.count(3), 0u);
}

TEST(Sampler, NanIsNeverDrawnAndInfiniteOrEmptyRowsAreGreedy) {
  Sampler s(4);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float with_nan[4] = {nan, 0.0f, nan, 0.1f}, with_inf[4] = {0.0f, inf, 2.0f, inf}, all_nan[4] = {nan, nan, nan, nan};
  for (int pos = 0; pos < 500; ++pos) {
    const int32_t t = s.sample(with_nan, params(1.0f, 0, 1.0f), 2, pos);
    EXPECT_TRUE(t == 1 || t == 3) << t;
    EXPECT_EQ(s.sample(with_inf, params(1.0f, 0, 1.0f), 2, pos), 1);
    EXPECT_EQ(s.sample(all_nan, params(1.0f, 0, 1.0f), 2, pos), -1);
  }
}

TEST(Sampler, RejectsInvalidParameters) {
  Sampler s(3);
  const float logits[3] = {0.0f, 1.0f, 2.0f};
  EXPECT_THROW(s.sample(logits, params(-1.0f, 0, 1.0f), 1, 0), Error);
  EXPECT_THROW(s.sample(logits, params(1.0f, -2, 1.0f), 1, 0), Error);
  EXPECT_THROW(s.sample(logits, params(1.0f, 0, 0.0f), 1, 0), Error);
  EXPECT_THROW(s.sample(logits, params(1.0f, 0, 1.5f), 1, 0), Error);
  EXPECT_EQ(s.sample(logits, params(1e-40f, 0, 1.0f), 1, 0), 2);  // log2(e) / T overflows: greedy
}

TEST(Sampler, TopKAndTopPNeverLeaveTheirSets) {
  Sampler s(5);
  const float logits[5] = {std::log(0.4f), std::log(0.3f), std::log(0.15f), std::log(0.1f), std::log(0.05f)};
  for (int pos = 0; pos < 5000; ++pos) {
    EXPECT_LT(s.sample(logits, params(1.0f, 2, 1.0f), 1, pos), 2);     // top-k 2: {0, 1}
    EXPECT_LT(s.sample(logits, params(1.0f, 0, 0.7f), 1, pos), 2);     // 0.4 + 0.3 reaches 0.7
    EXPECT_LT(s.sample(logits, params(1.0f, 0, 0.71f), 1, pos), 3);    // needs the third token
    EXPECT_EQ(s.sample(logits, params(1.0f, 0, 0.3f), 1, pos), 0);     // the top token alone
  }
}

}  // namespace
}  // namespace slidesparse
