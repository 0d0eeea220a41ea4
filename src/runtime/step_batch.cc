#include "runtime/step_batch.h"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <string>

#include "core/error.h"

namespace slidesparse {

void StepBatch::clear() {
  decode = false;
  tokens.clear();
  positions.clear();
  slots.clear();
  query_start.clear();
  seq_len.clear();
  block_table.clear();
  sample_rows.clear();
  max_query_len = max_seq_len = 0;
}

bool all_fresh_prompts(const StepBatch& b) {
  if (static_cast<int>(b.query_start.size()) != b.num_seqs() + 1) return false;
  for (int s = 0; s < b.num_seqs(); ++s)
    if (b.query_start[s + 1] - b.query_start[s] != b.seq_len[s]) return false;
  return true;
}

void cudnn_sequence_offsets(const StepBatch& b, int bucket_seqs, int64_t q_row_elems, int64_t kv_row_elems,
                            std::vector<int32_t>& q_offsets, std::vector<int32_t>& kv_offsets) {
  const int seqs = b.num_seqs();
  require(bucket_seqs >= seqs && static_cast<int>(b.query_start.size()) == seqs + 1,
          "cuDNN attention: a bucket of " + std::to_string(bucket_seqs) + " sequences for a step of " +
              std::to_string(seqs));
  const int64_t rows = b.num_tokens();
  require(rows * std::max(q_row_elems, kv_row_elems) <= INT32_MAX,
          "cuDNN attention: step too large for int32 offsets");
  auto fill = [&](std::vector<int32_t>& offsets, int64_t row_elems) {
    offsets.assign(static_cast<size_t>(bucket_seqs) + 1, static_cast<int32_t>(rows * row_elems));
    for (int s = 0; s < seqs; ++s) offsets[s] = static_cast<int32_t>(b.query_start[s] * row_elems);
  };
  fill(q_offsets, q_row_elems);
  fill(kv_offsets, kv_row_elems);
}

}  // namespace slidesparse
