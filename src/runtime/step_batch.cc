#include "runtime/step_batch.h"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <string>

#include "core/error.h"
#include "sequences/sampler.h"

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
  sample_params.clear();
  carried_rows.clear();
  max_query_len = max_seq_len = 0;
}

void fill_step_batch(const SchedulerStep& step, int block_size, int max_blocks, StepBatch& b) {
  b.clear();
  // A decode step can carry a multi-token chunk (a prompt cut by chunking whose next chunk did not
  // fit the cache): such a step runs as a mixed step through the prefill attention.
  b.decode = !step.prefill && std::all_of(step.chunks.begin(), step.chunks.end(),
                                          [](const ScheduledChunk& c) { return c.num_tokens == 1; });
  b.query_start.push_back(0);
  for (const ScheduledChunk& chunk : step.chunks) {
    const Sequence& seq = *chunk.seq;
    for (int i = chunk.first_token; i < chunk.first_token + chunk.num_tokens; ++i) {
      b.tokens.push_back(seq.tokens[static_cast<size_t>(i)]);
      b.positions.push_back(i);
      b.slots.push_back(seq.block_table[static_cast<size_t>(i / block_size)] * block_size + i % block_size);
    }
    b.query_start.push_back(b.num_tokens());
    const int len = chunk.first_token + chunk.num_tokens;
    b.seq_len.push_back(len);
    b.block_table.insert(b.block_table.end(), seq.block_table.begin(), seq.block_table.end());
    b.block_table.resize(b.seq_len.size() * static_cast<size_t>(max_blocks), 0);
    if (chunk.samples) {
      b.sample_rows.push_back(b.num_tokens() - 1);
      b.sample_params.push_back(sample_row_params(seq.params, seq.id, seq.num_tokens()));
    }
    b.max_query_len = std::max(b.max_query_len, chunk.num_tokens);
    b.max_seq_len = std::max(b.max_seq_len, len);
  }
}

void carry_sampled_tokens(const SchedulerStep& previous, const SchedulerStep& next, StepBatch& b) {
  b.carried_rows.assign(b.tokens.size(), -1);
  size_t from = 0;  // previous's next chunk to look at
  int sample_row = 0;  // previous's sample row of that chunk
  int row = 0;
  for (const ScheduledChunk& chunk : next.chunks) {
    for (int i = 0; i < chunk.num_tokens; ++i, ++row) {
      if (b.tokens[static_cast<size_t>(row)] != kPendingToken) continue;
      const int position = chunk.first_token + i;
      for (; from < previous.chunks.size(); ++from) {
        const ScheduledChunk& p = previous.chunks[from];
        if (p.seq == chunk.seq && p.samples && p.first_token + p.num_tokens == position) break;
        sample_row += p.samples;
      }
      require(from < previous.chunks.size(), [&] {
        return "step batch: the pending token of request " + std::to_string(chunk.seq->id) + " at position " +
               std::to_string(position) + " was not sampled by the previous step";
      });
      b.carried_rows[static_cast<size_t>(row)] = sample_row;
    }
  }
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
