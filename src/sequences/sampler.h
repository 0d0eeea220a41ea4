// Next-token sampling from one row of logits: greedy, or temperature with optional top-k and top-p,
// reproducible from (seed, sequence id, position) whatever the batch composition.
#pragma once

#include <cstdint>
#include <vector>

#include "sequences/sequence.h"

namespace slidesparse {

class Sampler {
 public:
  explicit Sampler(int64_t vocab_size);

  // `position` is the index the sampled token will take in the sequence; the random draw depends
  // only on (params.seed, sequence_id, position). Temperature 0 (or top_k 1) is greedy: the lowest
  // index among the maxima.
  int32_t sample(const float* logits, const SamplingParams& params, int64_t sequence_id, int position);

 private:
  int64_t vocab_;
  std::vector<int32_t> order_;  // scratch, sized once
  std::vector<float> probs_;
};

}  // namespace slidesparse
