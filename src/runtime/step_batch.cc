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

void cudnn_sequence_arrays(const StepBatch& b, int bucket_seqs, int64_t row_elems, std::vector<int32_t>& offsets,
                           std::vector<int32_t>& query_lens) {
  const int seqs = b.num_seqs();
  require(bucket_seqs >= seqs && static_cast<int>(b.query_start.size()) == seqs + 1,
          "cuDNN attention: a bucket of " + std::to_string(bucket_seqs) + " sequences for a step of " +
              std::to_string(seqs));
  const int64_t end = int64_t{b.num_tokens()} * row_elems;
  require(end <= INT32_MAX, "cuDNN attention: step too large for int32 offsets");
  offsets.assign(static_cast<size_t>(bucket_seqs) + 1, static_cast<int32_t>(end));
  query_lens.assign(static_cast<size_t>(bucket_seqs), 0);
  for (int s = 0; s < seqs; ++s) {
    offsets[s] = static_cast<int32_t>(b.query_start[s] * row_elems);
    query_lens[s] = b.query_start[s + 1] - b.query_start[s];
  }
}

void cudnn_block_table(const StepBatch& b, int bucket_seqs, int max_blocks_per_seq, int table_width,
                       std::vector<int32_t>& table) {
  const int seqs = b.num_seqs();
  require(bucket_seqs >= seqs && table_width > 0 && table_width <= max_blocks_per_seq &&
              b.block_table.size() == static_cast<size_t>(seqs) * max_blocks_per_seq,
          "cuDNN attention: a block table of " + std::to_string(bucket_seqs) + " x " + std::to_string(table_width) +
              " from a step of " + std::to_string(seqs) + " sequences x " + std::to_string(max_blocks_per_seq) +
              " blocks");
  table.assign(static_cast<size_t>(bucket_seqs) * table_width, 0);
  for (int s = 0; s < seqs; ++s)
    std::copy_n(b.block_table.begin() + static_cast<ptrdiff_t>(s) * max_blocks_per_seq, table_width,
                table.begin() + static_cast<ptrdiff_t>(s) * table_width);
}

}  // namespace slidesparse
