#include "math/slide.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "test_support.h"

namespace slidesparse {
namespace {

TEST(SlideGeometry, MatchesTheBitNetKPrimeTable) {
  const std::vector<int> groups = {4, 6, 8, 10, 12, 14, 16};
  const std::vector<int64_t> k2560 = {2560, 3424, 3840, 4096, 4288, 4416, 4480};
  const std::vector<int64_t> k6912 = {6912, 9216, 10368, 11072, 11520, 11872, 12096};
  for (size_t i = 0; i < groups.size(); ++i) {
    EXPECT_EQ(make_slide_geometry(2560, groups[i]).k_slid, k2560[i]) << groups[i];
    EXPECT_EQ(make_slide_geometry(6912, groups[i]).k_slid, k6912[i]) << groups[i];
  }
}

TEST(SlideGeometry, FieldsAndExpandRatios) {
  const SlideGeometry g = make_slide_geometry(10, 8);
  EXPECT_EQ(g.group, 8);
  EXPECT_EQ(g.windows_per_group, 3);
  EXPECT_EQ(g.groups, 2);
  EXPECT_EQ(g.k_padded, 16);
  EXPECT_EQ(g.k_raw, 24);
  EXPECT_EQ(g.k_slid, 32);
  EXPECT_EQ(g.group_width_slid(), 12);
  const std::vector<double> ratios = {1.0, 4.0 / 3, 1.5, 1.6, 5.0 / 3, 12.0 / 7, 1.75};
  for (int l = 4, i = 0; l <= 16; l += 2, ++i) EXPECT_DOUBLE_EQ(make_slide_geometry(64, l).expand_ratio(), ratios[i]);
}

TEST(SlideGeometry, RejectsBadGroupsAndEmptyK) {
  EXPECT_THROW(make_slide_geometry(64, 5), Error);
  EXPECT_THROW(make_slide_geometry(64, 2), Error);
  EXPECT_THROW(make_slide_geometry(64, 0), Error);
  EXPECT_THROW(make_slide_geometry(0, 8), Error);
}

TEST(SlideMap, TwoEightHandWorked) {
  const SlideGeometry g = make_slide_geometry(16, 8);
  const std::vector<int32_t> map = slide_column_map(g);
  const std::vector<int32_t> group0 = {0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7};
  for (int j = 0; j < 12; ++j) EXPECT_EQ(map[j], group0[j]) << j;
  for (int j = 12; j < 24; ++j) EXPECT_EQ(map[j], group0[j - 12] + 8) << j;
  for (int j = 24; j < 32; ++j) EXPECT_EQ(map[j], -1) << j;
  for (int j = 0; j < 32; ++j) EXPECT_EQ(slide_source_column(g, j), map[j]);
}

TEST(SlideMap, TwoSixHandWorked) {
  const SlideGeometry g = make_slide_geometry(12, 6);
  const std::vector<int32_t> expected = {0, 1, 2, 3, 2, 3, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11};
  const std::vector<int32_t> map = slide_column_map(g);
  ASSERT_EQ(map.size(), 32u);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(map[j], expected[j]) << j;
  for (int j = 16; j < 32; ++j) EXPECT_EQ(map[j], -1) << j;
}

TEST(SlideMap, TwoFourIsTheIdentity) {
  const SlideGeometry g = make_slide_geometry(64, 4);
  ASSERT_EQ(g.k_slid, 64);
  for (int j = 0; j < 64; ++j) EXPECT_EQ(slide_source_column(g, j), j);
}

TEST(SlideMap, SourcesPastKArePadding) {
  const SlideGeometry g = make_slide_geometry(10, 8);
  const std::vector<int32_t> expected = {0, 1, 2,  3,  2,  3,  4,  5,  4,  5,  6,  7,  //
                                         8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
  const std::vector<int32_t> map = slide_column_map(g);
  for (int j = 0; j < 24; ++j) EXPECT_EQ(map[j], expected[j]) << j;
  for (int j = 24; j < 32; ++j) EXPECT_EQ(map[j], -1) << j;
  EXPECT_EQ(slide_source_column(g, -1), -1);
  EXPECT_EQ(slide_source_column(g, 32), -1);
}

TEST(SlideWeights, GreedyAllocationHandWorked) {
  const SlideGeometry g = make_slide_geometry(12, 6);
  // Row 0: windows see [1 2 0 0] and [0 0 3 4]. Row 1: window 0 takes 5 and 6, leaving 7 for
  // window 1, which also takes 8.
  const std::vector<uint8_t> w = {1, 2, 0, 0, 3, 4, 9, 0, 0, 0, 0, 1,  //
                                  0, 5, 6, 7, 0, 8, 0, 0, 0, 0, 0, 0};
  std::vector<uint8_t> slid(2 * 32, 0xCD);
  slide_weight_rows(QuantKind::Int8, g, w.data(), 2, slid.data());
  const std::vector<uint8_t> row0 = {1, 2, 0, 0, 0, 0, 3, 4, 9, 0, 0, 0, 0, 0, 0, 1};
  const std::vector<uint8_t> row1 = {0, 5, 6, 0, 0, 7, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(slid[j], row0[j]) << j;
    EXPECT_EQ(slid[32 + j], row1[j]) << j;
  }
  for (int j = 16; j < 32; ++j) {
    EXPECT_EQ(slid[j], 0) << j;
    EXPECT_EQ(slid[32 + j], 0) << j;
  }
}

TEST(SlideWeights, Fp8NegativeZeroIsWrittenAsZero) {
  const SlideGeometry g = make_slide_geometry(4, 4);
  const std::vector<uint8_t> w = {0x80, 0x38, 0x80, 0xB8};
  std::vector<uint8_t> slid(32, 0xCD);
  slide_weight_rows(QuantKind::Fp8E4M3, g, w.data(), 1, slid.data());
  const std::vector<uint8_t> expected = {0x00, 0x38, 0x00, 0xB8};
  for (int j = 0; j < 4; ++j) EXPECT_EQ(slid[j], expected[j]) << j;
  for (int j = 4; j < 32; ++j) EXPECT_EQ(slid[j], 0) << j;
}

TEST(SlideWeights, ThrowsOnAnUnprunedGroupNamingRowAndGroup) {
  const SlideGeometry g = make_slide_geometry(16, 8);
  std::vector<uint8_t> w(2 * 16, 1);
  for (int j = 0; j < 16; j += 4) w[j] = w[j + 1] = 0;  // row 0 valid
  for (int j = 0; j < 8; j += 2) w[16 + j] = 0;          // row 1 group 0 valid
  w[16 + 8] = 0;                                          // row 1 group 1: one zero only
  std::vector<uint8_t> slid(2 * g.k_slid);
  try {
    slide_weight_rows(QuantKind::Int8, g, w.data(), 2, slid.data());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "slide: row 1 group 1 has fewer than 2 zeros; prune to 2:8 before sliding");
  }
}

TEST(UnslideWeights, ReturnsTheHandWorkedRowsFromWiderStrides) {
  const SlideGeometry g = make_slide_geometry(12, 6);
  const std::vector<uint8_t> w = {1, 2, 0, 0, 3, 4, 9, 0, 0, 0, 0, 1,  //
                                  0, 5, 6, 7, 0, 8, 0, 0, 0, 0, 0, 0};
  constexpr int64_t kStride = 40;  // K' = 32 codes and 8 columns of a padded GEMM weight
  std::vector<uint8_t> slid(2 * kStride, 0);
  const std::vector<uint8_t> row0 = {1, 2, 0, 0, 0, 0, 3, 4, 9, 0, 0, 0, 0, 0, 0, 1};
  const std::vector<uint8_t> row1 = {0, 5, 6, 0, 0, 7, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0};
  std::copy(row0.begin(), row0.end(), slid.begin());
  std::copy(row1.begin(), row1.end(), slid.begin() + kStride);
  slid[32] = slid[kStride + 39] = 0x7F;  // past K': ignored
  std::vector<uint8_t> back(2 * 12, 0xCD);
  unslide_weight_rows(g, slid.data(), kStride, 2, back.data());
  EXPECT_EQ(back, w);
}

TEST(UnslideWeights, InvertsSlidingOfRandomPrunedRows) {
  std::mt19937 rng(20261206);
  for (int group : {4, 6, 8, 10, 16}) {
    for (int64_t k : {int64_t{64}, int64_t{70}, int64_t{2560}}) {
      SCOPED_TRACE("2:" + std::to_string(group) + " K=" + std::to_string(k));
      const SlideGeometry g = make_slide_geometry(k, group);
      constexpr int64_t kRows = 5;
      std::vector<uint8_t> w(static_cast<size_t>(kRows * k));
      for (auto& c : w) c = static_cast<uint8_t>(1 + rng() % 255);
      for (int64_t r = 0; r < kRows; ++r)  // two zeros in every group, more in some
        for (int64_t g0 = 0; g0 < k; g0 += group) {
          const int64_t width = std::min<int64_t>(group, k - g0);
          for (int zeros = 0; zeros < 2 + static_cast<int>(rng() % 3); ++zeros)
            w[r * k + g0 + static_cast<int64_t>(rng() % width)] = 0;
          w[r * k + g0] = 0, w[r * k + g0 + width - 1] = 0;
        }
      std::vector<uint8_t> slid(static_cast<size_t>(kRows * g.k_slid));
      slide_weight_rows(QuantKind::Int8, g, w.data(), kRows, slid.data());
      std::vector<uint8_t> back(w.size(), 0xCD);
      unslide_weight_rows(g, slid.data(), g.k_slid, kRows, back.data());
      EXPECT_EQ(back, w);
    }
  }
}

TEST(UnslideWeights, RefusesRowsThatNoSlideWrote) {
  const SlideGeometry g = make_slide_geometry(8, 8);  // windows over columns 0-3, 2-5, 4-7
  std::vector<uint8_t> slid(32, 0);
  slid[2] = 3, slid[4] = 5;  // window 0's column 2 and window 1's column 2
  std::vector<uint8_t> w(8);
  EXPECT_EQ(testing::error_of([&] { unslide_weight_rows(g, slid.data(), 32, 1, w.data()); }),
            "unslide: row 0 slid column 4 puts a second non-zero in column 2: not a slid 2:8 weight");
  slid[4] = 0, slid[12] = 1;  // K_raw = 12: column 12 is padding
  EXPECT_EQ(testing::error_of([&] { unslide_weight_rows(g, slid.data(), 32, 1, w.data()); }),
            "unslide: row 0 slid column 12 is padding but holds a non-zero: not a slid 2:8 weight");
  EXPECT_EQ(testing::error_of([&] { unslide_weight_rows(g, slid.data(), 16, 1, w.data()); }),
            "unslide: rows of 16 codes are narrower than K' = 32");
}

TEST(LiftActivations, GathersThroughTheMap) {
  const SlideGeometry g = make_slide_geometry(10, 8);
  std::vector<uint8_t> x(2 * 10);
  for (int i = 0; i < 20; ++i) x[i] = static_cast<uint8_t>(i + 1);
  std::vector<uint8_t> lifted(2 * 32, 0xCD);
  lift_activation_rows(g, x.data(), 2, lifted.data());
  const std::vector<int32_t> map = slide_column_map(g);
  for (int r = 0; r < 2; ++r)
    for (int j = 0; j < 32; ++j) EXPECT_EQ(lifted[r * 32 + j], map[j] < 0 ? 0 : x[r * 10 + map[j]]) << j;
  EXPECT_EQ(lifted[32 + 4], 13);  // row 1, j' = 4 reads column 2
}

}  // namespace
}  // namespace slidesparse
