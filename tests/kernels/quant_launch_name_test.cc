// The name of a launch shape in benchmark tables: threads per block x rows per block.
#include <gtest/gtest.h>

#include "kernels/activation_quant.h"

namespace slidesparse {
namespace {

TEST(QuantLaunchName, IsThreadsByRowsPerBlock) {
  EXPECT_EQ(quant_launch_name({128, 1}), "128x1");
  EXPECT_EQ(quant_launch_name({1024, 32}), "1024x32");
}

}  // namespace
}  // namespace slidesparse
