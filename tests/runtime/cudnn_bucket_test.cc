// How prefill steps map onto cuDNN attention graphs (one graph per bucket pair, built on first use):
// few buckets, never smaller than the step, never past the engine's limits.
#include <gtest/gtest.h>

#include "cudnn/cudnn_prefill_attention.h"

namespace slidesparse {
namespace {

TEST(CudnnBuckets, SequencesRoundUpToAPowerOfTwoWithinTheLimit) {
  EXPECT_EQ(cudnn_sequence_bucket(1, 256), 1);
  EXPECT_EQ(cudnn_sequence_bucket(0, 256), 1);
  EXPECT_EQ(cudnn_sequence_bucket(17, 256), 32);
  EXPECT_EQ(cudnn_sequence_bucket(32, 256), 32);
  EXPECT_EQ(cudnn_sequence_bucket(33, 256), 64);
  EXPECT_EQ(cudnn_sequence_bucket(200, 256), 256);
  EXPECT_EQ(cudnn_sequence_bucket(200, 200), 200);  // capped: the staged arrays hold max_num_seqs entries
  EXPECT_EQ(cudnn_sequence_bucket(3, 3), 3);
}

TEST(CudnnBuckets, LengthsRoundUpToAPowerOfTwoOfAtLeast64) {
  EXPECT_EQ(cudnn_length_bucket(1, 4096), 64);
  EXPECT_EQ(cudnn_length_bucket(64, 4096), 64);
  EXPECT_EQ(cudnn_length_bucket(65, 4096), 128);
  EXPECT_EQ(cudnn_length_bucket(1000, 4096), 1024);
  EXPECT_EQ(cudnn_length_bucket(1024, 4096), 1024);
  EXPECT_EQ(cudnn_length_bucket(3000, 4096), 4096);
  EXPECT_EQ(cudnn_length_bucket(3000, 3072), 3072);  // capped by what the block table can hold
  EXPECT_EQ(cudnn_length_bucket(272, 272), 272);
}

}  // namespace
}  // namespace slidesparse
