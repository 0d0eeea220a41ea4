// Perplexity of a token sequence with the sliding-window protocol of transformers' perplexity guide:
// windows of at most `context` tokens starting every `stride` tokens; each window scores only the
// tokens past the previous window's end (the rest are context), so with stride < context every token
// after the first is scored once, with at least context - stride tokens before it (stride = context:
// disjoint windows, whose first tokens go unscored). perplexity = exp(mean negative log-likelihood
// over the scored tokens), log-softmax in double precision.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

namespace slidesparse {

struct PerplexityResult {
  double nll_sum = 0;      // sum of -log p(token | its window's preceding tokens)
  int64_t scored = 0;      // tokens scored (tokens.size() - 1 when stride < context)
  int64_t windows = 0;
  int64_t model_tokens = 0;  // tokens run through the model (context included)
  double perplexity() const { return scored ? std::exp(nll_sum / static_cast<double>(scored)) : 0.0; }
};

// `logits_of(window)`: fp32 logits [window.size(), vocab] of a causal forward of the window alone.
// Throws Error for context < 2, stride < 1, stride > context (tokens would go unscored), fewer
// than 2 tokens, or logits of the wrong size.
PerplexityResult sliding_window_perplexity(
    const std::vector<int32_t>& tokens, int context, int stride, int64_t vocab,
    const std::function<std::vector<float>(const std::vector<int32_t>&)>& logits_of);

}  // namespace slidesparse
