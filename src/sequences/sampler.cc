// The CPU side of math/token_sampling.h's rule. Its cuts are found by math/key_window.h's search:
// one histogram pass over the row, one pass that keeps the crossing bucket's tokens, the rest on
// those alone. The tests check it against the rule's definition over the whole vocabulary
// (sampler_test.cc), which makes it the oracle of the GPU sampler.
#include "sequences/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/counter_rng.h"
#include "core/error.h"

namespace slidesparse {

void check_sampling_params(const SamplingParams& p) {
  require(p.temperature >= 0.0f && p.top_k >= 0 && p.top_p > 0.0f && p.top_p <= 1.0f, [&] {
    char values[96];
    std::snprintf(values, sizeof values, "temperature %g, top_k %d, top_p %g", p.temperature, p.top_k, p.top_p);
    return "sampling: need temperature >= 0, top_k >= 0 and top_p in (0, 1]; got " + std::string(values);
  });
}

SampleRowParams sample_row_params(const SamplingParams& p, int64_t sequence_id, int position) {
  check_sampling_params(p);
  SampleRowParams row;
  constexpr float kLog2e = 1.4426950408889634f;
  const float scale = p.temperature > 0.0f ? kLog2e / p.temperature : 0.0f;
  if (!std::isfinite(scale) || p.top_k == 1) return row;  // greedy
  row.exponent_scale = scale;
  row.top_k = p.top_k;
  row.top_p = p.top_p;
  row.random_bits = counter_hash(p.seed, static_cast<uint64_t>(sequence_id), static_cast<uint64_t>(position));
  return row;
}

Sampler::Sampler(int64_t vocab_size) : vocab_(vocab_size) {
  require(vocab_size > 0 && vocab_size < INT32_MAX, "sampler: vocabulary size outside 1..2^31 - 2");
  tokens_.resize(static_cast<size_t>(vocab_size));
  weights_.resize(static_cast<size_t>(vocab_size));
  histogram_.resize(kKeyWindowBuckets);
  candidates_.reserve(static_cast<size_t>(vocab_size));
}

uint32_t Sampler::window_cut(const float* logits, std::span<const int32_t> tokens, std::span<const uint32_t> weights,
                             KeyWindow w, uint64_t count_target, float top_p) {
  const bool by_weight = !weights.empty();
  // One histogram over the whole window.
  std::fill(histogram_.begin(), histogram_.begin() + window_buckets(w), uint64_t{0});
  for (size_t j = 0; j < tokens.size(); ++j)
    histogram_[key_bucket(w, logit_order_key(logits[tokens[j]]))] += by_weight ? weights[j] : 1u;
  uint64_t target = count_target;
  if (by_weight) {
    uint64_t total = 0;
    for (uint32_t b = 0; b < window_buckets(w); ++b) total += histogram_[b];
    target = top_p_target(top_p, total);
  }
  BucketCrossing crossing = crossing_bucket(histogram_.data(), window_buckets(w), 0, target);
  if (!crossing.found) return w.lo;
  w = bucket_window(w, crossing.bucket);
  // The crossing bucket's tokens, then histograms over them alone until a bucket is one key.
  candidates_.clear();
  for (size_t j = 0; j < tokens.size(); ++j) {
    const uint32_t key = logit_order_key(logits[tokens[j]]);
    if (key_in_window(w, key)) candidates_.emplace_back(key, by_weight ? weights[j] : 1u);
  }
  while (w.lo != w.hi) {
    std::fill(histogram_.begin(), histogram_.begin() + window_buckets(w), uint64_t{0});
    for (const auto& [key, measure] : candidates_) histogram_[key_bucket(w, key)] += measure;
    // Found: this bucket's measure reached the target in the previous round.
    crossing = crossing_bucket(histogram_.data(), window_buckets(w), crossing.above, target);
    w = bucket_window(w, crossing.bucket);
    std::erase_if(candidates_, [&](const auto& c) { return !key_in_window(w, c.first); });
  }
  return w.lo;
}

int32_t Sampler::sample(const float* logits, const SampleRowParams& row) {
  int64_t best = -1;
  for (int64_t i = 0; i < vocab_; ++i)  // NaN never compares greater, so it never wins
    if (!std::isnan(logits[i]) && (best < 0 || logits[i] > logits[best])) best = i;
  if (samples_greedily(row) || best < 0 || !std::isfinite(logits[best])) return static_cast<int32_t>(best);
  const float top = logits[best], scale = row.exponent_scale;

  // Only tokens at or above `floor` weigh anything: a cut below it keeps or drops nothing that
  // changes a total or the draw, so the cuts are searched among those tokens alone. Each cut keeps
  // the tokens of keys cut..top_key, in index order. Tokens are stored unconditionally and counted
  // when kept: a branch per token on a window that keeps a random half of them mispredicts half the
  // time. NaN needs no test of its own: its keys lie above +inf's or below -inf's, outside every
  // window here.
  const uint32_t floor = lowest_weighted_key(top, scale), top_key = logit_order_key(top);
  KeyWindow window = key_window(floor, top_key);
  size_t kept = 0;
  for (int64_t i = 0; i < vocab_; ++i) {
    tokens_[kept] = static_cast<int32_t>(i);
    kept += key_in_window(window, logit_order_key(logits[i]));
  }
  const auto keep_window = [&](uint32_t cut, bool weighed) {  // drops the tokens below the cut
    window = key_window(cut, top_key);
    size_t n = 0;
    for (size_t j = 0; j < kept; ++j) {
      tokens_[n] = tokens_[j];
      if (weighed) weights_[n] = weights_[j];
      n += key_in_window(window, logit_order_key(logits[tokens_[j]]));
    }
    kept = n;
  };
  // Top-k: the k-th largest key, which lies among the weighted tokens unless they are k or fewer.
  if (row.top_k > 0)
    keep_window(window_cut(logits, {tokens_.data(), kept}, {}, window, static_cast<uint64_t>(row.top_k), 1.0f), false);
  for (size_t j = 0; j < kept; ++j) weights_[j] = token_weight(logits[tokens_[j]], top, scale);
  // Top-p: of the kept tokens by descending key, the first key at which the weight so far reaches the
  // target.
  if (row.top_p < 1.0f)
    keep_window(window_cut(logits, {tokens_.data(), kept}, {weights_.data(), kept}, window, 0, row.top_p), true);
  // The draw, over the kept tokens in index order.
  uint64_t total = 0;
  for (size_t j = 0; j < kept; ++j) total += weights_[j];
  const uint64_t u = draw_point(row.random_bits, total);
  uint64_t running = 0;
  for (size_t j = 0; j < kept; ++j) {
    running += weights_[j];
    if (running > u) return tokens_[j];
  }
  return static_cast<int32_t>(best);  // unreachable: the largest logit alone weighs 2^31 > 0
}

}  // namespace slidesparse
