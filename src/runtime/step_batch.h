// One engine step as the model runner consumes it: host arrays the engine fills from the
// scheduler's chunks, each copied to a fixed device address (one transfer per array, through a
// pinned mirror) before the forward runs.
#pragma once

#include <cstdint>
#include <vector>

#include "math/token_sampling.h"
#include "sequences/scheduler.h"

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
  std::vector<SampleRowParams> sample_params;  // [sample_rows] how each row's token is drawn
  // Empty, or [T] when the step was scheduled before the previous step's tokens were known: the
  // previous step's sample row whose token is this row's token, -1 where tokens[t] holds it.
  std::vector<int32_t> carried_rows;
  int max_query_len = 0;
  int max_seq_len = 0;

  int num_tokens() const { return static_cast<int>(tokens.size()); }
  int num_seqs() const { return static_cast<int>(seq_len.size()); }
  void clear();
};

// Fills `batch` (cleared first; its vectors keep their capacity) from the scheduler's chunks: each
// chunk's tokens with their positions and KV slots, its sequence's length after the step and block
// table padded with 0 to max_blocks_per_seq entries, and its last row when it samples, with the
// sampling parameters of the token it draws there (sample_row_params: the request's, at the index
// that token takes). A step is a decode step when it is not a prefill step and every chunk runs one
// token.
void fill_step_batch(const SchedulerStep& step, int block_size, int max_blocks_per_seq, StepBatch& batch);

// For a step scheduled ahead (Scheduler::complete_ahead): every row whose token `previous` sampled
// takes it from `previous`'s sample rows on the device (batch.carried_rows; the host only has
// kPendingToken there). `next`'s chunks must run their sequences in `previous`'s order, which the
// scheduler keeps (admission order). Throws Error when a pending token has no row to come from.
void carry_sampled_tokens(const SchedulerStep& previous, const SchedulerStep& next, StepBatch& batch);

// True when every sequence of the step is a fresh prompt: its queries are all of its tokens
// (nothing of it cached before this step), the steps cuDNN's attention runs.
bool all_fresh_prompts(const StepBatch& batch);

// cuDNN's ragged offsets for a bucket of `bucket_seqs` >= batch.num_seqs() sequences: each
// sequence's first element in q / out (query_start * q_row_elems) and in the packed k / v rows
// (query_start * kv_row_elems); the bucket's padding sequences, and the end, at num_tokens rows.
// The vectors are reused: no allocation once they are large enough. Throws Error when an offset
// would not fit int32.
void cudnn_sequence_offsets(const StepBatch& batch, int bucket_seqs, int64_t q_row_elems, int64_t kv_row_elems,
                            std::vector<int32_t>& q_offsets, std::vector<int32_t>& kv_offsets);

}  // namespace slidesparse
