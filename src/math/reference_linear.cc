#include "math/reference_linear.h"

#include <algorithm>
#include <vector>

#include "core/parallel.h"
#include "math/numeric_formats.h"

namespace slidesparse {

namespace {

// Output elements per parallel chunk, sized so each chunk does at least ~64k multiply-adds.
int64_t outputs_per_chunk(int64_t k) { return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, k)); }

std::vector<float> decode_e4m3(const uint8_t* codes, int64_t count) {
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[i] = e4m3_to_float(codes[i]);
  return values;
}

// y = float(acc) * scale_x[m] * scale_w[n], multiplied in that order as the GPU epilogues do.
template <typename Acc>
void scale_outputs(const Acc* acc, const float* scale_x, const float* scale_w, int64_t m, int64_t n, float* y) {
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < n; ++c) y[r * n + c] = static_cast<float>(acc[r * n + c]) * scale_x[r] * scale_w[c];
}

}  // namespace

void reference_gemm_int8(const int8_t* x_q, const int8_t* w, int64_t m, int64_t n, int64_t k, int32_t* acc) {
  parallel_for(m * n, outputs_per_chunk(k), [&](int64_t begin, int64_t end) {
    for (int64_t index = begin; index < end; ++index) {
      const int8_t* x_row = x_q + (index / n) * k;
      const int8_t* w_row = w + (index % n) * k;
      int32_t sum = 0;
      for (int64_t i = 0; i < k; ++i) sum += int32_t{x_row[i]} * int32_t{w_row[i]};
      acc[index] = sum;
    }
  });
}

void reference_gemm_fp8(const uint8_t* x_q, const uint8_t* w, int64_t m, int64_t n, int64_t k, float* acc) {
  const std::vector<float> x_values = decode_e4m3(x_q, m * k);
  const std::vector<float> w_values = decode_e4m3(w, n * k);
  parallel_for(m * n, outputs_per_chunk(k), [&](int64_t begin, int64_t end) {
    for (int64_t index = begin; index < end; ++index) {
      const float* x_row = x_values.data() + (index / n) * k;
      const float* w_row = w_values.data() + (index % n) * k;
      float sum = 0.0f;
      for (int64_t i = 0; i < k; ++i) sum += x_row[i] * w_row[i];
      acc[index] = sum;
    }
  });
}

void reference_linear_w8a8(QuantKind kind, const uint8_t* x_q, const float* scale_x, const uint8_t* w,
                           const float* scale_w, int64_t m, int64_t n, int64_t k, float* y) {
  if (kind == QuantKind::Int8) {
    std::vector<int32_t> acc(static_cast<size_t>(m * n));
    reference_gemm_int8(reinterpret_cast<const int8_t*>(x_q), reinterpret_cast<const int8_t*>(w), m, n, k,
                        acc.data());
    scale_outputs(acc.data(), scale_x, scale_w, m, n, y);
  } else {
    std::vector<float> acc(static_cast<size_t>(m * n));
    reference_gemm_fp8(x_q, w, m, n, k, acc.data());
    scale_outputs(acc.data(), scale_x, scale_w, m, n, y);
  }
}

}  // namespace slidesparse
