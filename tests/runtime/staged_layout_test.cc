#include "runtime/staged_layout.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace slidesparse {
namespace {

TEST(StagedLayout, ArraysBackToBackAtSixteenByteBoundaries) {
  // 5 tokens, 2 sequences of 3 blocks, 2 samples, no cuDNN.
  const StagedLayout l = staged_layout(5, 2, 3, 2, 0);
  EXPECT_EQ(l.tokens, 0u);
  EXPECT_EQ(l.carried_rows, 8u);
  EXPECT_EQ(l.positions, 16u);
  EXPECT_EQ(l.slots, 24u);
  EXPECT_EQ(l.query_start, 32u);  // 3 entries
  EXPECT_EQ(l.seq_len, 36u);      // 2
  EXPECT_EQ(l.block_table, 40u);  // 6
  EXPECT_EQ(l.sample_rows, 48u);  // 2
  EXPECT_EQ(l.sample_params, 52u);  // 2 x 6
  EXPECT_EQ(l.cudnn_q_offsets, 64u);
  EXPECT_EQ(l.cudnn_kv_offsets, 64u);  // empty
  EXPECT_EQ(l.end, 64u);
}

TEST(StagedLayout, CudnnBucketWidensSeqLenAndAddsItsOffsets) {
  // 3 sequences in a bucket of 4: seq_len has 4 entries, each offset array 5.
  const StagedLayout l = staged_layout(600, 3, 1, 3, 4);
  EXPECT_EQ(l.query_start, 2400u);
  EXPECT_EQ(l.seq_len, 2404u);
  EXPECT_EQ(l.block_table, 2408u);
  EXPECT_EQ(l.sample_rows, 2412u);
  EXPECT_EQ(l.sample_params, 2416u);  // 3 x 6
  EXPECT_EQ(l.cudnn_q_offsets, 2436u);
  EXPECT_EQ(l.cudnn_kv_offsets, 2444u);
  EXPECT_EQ(l.end, 2452u);
}

TEST(StagedLayout, TheSameShapeGivesTheSameLayout) {
  const StagedLayout a = staged_layout(512, 512, 5, 512, 0), b = staged_layout(512, 512, 5, 512, 0);
  EXPECT_EQ(a.block_table, b.block_table);
  EXPECT_EQ(a.end, b.end);
  EXPECT_EQ(a.end, 4u * 512 + 516 + 512 + 2560 + 512 + 6 * 512);
  EXPECT_THROW(staged_layout(-1, 1, 1, 1, 0), Error);
}

}  // namespace
}  // namespace slidesparse
