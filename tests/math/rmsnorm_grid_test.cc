// The floating-point form of the RMSNorm grid square equals the integer form for every bf16 and
// every row maximum the GPU kernels use it for; the integer form itself is pinned on known values.
#include "math/rmsnorm_grid.h"

#include <gtest/gtest.h>

#include <cmath>

#include "math/numeric_formats.h"

namespace slidesparse {
namespace {

TEST(RmsNormGrid, IntegerFormOnKnownValues) {
  // 1.0 = 1 * 2^0: field 127, m = 128. With top = 127 the grid value is 128^2 << 30 = 2^44.
  EXPECT_EQ(square_on_grid(float_to_bf16(1.0f), 127), uint64_t{1} << 44);
  // One exponent below the top: shift 28.
  EXPECT_EQ(square_on_grid(float_to_bf16(0.5f), 127), uint64_t{1} << 42);
  // 23 fields below: shift -16, m^2 < 2^16 floors to 0; 15 below: shift 0, exactly m^2.
  EXPECT_EQ(square_on_grid(float_to_bf16(std::ldexp(1.0f, -23)), 127), 0u);
  EXPECT_EQ(square_on_grid(float_to_bf16(std::ldexp(1.5f, -15)), 127), uint64_t{192 * 192});
  // Signs do not matter; subnormals sit on field 1's grid.
  EXPECT_EQ(square_on_grid(float_to_bf16(-1.0f), 127), uint64_t{1} << 44);
  EXPECT_EQ(bf16_grid_field(0x0001), 1);
  EXPECT_EQ(square_on_grid(0x0001, 1), uint64_t{1} << 30);
  EXPECT_EQ(grid_float_scale(149), 1.0f);
  EXPECT_EQ(grid_float_scale(kGridFloatMinTop), std::ldexp(1.0f, 127));
  EXPECT_EQ(grid_float_scale(kGridFloatMaxTop), std::ldexp(1.0f, -105));
}

TEST(RmsNormGrid, FloatFormEqualsIntegerFormForEveryBf16AndTop) {
  int64_t compared = 0;
  for (int top = kGridFloatMinTop; top <= kGridFloatMaxTop; ++top) {
    const float scale = grid_float_scale(top);
    for (uint32_t bits = 0; bits < 0x10000; ++bits) {
      if (((bits >> 7) & 0xFF) == 0xFF || bf16_grid_field(bits) > top) continue;  // Inf/NaN; above the row max
      const uint64_t want = square_on_grid(bits, top), got = square_on_grid_float(bits, scale);
      if (got != want) FAIL() << "bits 0x" << std::hex << bits << std::dec << " top " << top << ": float " << got
                              << ", integer " << want;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 256 * (255 * 256 / 2 - 22 * 23 / 2));  // (top + 1) * 256 patterns per top
}

}  // namespace
}  // namespace slidesparse
