#include "math/prune.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/error.h"
#include "math/numeric_formats.h"

namespace slidesparse {
namespace {

std::vector<uint8_t> int8_codes(const std::vector<int>& values) {
  std::vector<uint8_t> codes;
  for (int v : values) codes.push_back(static_cast<uint8_t>(static_cast<int8_t>(v)));
  return codes;
}

std::vector<uint16_t> bf16_values(const std::vector<float>& values) {
  std::vector<uint16_t> out;
  for (float v : values) out.push_back(float_to_bf16(v));
  return out;
}

TEST(PruneMagnitude, ZerosTheSmallestMagnitudes) {
  std::vector<uint8_t> w = int8_codes({5, -3, 7, 2, 5, 0, 7, 2});
  const PruneStats stats = prune_rows(QuantKind::Int8, w.data(), 1, 8, PruneOptions{4});
  EXPECT_EQ(w, int8_codes({5, 0, 7, 0, 5, 0, 7, 0}));
  EXPECT_EQ(stats.zeros_before, 1);
  EXPECT_EQ(stats.zeros_added, 3);
}

TEST(PruneMagnitude, TernaryTiesFallToTheLowestIndex) {
  std::vector<uint8_t> w = int8_codes({1, -1, 1, 1, -1, 1, 1, 0});
  prune_rows(QuantKind::Int8, w.data(), 1, 8, PruneOptions{4});
  EXPECT_EQ(w, int8_codes({0, 0, 1, 1, 0, 1, 1, 0}));
}

TEST(PruneMagnitude, TernaryTiesFallToTheSmallerLatentMagnitude) {
  std::vector<uint8_t> w = int8_codes({1, -1, 1, 1, 1, 1, 1, 1});
  // Group 0: |latent| 0.5, 0.1, 0.3, 0.2 -> columns 1 and 3. Group 1: all 0.4 except column 6
  // (-0.125: smallest magnitude despite the sign), then the lowest index among the ties, column 4.
  const std::vector<uint16_t> latent = bf16_values({0.5f, -0.1f, 0.3f, 0.2f, 0.4f, -0.4f, -0.125f, 0.4f});
  PruneOptions options{4};
  options.latent_bf16 = latent.data();
  prune_rows(QuantKind::Int8, w.data(), 1, 8, options);
  EXPECT_EQ(w, int8_codes({1, 0, 1, 0, 0, 1, 0, 1}));
}

TEST(PruneMagnitude, CodeMagnitudeOutranksLatent) {
  std::vector<uint8_t> w = int8_codes({2, 1, 3, 4});
  const std::vector<uint16_t> latent = bf16_values({0.1f, 9.0f, 0.2f, 0.3f});
  PruneOptions options{4};
  options.latent_bf16 = latent.data();
  prune_rows(QuantKind::Int8, w.data(), 1, 4, options);
  EXPECT_EQ(w, int8_codes({0, 0, 3, 4}));
}

TEST(PruneMagnitude, PaddingZerosCount) {
  // K = 7, L = 4: the second group holds columns 4..6 and one padding zero, so it needs one more.
  std::vector<uint8_t> w = int8_codes({1, 1, 1, 1, 1, 1, 1});
  const PruneStats stats = prune_rows(QuantKind::Int8, w.data(), 1, 7, PruneOptions{4});
  EXPECT_EQ(w, int8_codes({0, 0, 1, 1, 0, 1, 1}));
  EXPECT_EQ(stats.zeros_before, 0);
  EXPECT_EQ(stats.zeros_added, 3);
  // K = 6: the second group already has two padding zeros.
  std::vector<uint8_t> v = int8_codes({1, 1, 1, 1, 1, 1});
  EXPECT_EQ(prune_rows(QuantKind::Int8, v.data(), 1, 6, PruneOptions{4}).zeros_added, 2);
  EXPECT_EQ(v, int8_codes({0, 0, 1, 1, 1, 1}));
}

TEST(PruneMagnitude, Fp8NegativeZeroCountsAndPrunedCodesBecomeZero) {
  // 1.0, -0.5, 2.0, -0: one zero already, so only -0.5 goes, written as 0x00.
  std::vector<uint8_t> w = {0x38, 0xB0, 0x40, 0x80};
  const PruneStats stats = prune_rows(QuantKind::Fp8E4M3, w.data(), 1, 4, PruneOptions{4});
  EXPECT_EQ(w, (std::vector<uint8_t>{0x38, 0x00, 0x40, 0x80}));
  EXPECT_EQ(stats.zeros_before, 1);
  EXPECT_EQ(stats.zeros_added, 1);
}

TEST(PruneOptionsCheck, RejectsGroupsTooSmallForTwoZeros) {
  std::vector<uint8_t> w(4, 1);
  EXPECT_THROW(prune_rows(QuantKind::Int8, w.data(), 1, 4, PruneOptions{1}), Error);
}

std::vector<uint8_t> random_ternary(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(-1, 1);
  std::vector<uint8_t> w(static_cast<size_t>(count));
  for (auto& c : w) c = static_cast<uint8_t>(static_cast<int8_t>(pick(rng)));
  return w;
}

TEST(PruneRandom, DeterministicSeededAndValid) {
  const int64_t rows = 64, k = 250;
  const std::vector<uint8_t> original = random_ternary(rows * k, 1);
  auto pruned = [&](uint64_t seed, uint64_t stream) {
    std::vector<uint8_t> w = original;
    PruneOptions options{8, PruneMode::Random, seed, stream};
    const PruneStats stats = prune_rows(QuantKind::Int8, w.data(), rows, k, options);
    int64_t zeros_before = 0, zeros_after = 0;
    for (int64_t i = 0; i < rows * k; ++i) {
      zeros_before += original[i] == 0;
      zeros_after += w[i] == 0;
      if (w[i] != 0) {
        EXPECT_EQ(w[i], original[i]);  // pruning only ever zeroes
      }
    }
    EXPECT_EQ(stats.zeros_before, zeros_before);
    EXPECT_EQ(stats.zeros_added, zeros_after - zeros_before);
    EXPECT_EQ(count_pattern_violations(QuantKind::Int8, w.data(), rows, k, 8), 0);
    return w;
  };
  const std::vector<uint8_t> a = pruned(7, 0);
  EXPECT_EQ(a, pruned(7, 0));
  EXPECT_NE(a, pruned(8, 0));
  EXPECT_NE(a, pruned(7, 1));
  // Each group gets exactly what it needs: the magnitude result has the same number of zeros.
  std::vector<uint8_t> by_magnitude = original;
  prune_rows(QuantKind::Int8, by_magnitude.data(), rows, k, PruneOptions{8});
  EXPECT_EQ(std::count(a.begin(), a.end(), 0), std::count(by_magnitude.begin(), by_magnitude.end(), 0));
}

TEST(PatternViolations, CountsGroupsWithTooFewZeros) {
  const std::vector<uint8_t> w = int8_codes({1, 1, 1, 0, 1, 0, 0, 1,  //
                                             1, 1, 1, 1, 0, 0, 1, 1});
  EXPECT_EQ(count_pattern_violations(QuantKind::Int8, w.data(), 2, 8, 4), 2);
  EXPECT_EQ(count_pattern_violations(QuantKind::Int8, w.data(), 2, 8, 4, 1), 1);
  EXPECT_EQ(count_pattern_violations(QuantKind::Int8, w.data(), 2, 8, 8), 0);
  // K = 6, L = 4: the last group has two padding zeros.
  EXPECT_EQ(count_pattern_violations(QuantKind::Int8, w.data(), 1, 6, 4), 1);
  const std::vector<uint8_t> fp8 = {0x38, 0x80, 0x00, 0xB8};
  EXPECT_EQ(count_pattern_violations(QuantKind::Fp8E4M3, fp8.data(), 1, 4, 4), 0);
}

}  // namespace
}  // namespace slidesparse
