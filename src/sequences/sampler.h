// Next-token sampling from one row of logits: greedy, or temperature with optional top-k and top-p,
// reproducible from (seed, sequence id, position) whatever the batch composition. The rule is
// math/token_sampling.h's; the engine applies it on the GPU (kernels/sampling.h), this class on the
// CPU (the reference backend, and the tests' oracle for the GPU sampler), its cuts found by the
// window search of math/key_window.h.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "math/key_window.h"
#include "math/token_sampling.h"
#include "sequences/sequence.h"

namespace slidesparse {

// Throws Error for a negative temperature or top_k, or top_p outside (0, 1].
void check_sampling_params(const SamplingParams& params);

// The row parameters of a request whose next token will take index `position` in its sequence:
// the random bits depend only on (params.seed, sequence_id, position). Temperature 0, top_k 1 or a
// temperature so small that log2(e) / temperature overflows is greedy. Checks the parameters first
// (check_sampling_params).
SampleRowParams sample_row_params(const SamplingParams& params, int64_t sequence_id, int position);

class Sampler {
 public:
  explicit Sampler(int64_t vocab_size);

  // The token the rule draws from `logits` (vocab_size floats). Greedy rows take the lowest index
  // among the maxima (-1 when every logit is NaN); so does a row whose largest logit is +inf.
  int32_t sample(const float* logits, const SampleRowParams& row);
  int32_t sample(const float* logits, const SamplingParams& params, int64_t sequence_id, int position) {
    return sample(logits, sample_row_params(params, sequence_id, position));
  }

 private:
  // Over `tokens` (indices whose keys all lie in the window) with their `weights`, or counting each
  // token once when `weights` is empty: the largest key K of the window whose measure over the keys
  // >= K reaches the target, the count `count_target` or top_p of the tokens' weight; the window's
  // lowest key when all of them fall short.
  uint32_t window_cut(const float* logits, std::span<const int32_t> tokens, std::span<const uint32_t> weights,
                      KeyWindow window, uint64_t count_target, float top_p);

  int64_t vocab_;
  std::vector<int32_t> tokens_;      // scratch, sized once: the indices still in play, ascending
  std::vector<uint32_t> weights_;    // scratch: their weights, once top-k has been applied
  std::vector<uint64_t> histogram_;  // scratch: one measure per bucket
  std::vector<std::pair<uint32_t, uint32_t>> candidates_;  // scratch: (key, measure) of a crossing bucket
};

}  // namespace slidesparse
