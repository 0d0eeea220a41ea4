#include "math/reference_linear.h"

#include <gtest/gtest.h>

#include <vector>

namespace slidesparse {
namespace {

TEST(ReferenceGemm, Int8HandWorked) {
  const std::vector<int8_t> x = {1, -2, 3, 127, 127, -128};  // [2, 3]
  const std::vector<int8_t> w = {4, 5, 6, -1, 0, 1};         // [2, 3]
  std::vector<int32_t> acc(4);
  reference_gemm_int8(x.data(), w.data(), 2, 2, 3, acc.data());
  EXPECT_EQ(acc, (std::vector<int32_t>{4 - 10 + 18, -1 + 3, 508 + 635 - 768, -127 - 128}));
}

TEST(ReferenceGemm, Fp8HandWorked) {
  // x = {1, -0.5, 448}, w rows {2, 2, 1/16} and {-1, 0.25, 0}.
  const std::vector<uint8_t> x = {0x38, 0xB0, 0x7E};
  const std::vector<uint8_t> w = {0x40, 0x40, 0x18, 0xB8, 0x28, 0x00};
  std::vector<float> acc(2);
  reference_gemm_fp8(x.data(), w.data(), 1, 2, 3, acc.data());
  EXPECT_EQ(acc[0], 2.0f - 1.0f + 28.0f);
  EXPECT_EQ(acc[1], -1.0f - 0.125f);
}

TEST(ReferenceLinear, ScalesAccumulatorsPerTokenAndChannel) {
  const std::vector<int8_t> x = {1, 2, -3, 4};  // [2, 2]
  const std::vector<int8_t> w = {1, 1, 2, -1};  // [2, 2]
  const std::vector<float> scale_x = {0.5f, 0.25f};
  const std::vector<float> scale_w = {2.0f, 0.1f};
  std::vector<float> y(4);
  reference_linear_w8a8(QuantKind::Int8, reinterpret_cast<const uint8_t*>(x.data()), scale_x.data(),
                        reinterpret_cast<const uint8_t*>(w.data()), scale_w.data(), 2, 2, 2, y.data());
  // acc = {3, 0, 1, -10}
  EXPECT_EQ(y[0], 3.0f * 0.5f * 2.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], 1.0f * 0.25f * 2.0f);
  EXPECT_EQ(y[3], -10.0f * 0.25f * 0.1f);

  const std::vector<uint8_t> x8 = {0x38, 0x40};  // {1, 2}
  const std::vector<uint8_t> w8 = {0xB8, 0x30};  // {-1, 0.5}
  reference_linear_w8a8(QuantKind::Fp8E4M3, x8.data(), scale_x.data(), w8.data(), scale_w.data(), 1, 1, 2, y.data());
  EXPECT_EQ(y[0], 0.0f);
}

}  // namespace
}  // namespace slidesparse
