// How many blocks share a sampled row by default: clusters only where the GPU has them, as many
// blocks as fill one wave of resident blocks.
#include <gtest/gtest.h>

#include "kernels/sampling.h"

namespace slidesparse {
namespace {

TEST(SamplingBlocksPerRow, FillsOneWave) {
  EXPECT_EQ(sampling_blocks_per_row(1, 264, 9), 8);
  EXPECT_EQ(sampling_blocks_per_row(33, 264, 9), 8);
  EXPECT_EQ(sampling_blocks_per_row(34, 264, 9), 4);
  EXPECT_EQ(sampling_blocks_per_row(64, 264, 9), 4);
  EXPECT_EQ(sampling_blocks_per_row(100, 264, 9), 2);
  EXPECT_EQ(sampling_blocks_per_row(132, 264, 9), 2);
  EXPECT_EQ(sampling_blocks_per_row(133, 264, 9), 1);
  EXPECT_EQ(sampling_blocks_per_row(512, 264, 9), 1);
}

TEST(SamplingBlocksPerRow, OneBlockWithoutClusters) {
  EXPECT_EQ(sampling_blocks_per_row(1, 264, 8), 1);
  EXPECT_EQ(sampling_blocks_per_row(64, 216, 8), 1);
}

}  // namespace
}  // namespace slidesparse
