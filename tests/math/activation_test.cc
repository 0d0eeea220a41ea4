// BitNet's MLP activation reference (math/activation.h) on hand-worked values: the relu, the two
// bf16 rounding points, and the [gate | up] row layout.
#include "math/activation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "math/numeric_formats.h"
#include "bf16_values.h"

namespace slidesparse {
namespace {

using testing::bf16s;
using testing::floats;

TEST(Relu2Mul, ReluSquaresThenMultipliesRowByRow) {
  // Two rows of [gate (3) | up (3)]: negative gates give 0 (signed by up), positive ones g^2 * u.
  const std::vector<uint16_t> gate_up = bf16s({2, -1, 0.5f, 3, 7, -4,  //
                                               -0.0f, 1.5f, -8, 1, -2, 5});
  std::vector<uint16_t> out(6, 0xFFFF);
  relu2_mul_rows_bf16(gate_up.data(), 2, 3, out.data());
  EXPECT_EQ(floats(out), (std::vector<float>{12, 0, -1, 0, -4.5f, 0}));
  EXPECT_EQ(out[1], 0x0000);  // 0 * 7 = +0
  EXPECT_EQ(out[5], 0x0000);  // relu(-8)^2 * 5 = +0
  EXPECT_EQ(out[4], float_to_bf16(-4.5f));
}

TEST(Relu2Mul, RoundsTheSquareToBf16BeforeTheProduct) {
  // g = 1 + 2^-4: g^2 = 1 + 2^-3 + 2^-8 is a bf16 tie and rounds to even, 1 + 2^-3. Times
  // u = 1 + 2^-7: 1 + 2^-3 + 2^-7 + 2^-10 rounds to 1 + 2^-3 + 2^-7. Without the rounding of the
  // square the product would be 1 + 2^-3 + 2^-7 + (2^-8 + 2^-10 + 2^-15), past the tie: 1 + 2^-3 + 2^-6.
  const std::vector<uint16_t> row = bf16s({1.0f + std::ldexp(1.0f, -4), 1.0f + std::ldexp(1.0f, -7)});
  std::vector<uint16_t> out(1);
  relu2_mul_rows_bf16(row.data(), 1, 1, out.data());
  EXPECT_EQ(bf16_to_float(out[0]), 1.0f + std::ldexp(1.0f, -3) + std::ldexp(1.0f, -7));
}

TEST(Relu2Mul, NanGateGivesZeroAndOverflowGivesInfinity) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<uint16_t> gate_up = bf16s({nan, 1e30f, 2, 3});
  std::vector<uint16_t> out(2);
  relu2_mul_rows_bf16(gate_up.data(), 1, 2, out.data());
  EXPECT_EQ(bf16_to_float(out[0]), 0.0f);
  EXPECT_TRUE(std::isinf(bf16_to_float(out[1])));
}

}  // namespace
}  // namespace slidesparse
