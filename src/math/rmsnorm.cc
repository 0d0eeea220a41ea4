#include "math/rmsnorm.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "math/numeric_formats.h"
#include "math/quantize.h"
#include "math/rmsnorm_grid.h"

namespace slidesparse {

namespace {

constexpr int64_t kElementsPerChunk = int64_t{1} << 16;

int64_t rows_per_chunk(int64_t k) { return std::max<int64_t>(1, kElementsPerChunk / k); }

}  // namespace

float rms_variance_bf16(const uint16_t* h, int64_t k) {
  require(k >= 1 && k <= kRmsNormMaxK, "rmsnorm: row length " + std::to_string(k) + " outside 1.." +
                                           std::to_string(kRmsNormMaxK));
  int top = 1;
  for (int64_t i = 0; i < k; ++i) top = std::max(top, bf16_grid_field(h[i]));
  uint64_t sum = 0;  // on the grid of math/rmsnorm_grid.h
  for (int64_t i = 0; i < k; ++i) sum += square_on_grid(h[i], top);
  return static_cast<float>(std::ldexp(static_cast<double>(sum), 2 * top - 298) / static_cast<double>(k));
}

void rmsnorm_rows_bf16(const uint16_t* x, const uint16_t* weight, int64_t rows, int64_t k, float eps, uint16_t* y) {
  parallel_for(rows, rows_per_chunk(k), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const uint16_t* h = x + r * k;
      const float inv_rms = 1.0f / std::sqrt(rms_variance_bf16(h, k) + eps);
      for (int64_t i = 0; i < k; ++i) {
        const float normalized = bf16_to_float(float_to_bf16(bf16_to_float(h[i]) * inv_rms));
        y[r * k + i] = float_to_bf16(bf16_to_float(weight[i]) * normalized);
      }
    }
  });
}

void rmsnorm_quantize_rows(QuantKind kind, const uint16_t* x, const uint16_t* weight, int64_t rows, int64_t k,
                           float eps, const SlideGeometry* slide, uint8_t* codes, float* scale) {
  require(slide == nullptr || slide->k == k, "rmsnorm_quantize: slide geometry is for K=" +
                                                 std::to_string(slide ? slide->k : 0) + ", rows have K=" +
                                                 std::to_string(k));
  std::vector<uint16_t> normalized(static_cast<size_t>(rows * k));
  rmsnorm_rows_bf16(x, weight, rows, k, eps, normalized.data());
  std::vector<float> values(normalized.size());
  std::transform(normalized.begin(), normalized.end(), values.begin(), bf16_to_float);
  if (slide)
    quantize_slide_rows(kind, *slide, values.data(), rows, codes, scale);
  else
    quantize_rows(kind, values.data(), rows, k, codes, scale);
}

void add_rows_bf16(const uint16_t* a, const uint16_t* b, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = float_to_bf16(bf16_to_float(a[i]) + bf16_to_float(b[i]));
}

}  // namespace slidesparse
