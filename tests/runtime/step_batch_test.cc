// What a prefill step of fresh prompts hands cuDNN's attention besides the lengths: element offsets
// of every sequence's rows in the packed q / out and k / v, and the bucket's empty padding
// sequences after the real ones; and which steps are fresh prompts only.
#include "runtime/step_batch.h"

#include <gtest/gtest.h>

#include "core/error.h"

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
