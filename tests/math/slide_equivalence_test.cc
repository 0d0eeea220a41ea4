// The end-to-end property of SlideSparse on random matrices: prune to 2:L, slide, lift the
// activations, and the slid GEMM equals the pruned dense GEMM (exactly for INT8).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "math/numeric_formats.h"
#include "math/prune.h"
#include "math/quantize.h"
#include "math/reference_linear.h"
#include "math/slide.h"

namespace slidesparse {
namespace {

constexpr int64_t kRows = 6;    // N
constexpr int64_t kTokens = 3;  // M

float code_value(QuantKind kind, uint8_t code) {
  return kind == QuantKind::Int8 ? static_cast<float>(static_cast<int8_t>(code)) : e4m3_to_float(code);
}

std::vector<uint8_t> random_weights(QuantKind kind, bool ternary, int64_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> trit(-1, 1);
  std::bernoulli_distribution zero(0.1);
  std::vector<uint8_t> w(static_cast<size_t>(count));
  for (auto& c : w) {
    if (ternary) {
      const int t = trit(rng);
      c = kind == QuantKind::Int8 ? static_cast<uint8_t>(static_cast<int8_t>(t)) : t > 0 ? 0x38 : t < 0 ? 0xB8 : 0x00;
    } else if (zero(rng)) {
      c = kind == QuantKind::Fp8E4M3 && byte(rng) % 2 ? 0x80 : 0x00;
    } else {
      do c = static_cast<uint8_t>(byte(rng));
      while (kind == QuantKind::Fp8E4M3 && (c & 0x7F) == 0x7F);
    }
  }
  return w;
}

std::vector<float> random_activations(int64_t count, std::mt19937& rng) {
  std::uniform_real_distribution<float> magnitude(0.01f, 4.0f);
  std::bernoulli_distribution negative(0.5);
  std::vector<float> x(static_cast<size_t>(count));
  for (auto& v : x) v = negative(rng) ? -magnitude(rng) : magnitude(rng);
  return x;
}

// Every aligned 4-chunk of W' holds at most two non-zeros, and folding W' back through the map
// gives W_pruned with each non-zero placed exactly once.
void expect_slid_weights_valid(QuantKind kind, const SlideGeometry& g, const std::vector<uint8_t>& pruned,
                               const std::vector<uint8_t>& slid) {
  const std::vector<int32_t> map = slide_column_map(g);
  for (int64_t r = 0; r < kRows; ++r) {
    const uint8_t* row = slid.data() + r * g.k_slid;
    for (int64_t j = 0; j < g.k_slid; j += 4) {
      int nonzeros = 0;
      for (int lane = 0; lane < 4; ++lane) nonzeros += !code_is_zero(kind, row[j + lane]);
      ASSERT_LE(nonzeros, 2) << "row " << r << " chunk " << j / 4;
    }
    std::vector<double> folded(static_cast<size_t>(g.k), 0.0);
    int64_t slid_nonzeros = 0, pruned_nonzeros = 0;
    for (int64_t j = 0; j < g.k_slid; ++j) {
      if (code_is_zero(kind, row[j])) continue;
      ++slid_nonzeros;
      ASSERT_GE(map[j], 0) << "non-zero at padding column " << j;
      folded[map[j]] += code_value(kind, row[j]);
    }
    for (int64_t c = 0; c < g.k; ++c) {
      const uint8_t code = pruned[r * g.k + c];
      pruned_nonzeros += !code_is_zero(kind, code);
      ASSERT_EQ(folded[c], code_value(kind, code)) << "row " << r << " column " << c;
    }
    EXPECT_EQ(slid_nonzeros, pruned_nonzeros);
  }
}

void expect_slid_gemm_matches(QuantKind kind, const SlideGeometry& g, const std::vector<uint8_t>& pruned,
                              const std::vector<uint8_t>& slid, std::mt19937& rng) {
  const int64_t k = g.k;
  const std::vector<float> x = random_activations(kTokens * k, rng);
  std::vector<uint8_t> x_q(kTokens * k), x_slid(kTokens * g.k_slid, 0xCD);
  std::vector<float> scale_x(kTokens), scale_x_slid(kTokens);
  quantize_rows(kind, x.data(), kTokens, k, x_q.data(), scale_x.data());
  quantize_slide_rows(kind, g, x.data(), kTokens, x_slid.data(), scale_x_slid.data());
  ASSERT_EQ(scale_x, scale_x_slid);
  std::vector<float> scale_w(kRows);
  for (auto& s : scale_w) s = std::uniform_real_distribution<float>(0.5f, 2.0f)(rng);

  std::vector<float> y_dense(kTokens * kRows), y_slid(kTokens * kRows);
  reference_linear_w8a8(kind, x_q.data(), scale_x.data(), pruned.data(), scale_w.data(), kTokens, kRows, k,
                        y_dense.data());
  reference_linear_w8a8(kind, x_slid.data(), scale_x.data(), slid.data(), scale_w.data(), kTokens, kRows, g.k_slid,
                        y_slid.data());
  if (kind == QuantKind::Int8) {
    std::vector<int32_t> acc_dense(kTokens * kRows), acc_slid(kTokens * kRows);
    reference_gemm_int8(reinterpret_cast<const int8_t*>(x_q.data()), reinterpret_cast<const int8_t*>(pruned.data()),
                        kTokens, kRows, k, acc_dense.data());
    reference_gemm_int8(reinterpret_cast<const int8_t*>(x_slid.data()), reinterpret_cast<const int8_t*>(slid.data()),
                        kTokens, kRows, g.k_slid, acc_slid.data());
    EXPECT_EQ(acc_slid, acc_dense);
    EXPECT_EQ(y_slid, y_dense);
    return;
  }
  std::vector<float> acc_dense(kTokens * kRows), acc_slid(kTokens * kRows);
  reference_gemm_fp8(x_q.data(), pruned.data(), kTokens, kRows, k, acc_dense.data());
  reference_gemm_fp8(x_slid.data(), slid.data(), kTokens, kRows, g.k_slid, acc_slid.data());
  for (int64_t m = 0; m < kTokens; ++m) {
    for (int64_t n = 0; n < kRows; ++n) {
      // Only the fp32 summation order differs: bound the error by the sum of |products|.
      double magnitude = 0.0;
      for (int64_t c = 0; c < k; ++c)
        magnitude += std::fabs(double{e4m3_to_float(x_q[m * k + c])} * e4m3_to_float(pruned[n * k + c]));
      const double tolerance = 1e-5 * magnitude;
      const int64_t i = m * kRows + n;
      EXPECT_NEAR(acc_slid[i], acc_dense[i], tolerance) << "m " << m << " n " << n;
      EXPECT_NEAR(y_slid[i], y_dense[i], tolerance * scale_x[m] * scale_w[n] + 1e-30) << "m " << m << " n " << n;
    }
  }
}

void run_prune_slide_gemm(QuantKind kind, bool ternary) {
  std::mt19937 rng(ternary ? 1234 : 4321);
  for (int64_t k : {7, 30, 97, 130, 256}) {
    for (int l = 4; l <= 16; l += 2) {
      for (PruneMode mode : {PruneMode::Magnitude, PruneMode::Random}) {
        SCOPED_TRACE("K=" + std::to_string(k) + " L=" + std::to_string(l) +
                     (mode == PruneMode::Magnitude ? " magnitude" : " random"));
        std::vector<uint8_t> pruned = random_weights(kind, ternary, kRows * k, rng);
        PruneOptions options{l, mode, 99, static_cast<uint64_t>(k)};
        prune_rows(kind, pruned.data(), kRows, k, options);
        ASSERT_EQ(count_pattern_violations(kind, pruned.data(), kRows, k, l), 0);

        const SlideGeometry g = make_slide_geometry(k, l);
        std::vector<uint8_t> slid(kRows * g.k_slid, 0xCD);
        slide_weight_rows(kind, g, pruned.data(), kRows, slid.data());
        expect_slid_weights_valid(kind, g, pruned, slid);
        expect_slid_gemm_matches(kind, g, pruned, slid, rng);
      }
    }
  }
}

TEST(SlideEquivalence, Int8Ternary) { run_prune_slide_gemm(QuantKind::Int8, true); }
TEST(SlideEquivalence, Int8General) { run_prune_slide_gemm(QuantKind::Int8, false); }
TEST(SlideEquivalence, Fp8Ternary) { run_prune_slide_gemm(QuantKind::Fp8E4M3, true); }
TEST(SlideEquivalence, Fp8General) { run_prune_slide_gemm(QuantKind::Fp8E4M3, false); }

}  // namespace
}  // namespace slidesparse
