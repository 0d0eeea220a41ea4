// Shared by the fused-norm GPU tests (norm_quant_test.cu, acc_norm_quant_test.cu): random rows with
// magnitudes over decades, the CPU reference in the GPU's padded layout, the exact comparison, and
// rows of special values.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gpu_test_util.h"
#include "kernels/activation_quant.h"
#include "math/numeric_formats.h"
#include "math/rmsnorm.h"
#include "math/slide.h"

namespace slidesparse::testing {

inline constexpr uint8_t kPoison = 0xA5;
inline constexpr float kEps = 1e-5f;

inline int64_t round_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

struct Inputs {
  int64_t rows = 0, k = 0;
  std::vector<uint16_t> x, residual, weight;
};

inline Inputs random_inputs(int64_t rows, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> decades(-4.0f, 4.0f);
  std::uniform_int_distribution<int64_t> column(0, k - 1);
  Inputs in{rows, k, {}, {}, {}};
  for (int64_t row = 0; row < rows; ++row) {
    const float magnitude = std::pow(10.0f, decades(rng));
    std::vector<float> values(static_cast<size_t>(k));
    for (float& v : values) v = normal(rng) * magnitude;
    if (row % 5 == 1) values[column(rng)] = 3e4f * magnitude;  // outlier
    if (row % 7 == 2) std::fill(values.begin(), values.end(), 0.0f);
    for (float v : values) in.x.push_back(float_to_bf16(v));
    for (int64_t i = 0; i < k; ++i) in.residual.push_back(float_to_bf16(normal(rng) * magnitude * 2.0f));
  }
  for (int64_t i = 0; i < k; ++i) in.weight.push_back(float_to_bf16(1.0f + 0.2f * normal(rng)));
  return in;
}

struct Output {
  std::vector<uint8_t> codes;
  std::vector<float> scales;
  std::vector<uint16_t> residual_out;
};

inline std::vector<uint16_t> residual_sum(const Inputs& in) {
  std::vector<uint16_t> h(in.x.size());
  add_rows_bf16(in.x.data(), in.residual.data(), static_cast<int64_t>(h.size()), h.data());
  return h;
}

// The CPU reference in the GPU's padded layout.
inline Output run_cpu(QuantKind kind, int group, const Inputs& in, bool residual, int64_t rows_padded, int64_t cols) {
  Output o{std::vector<uint8_t>(static_cast<size_t>(rows_padded * cols), 0),
           std::vector<float>(static_cast<size_t>(rows_padded), 1.0f), {}};
  const std::vector<uint16_t> h = residual ? residual_sum(in) : in.x;
  if (residual) o.residual_out = h;
  const SlideGeometry g = make_slide_geometry(in.k, group ? group : 4);
  const int64_t dense_cols = group ? g.k_slid : in.k;
  std::vector<uint8_t> dense(static_cast<size_t>(in.rows * dense_cols));
  rmsnorm_quantize_rows(kind, h.data(), in.weight.data(), in.rows, in.k, kEps, group ? &g : nullptr, dense.data(),
                        o.scales.data());
  for (int64_t row = 0; row < in.rows; ++row)
    std::copy_n(dense.begin() + row * dense_cols, dense_cols, o.codes.begin() + row * cols);
  return o;
}

inline void expect_identical(const Output& gpu, const Output& cpu, int64_t cols) {
  expect_same_codes(gpu.codes, gpu.scales, cpu.codes, cpu.scales, cols);
  ASSERT_EQ(gpu.residual_out, cpu.residual_out);
}

inline int64_t out_cols(int group, int64_t k) { return group ? make_slide_geometry(k, group).k_slid : round_up(k, 32); }

// Special values in rows of k bf16 (row r at data + r * ld): by row % 6 a NaN, an Inf, a -Inf next
// to a NaN, +-near-max, an all-subnormal row with one negative subnormal, or nothing, at column
// (r * 977 + salt) % k.
inline void put_special_values(uint16_t* data, int64_t rows, int64_t ld, int64_t k, int64_t salt) {
  const uint16_t kNaN = 0x7FC0, kInf = 0x7F80, kMinusInf = 0xFF80, kNearMax = 0x7F7F, kSubnormal = 0x0003;
  for (int64_t row = 0; row < rows; ++row) {
    uint16_t* v = data + row * ld;
    const int64_t col = (row * 977 + salt) % k;
    switch (row % 6) {
      case 0: v[col] = kNaN; break;
      case 1: v[col] = kInf; break;
      case 2: v[col] = kMinusInf, v[(col + 1) % k] = kNaN; break;
      case 3: v[col] = kNearMax, v[(col + 7) % k] = kNearMax ^ 0x8000; break;
      case 4: std::fill(v, v + k, kSubnormal), v[col] = 0x8001; break;
      default: break;
    }
  }
}

}  // namespace slidesparse::testing
