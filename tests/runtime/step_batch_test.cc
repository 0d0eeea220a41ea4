// What a prefill step of fresh prompts hands cuDNN's attention besides the lengths: element offsets
// of every sequence's rows in the packed q / out and k / v, and the bucket's empty padding
// sequences after the real ones; which steps are fresh prompts only; and the step's arrays as the
// engine fills them from the scheduler's chunks.
#include "runtime/step_batch.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "sequences/sampler.h"

namespace slidesparse {
namespace {

StepBatch three_sequences() {  // 5 + 1 + 3 query rows
  StepBatch b;
  b.query_start = {0, 5, 6, 9};
  b.seq_len = {5, 40, 3};
  b.tokens.assign(9, 1);
  return b;
}

TEST(CudnnSequenceOffsets, OffsetsAreElementsAndPaddingSequencesStartAtTheEnd) {
  std::vector<int32_t> q, kv;
  cudnn_sequence_offsets(three_sequences(), 4, 2560, 1280, q, kv);
  EXPECT_EQ(q, (std::vector<int32_t>{0, 5 * 2560, 6 * 2560, 9 * 2560, 9 * 2560}));
  EXPECT_EQ(kv, (std::vector<int32_t>{0, 5 * 1280, 6 * 1280, 9 * 1280, 9 * 1280}));
}

TEST(CudnnSequenceOffsets, AnExactBucketHasNoPadding) {
  std::vector<int32_t> q{7, 7, 7, 7, 7, 7, 7}, kv{9, 9, 9, 9, 9, 9};  // reused, shrunk
  cudnn_sequence_offsets(three_sequences(), 3, 128, 256, q, kv);
  EXPECT_EQ(q, (std::vector<int32_t>{0, 640, 768, 1152}));
  EXPECT_EQ(kv, (std::vector<int32_t>{0, 1280, 1536, 2304}));
}

TEST(CudnnSequenceOffsets, RefusesASmallBucketAndInt32Overflow) {
  std::vector<int32_t> q, kv;
  try {
    cudnn_sequence_offsets(three_sequences(), 2, 2560, 1280, q, kv);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cuDNN attention: a bucket of 2 sequences for a step of 3");
  }
  StepBatch big = three_sequences();
  big.tokens.assign(1 << 20, 1);  // 2^20 rows x 2^12 elements = 2^32
  try {
    cudnn_sequence_offsets(big, 4, 1024, 4096, q, kv);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cuDNN attention: step too large for int32 offsets");
  }
}

TEST(AllFreshPrompts, OnlyWhenEverySequencesQueriesAreAllItsTokens) {
  StepBatch b = three_sequences();  // the second sequence has 39 cached tokens
  EXPECT_FALSE(all_fresh_prompts(b));
  b.seq_len = {5, 1, 3};
  EXPECT_TRUE(all_fresh_prompts(b));
  b.seq_len = {5, 1, 4};  // one more key than queries: a cached token
  EXPECT_FALSE(all_fresh_prompts(b));
}

}  // namespace
}  // namespace slidesparse

namespace slidesparse {
namespace {

TEST(FillStepBatch, DecodeStepOneRowPerSequenceWithSlotsAndPaddedBlockTables) {
  SamplingParams warm;
  warm.temperature = 0.7f, warm.top_k = 40, warm.top_p = 0.9f, warm.seed = 5;
  Sequence a(1, {5, 6, 7, 8}, warm);
  a.tokens.push_back(9);  // generated last step
  a.num_computed_tokens = 4;
  a.block_table = {3, 7};
  Sequence b(2, {1, 2}, SamplingParams{});
  b.tokens.push_back(3);
  b.num_computed_tokens = 2;
  b.block_table = {2};
  SchedulerStep step;
  step.chunks = {{&a, 4, 1, true}, {&b, 2, 1, true}};
  StepBatch batch;
  batch.tokens = {42};  // filled anew
  fill_step_batch(step, /*block_size=*/4, /*max_blocks_per_seq=*/3, batch);
  EXPECT_TRUE(batch.decode);
  EXPECT_EQ(batch.tokens, (std::vector<int32_t>{9, 3}));
  EXPECT_EQ(batch.positions, (std::vector<int32_t>{4, 2}));
  EXPECT_EQ(batch.slots, (std::vector<int32_t>{7 * 4 + 0, 2 * 4 + 2}));
  EXPECT_EQ(batch.query_start, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(batch.seq_len, (std::vector<int32_t>{5, 3}));
  EXPECT_EQ(batch.block_table, (std::vector<int32_t>{3, 7, 0, 2, 0, 0}));
  EXPECT_EQ(batch.sample_rows, (std::vector<int32_t>{0, 1}));
  ASSERT_EQ(batch.sample_params.size(), 2u);  // the token each row draws takes index num_tokens()
  const SampleRowParams want = sample_row_params(warm, 1, 5);
  EXPECT_EQ(batch.sample_params[0].exponent_scale, want.exponent_scale);
  EXPECT_EQ(batch.sample_params[0].top_k, 40);
  EXPECT_EQ(batch.sample_params[0].top_p, 0.9f);
  EXPECT_EQ(batch.sample_params[0].random_bits, want.random_bits);
  EXPECT_NE(want.random_bits, sample_row_params(warm, 1, 6).random_bits);
  EXPECT_TRUE(samples_greedily(batch.sample_params[1]));
  EXPECT_EQ(batch.max_query_len, 1);
  EXPECT_EQ(batch.max_seq_len, 5);
}

TEST(FillStepBatch, AMultiTokenChunkMakesAMixedStepAndOnlySamplingChunksGetARow) {
  Sequence prompt(1, {10, 11, 12, 13, 14, 15}, SamplingParams{});
  prompt.block_table = {4, 5};
  Sequence running(2, {1, 2, 3}, SamplingParams{});
  running.num_computed_tokens = 2;
  running.block_table = {6, 9};
  SchedulerStep step;
  step.chunks = {{&prompt, 0, 4, false}, {&running, 2, 1, true}};  // the prompt's first 4 of 6 tokens
  StepBatch batch;
  fill_step_batch(step, 2, 3, batch);
  EXPECT_FALSE(batch.decode);
  EXPECT_EQ(batch.tokens, (std::vector<int32_t>{10, 11, 12, 13, 3}));
  EXPECT_EQ(batch.positions, (std::vector<int32_t>{0, 1, 2, 3, 2}));
  EXPECT_EQ(batch.slots, (std::vector<int32_t>{8, 9, 10, 11, 9 * 2 + 0}));
  EXPECT_EQ(batch.query_start, (std::vector<int32_t>{0, 4, 5}));
  EXPECT_EQ(batch.seq_len, (std::vector<int32_t>{4, 3}));
  EXPECT_EQ(batch.block_table, (std::vector<int32_t>{4, 5, 0, 6, 9, 0}));
  EXPECT_EQ(batch.sample_rows, (std::vector<int32_t>{4}));
  EXPECT_EQ(batch.sample_params.size(), 1u);
  EXPECT_EQ(batch.max_query_len, 4);
  EXPECT_EQ(batch.max_seq_len, 4);
}

// A step scheduled ahead: the previous step sampled for b (a prompt's last chunk), c and d, not a
// (mid-prompt); d finished, so the next step runs b and c, whose tokens are still pending on the
// host, and a, whose next prompt token is known.
TEST(CarrySampledTokens, PendingRowsTakeThePreviousStepsSampleRows) {
  Sequence a(1, {1, 2, 3, 4, 5}, SamplingParams{}), b(2, {6, 7, 8}, SamplingParams{});
  Sequence c(3, {9, 10}, SamplingParams{}), d(4, {11, 12}, SamplingParams{});
  a.block_table = {1, 3};  // its positions 3 and 4 span two blocks of 4
  for (Sequence* s : {&b, &c, &d}) s->block_table = {2};
  SchedulerStep previous;
  previous.chunks = {{&a, 0, 3, false}, {&b, 0, 3, true}, {&c, 1, 1, true}, {&d, 1, 1, true}};
  a.num_computed_tokens = 3;
  b.num_computed_tokens = 3, b.tokens.push_back(kPendingToken);
  c.num_computed_tokens = 2, c.tokens.push_back(kPendingToken);
  SchedulerStep next;
  next.chunks = {{&a, 3, 2, true}, {&b, 3, 1, true}, {&c, 2, 1, true}};
  StepBatch batch;
  fill_step_batch(next, 4, 2, batch);
  carry_sampled_tokens(previous, next, batch);
  EXPECT_EQ(batch.tokens, (std::vector<int32_t>{4, 5, kPendingToken, kPendingToken}));
  EXPECT_EQ(batch.carried_rows, (std::vector<int32_t>{-1, -1, 0, 1}));  // b and c were sample rows 0 and 1
  fill_step_batch(next, 4, 2, batch);
  EXPECT_TRUE(batch.carried_rows.empty());
}

TEST(CarrySampledTokens, APendingTokenTheLastStepDidNotSampleIsAnError) {
  Sequence a(7, {1, 2}, SamplingParams{});
  a.block_table = {0};
  a.tokens.push_back(kPendingToken);
  a.num_computed_tokens = 2;
  SchedulerStep previous, next;
  next.chunks = {{&a, 2, 1, true}};
  StepBatch batch;
  fill_step_batch(next, 4, 1, batch);
  try {
    carry_sampled_tokens(previous, next, batch);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "step batch: the pending token of request 7 at position 2 was not sampled by the previous step");
  }
}

}  // namespace
}  // namespace slidesparse
