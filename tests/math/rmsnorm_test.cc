// The RMSNorm reference (math/rmsnorm.h) on hand-worked values, its order-free variance against an
// exact mean, and the norm + quantize composition.
#include "math/rmsnorm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "math/numeric_formats.h"
#include "math/quantize.h"
#include "bf16_values.h"

namespace slidesparse {
namespace {

using testing::bf16s;
using testing::floats;

TEST(RmsNorm, VarianceIsTheMeanOfSquares) {
  EXPECT_EQ(rms_variance_bf16(bf16s({3, 4}).data(), 2), 12.5f);
  EXPECT_EQ(rms_variance_bf16(bf16s({-2, 2, 2, -2}).data(), 4), 4.0f);
  EXPECT_EQ(rms_variance_bf16(bf16s({0, -0.0f, 0}).data(), 3), 0.0f);
  // 2^-20 squared is 2^-40 of the top square: still on the grid, but (1 + 2^-40) / 2 rounds to 0.5.
  EXPECT_EQ(rms_variance_bf16(bf16s({1, std::ldexp(1.0f, -20)}).data(), 2), 0.5f);
  // Far apart exponents: (2^120 + 2^-120) / 2 = 2^119.
  EXPECT_EQ(rms_variance_bf16(bf16s({std::ldexp(1.0f, 60), std::ldexp(1.0f, -60)}).data(), 2),
            std::ldexp(1.0f, 119));
  // Subnormal bf16 values only: 2^-133 squared, exactly representable in the double mean.
  EXPECT_EQ(rms_variance_bf16(bf16s({std::ldexp(1.0f, -130), std::ldexp(1.0f, -130)}).data(), 2), 0.0f);
}

TEST(RmsNorm, VarianceMatchesAnExactMeanWithinFarLessThanAFloatUlp) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> decades(-6.0f, 6.0f);
  for (int64_t k : {1, 30, 2560, 6912, 16384}) {
    std::vector<uint16_t> row;
    for (int64_t i = 0; i < k; ++i) row.push_back(float_to_bf16(normal(rng) * std::pow(10.0f, decades(rng))));
    long double exact = 0;
    for (uint16_t b : row) exact += static_cast<long double>(bf16_to_float(b)) * bf16_to_float(b);
    exact /= k;
    const float var = rms_variance_bf16(row.data(), k);
    EXPECT_LE(std::fabs(static_cast<double>((var - exact) / exact)), std::ldexp(1.0, -24)) << "k=" << k;
  }
}

TEST(RmsNorm, HandWorkedRows) {
  // Row 0: var 4, r = 0.5 exactly: n = (1, -1, 1, 1), y = n * weight.
  // Row 1: var 12.5, r = 1/sqrt(12.5) = 0.2828427; h r = 0.8485281, 1.1313708 round to the bf16
  // 217 * 2^-8 = 0.84765625 and 145 * 2^-7 = 1.1328125; times the weights 1 and -2.
  const std::vector<uint16_t> x = bf16s({2, -2, 2, 2, 3, 4, 0, 0});
  const std::vector<uint16_t> w4 = bf16s({1, -2, 0.5f, 3});
  std::vector<uint16_t> y(4);
  rmsnorm_rows_bf16(x.data(), w4.data(), 1, 4, 0.0f, y.data());
  EXPECT_EQ(floats(y), (std::vector<float>{1, 2, 0.5f, 3}));
  std::vector<uint16_t> y2(2);
  const std::vector<uint16_t> w2 = bf16s({1, -2});
  rmsnorm_rows_bf16(x.data() + 4, w2.data(), 1, 2, 0.0f, y2.data());
  EXPECT_EQ(floats(y2), (std::vector<float>{0.84765625f, -2.265625f}));
}

TEST(RmsNorm, EpsKeepsAZeroRowZero) {
  const std::vector<uint16_t> x = bf16s({0, 0, 0, 0}), w = bf16s({1, 2, 3, 4});
  std::vector<uint16_t> y(4, 0xFFFF);
  rmsnorm_rows_bf16(x.data(), w.data(), 1, 4, 1e-5f, y.data());
  EXPECT_EQ(floats(y), (std::vector<float>{0, 0, 0, 0}));
}

TEST(RmsNorm, QuantizeIsNormThenQuantize) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  constexpr int64_t kRows = 5, kK = 100;
  std::vector<uint16_t> x, w;
  for (int64_t i = 0; i < kRows * kK; ++i) x.push_back(float_to_bf16(normal(rng) * 10.0f));
  for (int64_t i = 0; i < kK; ++i) w.push_back(float_to_bf16(1.0f + 0.1f * normal(rng)));
  std::vector<uint16_t> y(x.size());
  rmsnorm_rows_bf16(x.data(), w.data(), kRows, kK, 1e-5f, y.data());
  const std::vector<float> yf = floats(y);
  for (QuantKind kind : {QuantKind::Int8, QuantKind::Fp8E4M3}) {
    std::vector<uint8_t> want(x.size()), got(x.size());
    std::vector<float> want_scale(kRows), got_scale(kRows);
    quantize_rows(kind, yf.data(), kRows, kK, want.data(), want_scale.data());
    rmsnorm_quantize_rows(kind, x.data(), w.data(), kRows, kK, 1e-5f, nullptr, got.data(), got_scale.data());
    EXPECT_EQ(got, want);
    EXPECT_EQ(got_scale, want_scale);
    const SlideGeometry g = make_slide_geometry(kK, 8);
    std::vector<uint8_t> want_slid(static_cast<size_t>(kRows * g.k_slid)), got_slid(want_slid.size());
    quantize_slide_rows(kind, g, yf.data(), kRows, want_slid.data(), want_scale.data());
    rmsnorm_quantize_rows(kind, x.data(), w.data(), kRows, kK, 1e-5f, &g, got_slid.data(), got_scale.data());
    EXPECT_EQ(got_slid, want_slid);
    EXPECT_EQ(got_scale, want_scale);
  }
}

TEST(RmsNorm, AddRoundsTheFloatSumOnce) {
  // 1 + 2^-9 is a tie between 1 and 1 + 2^-7 (to even: 1); 1 + 3 * 2^-9 rounds up.
  const std::vector<uint16_t> a = bf16s({1, 1, -3}), b = bf16s({0.001953125f, 0.005859375f, 1.5f});
  std::vector<uint16_t> out(3);
  add_rows_bf16(a.data(), b.data(), 3, out.data());
  EXPECT_EQ(floats(out), (std::vector<float>{1, 1.0078125f, -1.5f}));
}

}  // namespace
}  // namespace slidesparse
