// What a prefill step hands cuDNN's attention besides lengths and block tables: element offsets of
// every sequence's rows in the packed q / out, its query rows, and the bucket's empty padding
// sequences after the real ones.
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

TEST(CudnnSequenceArrays, OffsetsAreElementsAndPaddingSequencesAreEmpty) {
  std::vector<int32_t> offsets, lens;
  cudnn_sequence_arrays(three_sequences(), 4, 2560, offsets, lens);
  EXPECT_EQ(offsets, (std::vector<int32_t>{0, 5 * 2560, 6 * 2560, 9 * 2560, 9 * 2560}));
  EXPECT_EQ(lens, (std::vector<int32_t>{5, 1, 3, 0}));
}

TEST(CudnnSequenceArrays, AnExactBucketHasNoPadding) {
  std::vector<int32_t> offsets{7, 7, 7, 7, 7, 7, 7}, lens{9, 9, 9, 9, 9, 9};  // reused, shrunk
  cudnn_sequence_arrays(three_sequences(), 3, 128, offsets, lens);
  EXPECT_EQ(offsets, (std::vector<int32_t>{0, 640, 768, 1152}));
  EXPECT_EQ(lens, (std::vector<int32_t>{5, 1, 3}));
}

TEST(CudnnSequenceArrays, RefusesASmallBucketAndInt32Overflow) {
  std::vector<int32_t> offsets, lens;
  EXPECT_THROW(cudnn_sequence_arrays(three_sequences(), 2, 2560, offsets, lens), Error);
  StepBatch big = three_sequences();
  big.tokens.assign(1 << 20, 1);  // 2^20 rows x 2^12 elements = 2^32
  try {
    cudnn_sequence_arrays(big, 4, 4096, offsets, lens);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cuDNN attention: step too large for int32 offsets");
  }
}

TEST(CudnnBlockTable, RowsAreCutToTheBucketWidthAndPaddedWithBlockZero) {
  StepBatch b = three_sequences();
  b.block_table = {1, 2, 3, 4,  //
                   5, 6, 7, 8,  //
                   9, 10, 11, 12};
  std::vector<int32_t> table{42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42};  // reused
  cudnn_block_table(b, 4, 4, 2, table);
  EXPECT_EQ(table, (std::vector<int32_t>{1, 2, 5, 6, 9, 10, 0, 0}));
  cudnn_block_table(b, 3, 4, 4, table);
  EXPECT_EQ(table, b.block_table);
}

TEST(CudnnBlockTable, RefusesAWidthBeyondTheTable) {
  StepBatch b = three_sequences();
  b.block_table.assign(12, 1);
  std::vector<int32_t> table;
  try {
    cudnn_block_table(b, 4, 4, 5, table);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cuDNN attention: a block table of 4 x 5 from a step of 3 sequences x 4 blocks");
  }
}

}  // namespace
}  // namespace slidesparse
