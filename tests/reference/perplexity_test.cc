// The sliding-window perplexity: window bookkeeping (every token after the first scored once, from
// the row that predicts it), exact values on known logits, errors; and the CPU reference model's
// perplexity against the one transformers' own quantized BitNet forward gives (oracle logits).
#include "math/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "checkpoint/prepare.h"
#include "core/error.h"
#include "reference/reference_model.h"
#include "model_fixtures.h"
#include "test_support.h"

namespace slidesparse {
namespace {

constexpr int64_t kVocab = 16;

// Row r of a window puts all its mass (logit 50 against 0) on window[r] + 1: right exactly when the
// sequence counts up and each token is scored from the row before it.
std::vector<float> counting_logits(const std::vector<int32_t>& window) {
  std::vector<float> logits(window.size() * kVocab, 0.0f);
  for (size_t r = 0; r < window.size(); ++r) logits[r * kVocab + (window[r] + 1) % kVocab] = 50.0f;
  return logits;
}

TEST(Perplexity, WindowsScoreEveryTokenOnceFromThePredictingRow) {
  std::vector<int32_t> tokens(10);
  std::iota(tokens.begin(), tokens.end(), 0);
  std::vector<std::vector<int32_t>> seen;
  const PerplexityResult r = sliding_window_perplexity(tokens, 4, 2, kVocab, [&](const std::vector<int32_t>& w) {
    seen.push_back(w);
    return counting_logits(w);
  });
  // [0,4) scores 1..3, [2,6) 4..5, [4,8) 6..7, [6,10) 8..9.
  EXPECT_EQ(seen, (std::vector<std::vector<int32_t>>{{0, 1, 2, 3}, {2, 3, 4, 5}, {4, 5, 6, 7}, {6, 7, 8, 9}}));
  EXPECT_EQ(r.scored, 9);
  EXPECT_EQ(r.windows, 4);
  EXPECT_EQ(r.model_tokens, 16);
  const double per_token = std::log1p(15 * std::exp(-50.0));  // -log(e^50 / (e^50 + 15))
  EXPECT_NEAR(r.nll_sum, 9 * per_token, 1e-12);
  EXPECT_NEAR(r.perplexity(), std::exp(per_token), 1e-12);
  // A stride equal to the context: disjoint windows; a window's first token has nothing before it
  // in its window and goes unscored.
  const PerplexityResult disjoint = sliding_window_perplexity(tokens, 5, 5, kVocab, counting_logits);
  EXPECT_EQ(disjoint.windows, 2);
  EXPECT_EQ(disjoint.scored, 8);  // tokens 1..4 and 6..9: token 5 starts the second window
}

TEST(Perplexity, UniformLogitsGiveTheVocabularySize) {
  const std::vector<int32_t> tokens{3, 1, 4, 1, 5, 9, 2, 6};
  const PerplexityResult r = sliding_window_perplexity(tokens, 8, 8, kVocab, [](const std::vector<int32_t>& w) {
    return std::vector<float>(w.size() * kVocab, 0.25f);
  });
  EXPECT_EQ(r.scored, 7);
  EXPECT_NEAR(r.perplexity(), 16.0, 1e-9);
}

TEST(Perplexity, BadArgumentsAreOneError) {
  const std::vector<int32_t> tokens{1, 2, 3};
  auto message = [&](int context, int stride, std::vector<int32_t> t) {
    try {
      sliding_window_perplexity(t, context, stride, kVocab, counting_logits);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(message(1, 1, tokens), "perplexity: --context must be at least 2 tokens");
  EXPECT_EQ(message(4, 5, tokens), "perplexity: --stride must lie in 1..--context (4) so that every token is scored");
  EXPECT_EQ(message(4, 2, {7}), "perplexity: the text has 1 token(s); at least 2 are needed");
  try {
    sliding_window_perplexity(tokens, 4, 2, kVocab, [](const std::vector<int32_t>&) { return std::vector<float>(3); });
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "perplexity: the model returned 3 logits for a window of 3 tokens");
  }
}

}  // namespace
}  // namespace slidesparse
