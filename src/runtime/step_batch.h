// One engine step as the model runner consumes it: host arrays the engine fills from the
// scheduler's chunks, copied to fixed device addresses in one transfer before the forward runs.
#pragma once

#include <cstdint>
#include <vector>

namespace slidesparse {

struct StepBatch {
  bool decode = false;                // every sequence runs exactly one token (CUDA-graph eligible)
  std::vector<int32_t> tokens;        // [T] token ids
  std::vector<int32_t> positions;     // [T] position of each token in its sequence
  std::vector<int32_t> slots;         // [T] KV-cache slot (block * block_size + offset)
  std::vector<int32_t> query_start;   // [S + 1] first row of each sequence's tokens
  std::vector<int32_t> seq_len;       // [S] tokens in the cache after this step
  std::vector<int32_t> block_table;   // [S][max_blocks_per_seq]
  std::vector<int32_t> sample_rows;   // rows whose next token is wanted, in output order
  int max_query_len = 0;
  int max_seq_len = 0;

  int num_tokens() const { return static_cast<int>(tokens.size()); }
  int num_seqs() const { return static_cast<int>(seq_len.size()); }
  void clear();
};

// The per-sequence arrays cuDNN's attention reads besides seq_len and the block table, for a
// bucket of `bucket_seqs` >= batch.num_seqs() sequences: each sequence's first element in q / out
// (query_start * row_elems; the bucket's padding sequences, and the end, at num_tokens * row_elems)
// and its query rows (0 for padding). The vectors are reused: no allocation once they are large
// enough. Throws Error when an offset would not fit int32.
void cudnn_sequence_arrays(const StepBatch& batch, int bucket_seqs, int64_t row_elems, std::vector<int32_t>& offsets,
                           std::vector<int32_t>& query_lens);

// cuDNN's block tables: exactly ceil(bucket keys / block size) = `table_width` entries per sequence
// (its paged load accepts no other width), [bucket_seqs][table_width] row-major, cut from the
// batch's [S][max_blocks_per_seq] table; the padding sequences' rows are block 0 (any valid id:
// their lengths are 0). `table` is reused. Throws Error when the width exceeds max_blocks_per_seq.
void cudnn_block_table(const StepBatch& batch, int bucket_seqs, int max_blocks_per_seq, int table_width,
                       std::vector<int32_t>& table);

}  // namespace slidesparse
