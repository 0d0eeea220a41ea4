// How many blocks share a sampled row by default: clusters only where the GPU has them; as many
// blocks as leave one per SM, else pairs while they fit in one wave.
#include <gtest/gtest.h>

#include "kernels/sampling.h"

namespace slidesparse {
namespace {

TEST(SamplingBlocksPerRow, OneBlockPerSmThenPairsInOneWave) {
  EXPECT_EQ(sampling_blocks_per_row(1, 132, 2, 9), 8);
  EXPECT_EQ(sampling_blocks_per_row(16, 132, 2, 9), 8);
  EXPECT_EQ(sampling_blocks_per_row(17, 132, 2, 9), 4);
  EXPECT_EQ(sampling_blocks_per_row(33, 132, 2, 9), 4);
  EXPECT_EQ(sampling_blocks_per_row(34, 132, 2, 9), 2);
  EXPECT_EQ(sampling_blocks_per_row(64, 132, 2, 9), 2);
  EXPECT_EQ(sampling_blocks_per_row(128, 132, 2, 9), 2);  // pairs past one per SM, within one wave
  EXPECT_EQ(sampling_blocks_per_row(132, 132, 2, 9), 2);
  EXPECT_EQ(sampling_blocks_per_row(133, 132, 2, 9), 1);
  EXPECT_EQ(sampling_blocks_per_row(512, 132, 2, 9), 1);
  EXPECT_EQ(sampling_blocks_per_row(133, 132, 4, 9), 2);
}

TEST(SamplingBlocksPerRow, OneBlockWithoutClusters) {
  EXPECT_EQ(sampling_blocks_per_row(1, 132, 2, 8), 1);
  EXPECT_EQ(sampling_blocks_per_row(64, 108, 2, 8), 1);
}

}  // namespace
}  // namespace slidesparse
