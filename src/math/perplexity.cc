#include "math/perplexity.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace slidesparse {

PerplexityResult sliding_window_perplexity(
    const std::vector<int32_t>& tokens, int context, int stride, int64_t vocab,
    const std::function<std::vector<float>(const std::vector<int32_t>&)>& logits_of) {
  require(context >= 2, "perplexity: --context must be at least 2 tokens");
  require(stride >= 1 && stride <= context, "perplexity: --stride must lie in 1..--context (" + std::to_string(context) +
                                                ") so that every token is scored");
  const int64_t n = static_cast<int64_t>(tokens.size());
  require(n >= 2, "perplexity: the text has " + std::to_string(n) + " token(s); at least 2 are needed");
  PerplexityResult r;
  int64_t scored_until = 1;  // tokens [0, scored_until) are scored (token 0 never is)
  for (int64_t begin = 0; scored_until < n; begin += stride) {
    const int64_t end = std::min(begin + context, n);
    const std::vector<int32_t> window(tokens.begin() + begin, tokens.begin() + end);
    const std::vector<float> logits = logits_of(window);
    require(static_cast<int64_t>(logits.size()) == (end - begin) * vocab,
            "perplexity: the model returned " + std::to_string(logits.size()) + " logits for a window of " +
                std::to_string(end - begin) + " tokens");
    for (int64_t p = std::max(scored_until, begin + 1); p < end; ++p) {
      const float* row = logits.data() + (p - 1 - begin) * vocab;  // predicts token p
      double max = row[0];
      for (int64_t v = 1; v < vocab; ++v) max = std::max(max, static_cast<double>(row[v]));
      double sum = 0;
      for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - max);
      r.nll_sum += -(static_cast<double>(row[tokens[static_cast<size_t>(p)]]) - max - std::log(sum));
      ++r.scored;
    }
    scored_until = std::max(scored_until, end);
    ++r.windows;
    r.model_tokens += end - begin;
    if (end == n) break;
  }
  return r;
}

}  // namespace slidesparse
