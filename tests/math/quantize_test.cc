#include "math/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "math/numeric_formats.h"

namespace slidesparse {
namespace {

std::vector<uint16_t> bf16_values(const std::vector<float>& values) {
  std::vector<uint16_t> out;
  for (float v : values) out.push_back(float_to_bf16(v));
  return out;
}

std::vector<uint8_t> int8_codes(const std::vector<int>& values) {
  std::vector<uint8_t> codes;
  for (int v : values) codes.push_back(static_cast<uint8_t>(static_cast<int8_t>(v)));
  return codes;
}

TEST(AbsmeanScale, HandWorkedAndClamped) {
  const std::vector<uint16_t> w = bf16_values({1.0f, -2.0f, 0.5f, 0.0f, 0.25f, -0.25f, 3.0f, -1.0f});
  EXPECT_EQ(absmean_scale_bf16(w.data(), 8), 1.0f);  // 8 / 8
  EXPECT_EQ(absmean_scale_bf16(w.data(), 3), 3.5f / 3.0f);
  const std::vector<uint16_t> zeros(100, 0);
  EXPECT_EQ(absmean_scale_bf16(zeros.data(), 100), 1e-5f);
  EXPECT_THROW(absmean_scale_bf16(w.data(), 0), Error);
}

TEST(AbsmeanScale, LargeTensorMatchesADoubleSum) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<uint16_t> w(300001);
  double sum = 0.0;
  for (auto& v : w) {
    v = float_to_bf16(normal(rng));
    sum += std::fabs(bf16_to_float(v));
  }
  const float scale = absmean_scale_bf16(w.data(), static_cast<int64_t>(w.size()));
  EXPECT_FLOAT_EQ(scale, static_cast<float>(sum / w.size()));
  EXPECT_EQ(scale, absmean_scale_bf16(w.data(), static_cast<int64_t>(w.size())));
}

TEST(Ternarize, HalfTiesGoToEvenAndLargeValuesClamp) {
  // Divided by 2: 1.5 -> 2 -> clamp 1, 0.5 -> 0, -0.5 -> 0, -1.5 -> -1, 0.504 -> 1, 2.5 -> 1, -0.49 -> 0.
  const std::vector<uint16_t> w = bf16_values({3.0f, 1.0f, -1.0f, -3.0f, 1.0078125f, 0.0f, 5.0f, -0.984375f});
  std::vector<uint8_t> out(8);
  EXPECT_EQ(ternarize_bf16(QuantKind::Int8, w.data(), 8, 2.0f, out.data()), 4);
  EXPECT_EQ(out, int8_codes({1, 0, 0, -1, 1, 0, 1, 0}));
  EXPECT_EQ(ternarize_bf16(QuantKind::Fp8E4M3, w.data(), 8, 2.0f, out.data()), 4);
  EXPECT_EQ(out, (std::vector<uint8_t>{0x38, 0, 0, 0xB8, 0x38, 0, 0x38, 0}));
}

TEST(Ternarize, MatchesClampedNearbyintOnRandomValues) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<uint16_t> w(100000);
  for (size_t i = 0; i < w.size(); ++i) {
    // Every tenth value is a multiple of 0.25 in [-1.5, 1.5]: exact ties after dividing by 0.5.
    w[i] = float_to_bf16(i % 10 == 0 ? 0.25f * (static_cast<int>(i / 10 % 13) - 6) : uniform(rng));
  }
  const float scale = 0.5f;
  std::vector<uint8_t> out(w.size());
  const int64_t zeros = ternarize_bf16(QuantKind::Int8, w.data(), static_cast<int64_t>(w.size()), scale, out.data());
  int64_t expected_zeros = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const float t = std::clamp(std::nearbyint(bf16_to_float(w[i]) / scale), -1.0f, 1.0f);
    expected_zeros += t == 0.0f;
    ASSERT_EQ(static_cast<int8_t>(out[i]), static_cast<int8_t>(t)) << bf16_to_float(w[i]);
  }
  EXPECT_EQ(zeros, expected_zeros);
}

TEST(QuantizeRows, Int8HandWorked) {
  // absmax 2, inv 63.5: 63.5 -> 64 (tie to even), -31.75 -> -32, 15.875 -> 16, 127.
  // All-zero row: floor scale 1 / (127 * 512). Tiny row: q uses the true absmax, the scale is floored.
  const std::vector<float> x = {1.0f, -0.5f, 0.25f, 2.0f,  //
                                0.0f, 0.0f,  0.0f,  0.0f,  //
                                1e-6f, -2.5e-7f, 0.0f, 0.0f};
  std::vector<uint8_t> q(12);
  std::vector<float> scale(3);
  quantize_rows(QuantKind::Int8, x.data(), 3, 4, q.data(), scale.data());
  EXPECT_EQ(q, int8_codes({64, -32, 16, 127, 0, 0, 0, 0, 127, -32, 0, 0}));
  EXPECT_EQ(scale[0], 2.0f / 127.0f);
  EXPECT_EQ(scale[1], 1.0f / (127.0f * 512.0f));
  EXPECT_EQ(scale[2], 1.0f / (127.0f * 512.0f));
}

TEST(QuantizeRows, Fp8HandWorked) {
  // Row 0: inv 224 -> 224 (0x76), -112 (0xEE), 56 (0x66), 448 (0x7E).
  // Row 1: inv 448/3 -> 448 (0x7E), 149.3 -> 144 (0x71), -14.93 -> -15 (0xD7), 0.
  const std::vector<float> x = {1.0f, -0.5f, 0.25f, 2.0f, 3.0f, 1.0f, -0.1f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  std::vector<uint8_t> q(12);
  std::vector<float> scale(3);
  quantize_rows(QuantKind::Fp8E4M3, x.data(), 3, 4, q.data(), scale.data());
  EXPECT_EQ(q, (std::vector<uint8_t>{0x76, 0xEE, 0x66, 0x7E, 0x7E, 0x71, 0xD7, 0x00, 0, 0, 0, 0}));
  EXPECT_EQ(scale[0], 2.0f / 448.0f);
  EXPECT_EQ(scale[1], 3.0f / 448.0f);
  EXPECT_EQ(scale[2], 1.0f / (448.0f * 512.0f));
}

TEST(QuantizeSlideRows, EqualsQuantizeThenLiftAndWritesEverything) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-4.0f, 4.0f);
  for (QuantKind kind : {QuantKind::Int8, QuantKind::Fp8E4M3}) {
    for (int64_t k : {7, 30, 97, 256}) {
      for (int l = 4; l <= 16; l += 2) {
        const SlideGeometry g = make_slide_geometry(k, l);
        const int64_t rows = 5;
        std::vector<float> x(rows * k);
        for (auto& v : x) v = uniform(rng);
        std::vector<uint8_t> q(rows * k), lifted(rows * g.k_slid), fused(rows * g.k_slid, 0xCD);
        std::vector<float> scale(rows), fused_scale(rows);
        quantize_rows(kind, x.data(), rows, k, q.data(), scale.data());
        lift_activation_rows(g, q.data(), rows, lifted.data());
        quantize_slide_rows(kind, g, x.data(), rows, fused.data(), fused_scale.data());
        EXPECT_EQ(fused, lifted) << "K=" << k << " L=" << l;
        EXPECT_EQ(fused_scale, scale);
      }
    }
  }
}

}  // namespace
}  // namespace slidesparse
