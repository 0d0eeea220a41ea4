#include <gtest/gtest.h>

#include "core/byte_progress.h"

namespace slidesparse {
namespace {

TEST(FormatBytes, PicksTheLargestBinaryUnitBelowTheValue) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(2629648), "2.5 MiB");
  EXPECT_EQ(format_bytes(3ull << 30), "3.0 GiB");
  EXPECT_EQ(format_bytes(5ull << 40), "5.0 TiB");
  EXPECT_EQ(format_bytes(5ull << 50), "5120.0 TiB");
}

}  // namespace
}  // namespace slidesparse
