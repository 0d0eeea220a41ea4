// The memory-bound benchmarks' table: exact text, with and without the L column.
#include "bench/bandwidth_rows.h"

#include <gtest/gtest.h>

namespace slidesparse {
namespace {

TEST(BandwidthRows, FormatsOneLinePerRowWithTheKernelColumnAsWideAsItsLongestName) {
  const std::vector<BandwidthRow> rows{{"int8", Sparsity::dense(), 1024, 2560, 4.1, 1281.4, 0.3012, ""},
                                       {"int8+norm", Sparsity::two_of(8), 16384, 6912, 123.456, 3412.6, 0.8, ""}};
  EXPECT_EQ(format_bandwidth_rows(rows, {}),
            "kernel    L         M      K         us      GB/s  of copy\n"
            "int8      -      1024   2560       4.10      1281    30.1%\n"
            "int8+norm 8     16384   6912     123.46      3413    80.0%\n");
}

TEST(BandwidthRows, LeavesOutTheLColumnAndNamesTheirOwnSizes) {
  const std::vector<BandwidthRow> rows{{"argmax", Sparsity::dense(), 512, 128256, 52.5, 5000.0, 1.17, ""}};
  EXPECT_EQ(format_bandwidth_rows(rows, {"rows", "cols", false}),
            "kernel    rows   cols         us      GB/s  of copy\n"
            "argmax     512 128256      52.50      5000   117.0%\n");
}

TEST(BandwidthRows, AddsALaunchColumnWhenSomeRowHasOne) {
  const std::vector<BandwidthRow> rows{
      {"int8+relu2_norm", Sparsity::two_of(4), 32768, 6912, 375.5, 3016.4, 0.711, "128x1 registers:7"},
      {"residual_norm_rows", Sparsity::dense(), 32768, 2560, 253.9, 1983.0, 0.465, ""}};
  EXPECT_EQ(format_bandwidth_rows(rows, {}),
            "kernel             L         M      K         us      GB/s  of copy  launch\n"
            "int8+relu2_norm    4     32768   6912     375.50      3016    71.1%  128x1 registers:7\n"
            "residual_norm_rows -     32768   2560     253.90      1983    46.5%  -\n");
}

}  // namespace
}  // namespace slidesparse
