// The CPU side of math/token_sampling.h's rule, written the direct way (a selection for top-k, a
// sort for top-p) so that it also serves as the oracle of the GPU sampler's radix search. The tests
// check it against the rule's definition over the whole vocabulary (sampler_test.cc).
#include "sequences/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <functional>

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
  keys_.resize(static_cast<size_t>(vocab_size));
  weighted_.reserve(static_cast<size_t>(vocab_size));
}

int32_t Sampler::sample(const float* logits, const SampleRowParams& row) {
  int64_t best = -1;
  for (int64_t i = 0; i < vocab_; ++i)  // NaN never compares greater, so it never wins
    if (!std::isnan(logits[i]) && (best < 0 || logits[i] > logits[best])) best = i;
  if (samples_greedily(row) || best < 0 || !std::isfinite(logits[best])) return static_cast<int32_t>(best);
  const float top = logits[best];

  // Only tokens at or above `floor` weigh anything: a cut below it keeps or drops nothing that
  // changes a total or the draw, so the cuts are searched among those tokens alone.
  const uint32_t floor = lowest_weighted_key(top, row.exponent_scale);
  uint32_t cut = floor;
  // Top-k: the k-th largest key, which lies among the weighted tokens unless they are k or fewer.
  if (row.top_k > 0) {
    size_t weighted = 0;  // stored unconditionally, counted when kept: no branch to mispredict
    for (int64_t i = 0; i < vocab_; ++i) {
      const uint32_t key = logit_order_key(logits[i]);
      keys_[weighted] = key;
      weighted += static_cast<size_t>(!std::isnan(logits[i]) & (key >= floor));
    }
    if (static_cast<size_t>(row.top_k) < weighted) {
      std::nth_element(keys_.begin(), keys_.begin() + (row.top_k - 1), keys_.begin() + weighted, std::greater<>());
      cut = keys_[static_cast<size_t>(row.top_k - 1)];
    }
  }
  // Top-p: of the survivors by descending key, the first key at which the weight so far reaches
  // the target.
  if (row.top_p < 1.0f) {
    weighted_.clear();
    uint64_t total = 0;
    for (int64_t i = 0; i < vocab_; ++i) {
      if (std::isnan(logits[i]) || logit_order_key(logits[i]) < cut) continue;
      weighted_.emplace_back(logit_order_key(logits[i]), token_weight(logits[i], top, row.exponent_scale));
      total += weighted_.back().second;
    }
    std::sort(weighted_.begin(), weighted_.end(), std::greater<>());
    const uint64_t target = top_p_target(row.top_p, total);
    uint64_t so_far = 0;
    for (size_t i = 0; i < weighted_.size(); ++i) {
      so_far += weighted_[i].second;
      const bool last_of_key = i + 1 == weighted_.size() || weighted_[i + 1].first != weighted_[i].first;
      if (last_of_key && so_far >= target) {
        cut = weighted_[i].first;
        break;
      }
    }
  }
  // The draw, over the kept tokens in index order.
  uint64_t kept = 0;
  for (int64_t i = 0; i < vocab_; ++i)
    if (!std::isnan(logits[i]) && logit_order_key(logits[i]) >= cut) kept += token_weight(logits[i], top, row.exponent_scale);
  const uint64_t u = draw_point(row.random_bits, kept);
  uint64_t running = 0;
  for (int64_t i = 0; i < vocab_; ++i) {
    if (std::isnan(logits[i]) || logit_order_key(logits[i]) < cut) continue;
    running += token_weight(logits[i], top, row.exponent_scale);
    if (running > u) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(best);  // unreachable: the largest logit alone weighs 2^31 > 0
}

}  // namespace slidesparse
