#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <vector>

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

// The rule of math/token_sampling.h as it is defined, over every token of the row: no shortcut.
int32_t sample_by_definition(const std::vector<float>& logits, const SampleRowParams& row) {
  int32_t best = -1;
  for (size_t i = 0; i < logits.size(); ++i)
    if (!std::isnan(logits[i]) && (best < 0 || logits[i] > logits[best])) best = static_cast<int32_t>(i);
  if (samples_greedily(row) || best < 0 || !std::isfinite(logits[best])) return best;
  const float top = logits[best];
  std::vector<uint32_t> keys;
  for (const float x : logits)
    if (!std::isnan(x)) keys.push_back(logit_order_key(x));
  std::sort(keys.begin(), keys.end(), std::greater<>());
  uint32_t cut = 0;
  if (row.top_k > 0 && static_cast<size_t>(row.top_k) < keys.size()) cut = keys[row.top_k - 1];
  const auto weight_at_or_above = [&](uint32_t k) {
    uint64_t sum = 0;
    for (const float x : logits)
      if (!std::isnan(x) && logit_order_key(x) >= k) sum += token_weight(x, top, row.exponent_scale);
    return sum;
  };
  if (row.top_p < 1.0f) {
    const uint64_t target = top_p_target(row.top_p, weight_at_or_above(cut));
    for (const uint32_t k : keys)  // descending: the largest key whose weight at or above reaches it
      if (k >= cut && weight_at_or_above(k) >= target) {
        cut = k;
        break;
      }
  }
  const uint64_t u = draw_point(row.random_bits, weight_at_or_above(cut));
  uint64_t running = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i]) || logit_order_key(logits[i]) < cut) continue;
    running += token_weight(logits[i], top, row.exponent_scale);
    if (running > u) return static_cast<int32_t>(i);
  }
  ADD_FAILURE() << "no token drawn";
  return -2;
}

// Rows of every kind the engine meets and some it should not (wide and narrow ranges, runs of
// ties, NaN, -inf, a single token), at temperatures from 0.05 to 50 with every kind of cut: the
// Sampler draws the token the definition draws, every time.
TEST(Sampler, DrawsWhatTheRulesDefinitionDraws) {
  std::mt19937 rng(5);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const auto row_of = [&](int kind, int vocab) {
    std::vector<float> logits(static_cast<size_t>(vocab));
    std::normal_distribution<float> normal(0.0f, 2.5f);
    std::uniform_real_distribution<float> uniform(-20.0f, 20.0f);
    for (auto& x : logits) {
      switch (kind) {
        case 0: x = uniform(rng); break;
        case 1: x = normal(rng); break;                                 // an LLM's bulk...
        case 2: x = std::round(normal(rng));  break;                    // runs of ties
        case 3: x = 1.5f; break;                                        // all equal
        case 4: x = rng() % 7 == 0 ? nan : (rng() % 5 == 0 ? -inf : normal(rng)); break;
        case 5: x = normal(rng) * 1e-6f; break;                         // a few ulps apart
        case 6: x = std::nextafter(1.5f, 2.0f) + 1.2e-7f * static_cast<float>(rng() % 3000); break;  // ulps of 1.5
        default: x = 5.0f + (static_cast<float>(rng() % 1000000) / 1e6f - 0.5f); break;  // a dense cluster
      }
    }
    if (kind == 1)  // ...and a few tokens far above it
      for (int i = 0; i < std::min(vocab, 4); ++i) logits[rng() % vocab] = 10.0f + 2.0f * static_cast<float>(i);
    if (kind == 7) logits[rng() % vocab] = 20.0f;  // one token far above the cluster
    return logits;
  };
  // Besides the usual temperatures: at 1e-5 a row of kind 6 has its weighted keys within ~2,000 ulps
  // of the top (one bucket per key), and at 50 kind 7's cluster shares one bucket of the window
  // search's first histogram with every cut, so the cut is found in the rounds over its tokens.
  int rows = 0;
  for (const int vocab : {1, 2, 7, 300, 2000}) {
    Sampler sampler(vocab);
    for (int kind = 0; kind < 8; ++kind) {
      const std::vector<float> logits = row_of(kind, vocab);
      for (const float temperature : {1e-5f, 0.05f, 0.8f, 1.0f, 50.0f})
        for (const int top_k : {0, 2, 5, 50, vocab - 1, vocab + 3})
          for (const float top_p : {1.0f, 0.95f, 0.5f, 1e-6f}) {
            const SampleRowParams row = sample_row_params(params(temperature, top_k, top_p, 9), rows, 0);
            ASSERT_EQ(sampler.sample(logits.data(), row), sample_by_definition(logits, row))
                << "vocab " << vocab << ", kind " << kind << ", T " << temperature << ", top_k " << top_k
                << ", top_p " << top_p;
            ++rows;
          }
    }
  }
  EXPECT_EQ(rows, 5 * 8 * 5 * 6 * 4);
}

// The lightest token that weighs (weight 1, at lowest_weighted_key) is still drawn: with all 64
// random bits set the draw takes the last kept token of non-zero weight in index order, here it.
TEST(Sampler, TheLightestWeightedTokenIsDrawable) {
  std::mt19937 rng(8);
  std::normal_distribution<float> normal(0.0f, 2.5f);
  std::vector<float> logits(64);
  for (auto& x : logits) x = normal(rng);
  logits[5] = 12.0f;
  for (const int top_k : {0, 63, 64}) {
    SampleRowParams row = sample_row_params(params(0.8f, top_k, 1.0f), 1, 0);
    row.random_bits = ~uint64_t{0};
    const uint32_t lowest = lowest_weighted_key(12.0f, row.exponent_scale);
    logits[62] = logit_of_order_key(lowest);
    logits[63] = logit_of_order_key(lowest - 1);  // weighs nothing
    ASSERT_EQ(token_weight(logits[62], 12.0f, row.exponent_scale), 1u);
    Sampler s(64);
    EXPECT_EQ(s.sample(logits.data(), row), 62) << top_k;
    EXPECT_EQ(sample_by_definition(logits, row), 62) << top_k;
  }
}

}  // namespace
}  // namespace slidesparse
