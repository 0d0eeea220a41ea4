#include <gtest/gtest.h>

#include <cmath>
#include <map>

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
