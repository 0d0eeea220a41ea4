#include "sequences/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/counter_rng.h"
#include "core/error.h"

namespace slidesparse {

Sampler::Sampler(int64_t vocab_size) : vocab_(vocab_size), order_(static_cast<size_t>(vocab_size)),
                                       probs_(static_cast<size_t>(vocab_size)) {
  require(vocab_size > 0, "sampler: empty vocabulary");
}

int32_t Sampler::sample(const float* logits, const SamplingParams& p, int64_t sequence_id, int position) {
  if (p.temperature <= 0.0f || p.top_k == 1)
    return static_cast<int32_t>(std::max_element(logits, logits + vocab_) - logits);
  require(p.top_p > 0.0f && p.top_p <= 1.0f, "sampler: top_p must be in (0, 1]");
  // Candidates by descending logit (ties: lower index first), cut to top-k.
  const int64_t k = p.top_k > 0 ? std::min<int64_t>(p.top_k, vocab_) : vocab_;
  std::iota(order_.begin(), order_.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  std::partial_sort(order_.begin(), order_.begin() + k, order_.end(), by_logit);
  // Softmax over the candidates at temperature T (max subtracted for range).
  const float inv_t = 1.0f / p.temperature;
  const float top = logits[order_[0]];
  double total = 0;
  for (int64_t i = 0; i < k; ++i) total += probs_[i] = std::exp((logits[order_[i]] - top) * inv_t);
  // Top-p: the shortest prefix whose probability reaches top_p.
  int64_t keep = k;
  if (p.top_p < 1.0f) {
    double cumulative = 0;
    for (int64_t i = 0; i < k; ++i) {
      cumulative += probs_[i] / total;
      if (cumulative >= p.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept = 0;
  for (int64_t i = 0; i < keep; ++i) kept += probs_[i];
  const uint64_t bits = counter_hash(p.seed, static_cast<uint64_t>(sequence_id), static_cast<uint64_t>(position));
  const double u = static_cast<double>(bits >> 11) * 0x1.0p-53 * kept;  // uniform in [0, kept)
  double cumulative = 0;
  for (int64_t i = 0; i < keep; ++i) {
    cumulative += probs_[i];
    if (u < cumulative) return order_[i];
  }
  return order_[keep - 1];
}

}  // namespace slidesparse
