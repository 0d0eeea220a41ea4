// The RoPE reference (math/rope.h): the table against the closed form, a hand-worked rotation with
// its bf16 rounding points, position 0 as the identity, and the relative-position property.
#include "math/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "math/numeric_formats.h"
#include "bf16_values.h"

namespace slidesparse {
namespace {

using testing::bf16s;
using testing::floats;

std::vector<uint16_t> random_head(std::mt19937& rng, int d) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint16_t> x(d);
  for (auto& v : x) v = float_to_bf16(normal(rng));
  return x;
}

double dot(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += static_cast<double>(bf16_to_float(a[i])) * bf16_to_float(b[i]);
  return sum;
}

TEST(Rope, HandWorkedTableAndRotation) {
  // d = 4, theta = 1e4: inv_freq = (1, 1e4^-1/2 = 0.01). At position 1, bf16 of cos(1) = 0.5403 is
  // 138/256, sin(1) = 0.8415 is 215/256, cos(0.01) rounds to 1, sin(0.01) to 164 * 2^-14.
  const RopeTable table = make_rope_table(4, 2, 10000.0);
  EXPECT_EQ(floats(table.cos), (std::vector<float>{1, 1, 0.5390625f, 1}));
  EXPECT_EQ(floats(table.sin), (std::vector<float>{0, 0, 0.83984375f, 0.010009765625f}));
  // x = (1, 2, 3, 4), every product rounded to bf16 before the sum:
  //   out0 = bf16(0.5390625 - bf16(3 * 0.83984375 = 2.5195)) = 0.5390625 - 2.515625 = -1.9765625
  //   out1 = bf16(2 - bf16(4 * 0.0100098)) = bf16(1.95996) = 1.9609375
  //   out2 = bf16(bf16(3 * 0.5390625) + 0.83984375) = bf16(2.45703) = 2.453125
  //   out3 = bf16(4 + bf16(2 * 0.0100098)) = bf16(4.02002) = 4.03125
  std::vector<uint16_t> x = bf16s({1, 2, 3, 4});
  apply_rope(table, 1, x.data());
  EXPECT_EQ(floats(x), (std::vector<float>{-1.9765625f, 1.9609375f, 2.453125f, 4.03125f}));
}

TEST(Rope, PositionZeroIsTheIdentity) {
  const RopeTable table = make_rope_table(128, 8, 500000.0);
  std::mt19937 rng(5);
  for (int trial = 0; trial < 10; ++trial) {
    std::vector<uint16_t> x = random_head(rng, 128);
    const std::vector<uint16_t> before = x;
    apply_rope(table, 0, x.data());
    EXPECT_EQ(x, before);
  }
}

TEST(Rope, TableIsTheClosedFormWithinHalfABf16Ulp) {
  // theta^(-2i/d) and p * inv_freq in double are the exact values; fp32 angles differ from them by
  // under 4096 * 2^-23 (2.5e-4 of a radian) for p < 4096, the bf16 table by half an ulp (2^-9 below 1).
  for (const auto& [d, theta] : {std::pair{64, 10000.0}, std::pair{128, 500000.0}}) {
    const RopeTable table = make_rope_table(d, 4096, theta);
    ASSERT_EQ(table.cos.size(), size_t{4096} * (d / 2));
    for (int p = 0; p < 4096; p += 7) {
      for (int i = 0; i < d / 2; ++i) {
        const double angle = p * std::pow(theta, -2.0 * i / d);
        const size_t at = static_cast<size_t>(p) * (d / 2) + i;
        ASSERT_NEAR(bf16_to_float(table.cos[at]), std::cos(angle), std::ldexp(1.0, -9) + 2.5e-4) << p << " " << i;
        ASSERT_NEAR(bf16_to_float(table.sin[at]), std::sin(angle), std::ldexp(1.0, -9) + 2.5e-4) << p << " " << i;
      }
    }
  }
}

TEST(Rope, DotProductsDependOnTheRelativePosition) {
  // <R(m) q, R(n) k> = <q, R(n - m) k> up to the bf16 rounding of the rotations: three roundings of
  // ~2^-9 per component put ~0.1 of noise on a 128-term dot of unit normals; a wrong rotation (a sign,
  // a swapped half, a wrong frequency) is off by the order of |q| |k| = 128.
  const RopeTable table = make_rope_table(128, 2048, 500000.0);
  std::mt19937 rng(9);
  for (int trial = 0; trial < 20; ++trial) {
    const std::vector<uint16_t> q = random_head(rng, 128), k = random_head(rng, 128);
    const int m = static_cast<int>(rng() % 1000), n = static_cast<int>(rng() % 1000), shift = 1000;
    auto rotated = [&](std::vector<uint16_t> x, int p) {
      apply_rope(table, p, x.data());
      return x;
    };
    const double near = dot(rotated(q, m), rotated(k, n));
    const double far = dot(rotated(q, m + shift), rotated(k, n + shift));
    EXPECT_NEAR(near, far, 0.5) << m << " " << n;
    // The rotation keeps the norm, again to bf16 precision.
    EXPECT_NEAR(dot(rotated(q, m), rotated(q, m)), dot(q, q), 0.02 * dot(q, q));
  }
}

TEST(Rope, RejectsBadShapesAndPositions) {
  EXPECT_THROW(make_rope_table(63, 4, 10000.0), Error);
  EXPECT_THROW(make_rope_table(64, 0, 10000.0), Error);
  const RopeTable table = make_rope_table(64, 4, 10000.0);
  std::vector<uint16_t> x(64);
  EXPECT_THROW(apply_rope(table, 4, x.data()), Error);
  EXPECT_THROW(apply_rope(table, -1, x.data()), Error);
}

}  // namespace
}  // namespace slidesparse
