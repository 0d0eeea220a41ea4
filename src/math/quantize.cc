#include "math/quantize.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "math/numeric_formats.h"

namespace slidesparse {

namespace {

// Fixed block size for the absmean sum: blocks are summed in order, so the result does not depend
// on how many threads computed them.
constexpr int64_t kSumBlock = int64_t{1} << 16;
constexpr int64_t kElementsPerChunk = int64_t{1} << 16;

constexpr uint8_t kE4M3PlusOne = 0x38;
constexpr uint8_t kE4M3MinusOne = 0xB8;

int64_t rows_per_chunk(int64_t k) { return std::max<int64_t>(1, kElementsPerChunk / std::max<int64_t>(1, k)); }

// T = clamp(round_half_even(w / scale), -1, 1) for n values; returns the zero count. Parameters by
// value so the byte stores do not force reloads of shared state.
int64_t ternarize_range(QuantKind kind, const uint16_t* w, int64_t n, float scale, uint8_t* out) {
  const uint8_t plus_one = kind == QuantKind::Int8 ? 0x01 : kE4M3PlusOne;
  const uint8_t minus_one = kind == QuantKind::Int8 ? 0xFF : kE4M3MinusOne;
  int64_t zeros = 0;
  for (int64_t i = 0; i < n; ++i) {
    // The clamped rounding is exactly two comparisons: +-0.5 round to 0 (even), and every q past 0.5
    // rounds to 1 or more before the clamp. NaN compares false and becomes 0.
    const float q = bf16_to_float(w[i]) / scale;
    const bool positive = q > 0.5f;
    const bool negative = q < -0.5f;
    out[i] = (positive ? plus_one : 0) | (negative ? minus_one : 0);
    zeros += !positive && !negative;
  }
  return zeros;
}

// Quantizes one row of k values into x_q and returns its scale (absmax / qmax, per token).
float quantize_row(QuantKind kind, const float* x, int64_t k, uint8_t* x_q) {
  const float qmax = quant_qmax(kind);
  float absmax = 0.0f;
  for (int64_t i = 0; i < k; ++i) absmax = std::max(absmax, std::fabs(x[i]));
  const float inv = qmax / std::max(absmax, 1e-12f);
  if (kind == QuantKind::Int8) {
    for (int64_t i = 0; i < k; ++i) {
      const float q = std::clamp(std::nearbyint(x[i] * inv), -128.0f, 127.0f);
      x_q[i] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
  } else {
    for (int64_t i = 0; i < k; ++i) x_q[i] = float_to_e4m3(std::clamp(x[i] * inv, -kE4M3Max, kE4M3Max));
  }
  return std::max(absmax / qmax, 1.0f / (qmax * 512.0f));
}

}  // namespace

float absmean_scale_bf16(const uint16_t* w, int64_t n) {
  require(n > 0, "absmean scale of an empty tensor");
  const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  std::vector<double> block_sums(static_cast<size_t>(blocks));
  parallel_for(blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t stop = std::min(n, (b + 1) * kSumBlock);
      // Four interleaved partial sums (fixed order, so still deterministic) break the add latency chain.
      double lanes[4] = {0.0, 0.0, 0.0, 0.0};
      int64_t i = b * kSumBlock;
      for (; i + 4 <= stop; i += 4)
        for (int lane = 0; lane < 4; ++lane) lanes[lane] += std::fabs(bf16_to_float(w[i + lane]));
      for (; i < stop; ++i) lanes[0] += std::fabs(bf16_to_float(w[i]));
      block_sums[b] = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    }
  });
  double total = 0.0;
  for (double s : block_sums) total += s;
  return std::max(static_cast<float>(total / static_cast<double>(n)), 1e-5f);
}

int64_t ternarize_bf16(QuantKind kind, const uint16_t* w, int64_t n, float scale, uint8_t* out) {
  require(scale > 0.0f, "ternarize: the weight scale must be positive");
  std::atomic<int64_t> zeros{0};
  parallel_for(n, kElementsPerChunk, [&](int64_t begin, int64_t end) {
    zeros += ternarize_range(kind, w + begin, end - begin, scale, out + begin);
  });
  return zeros.load();
}

void quantize_rows(QuantKind kind, const float* x, int64_t rows, int64_t k, uint8_t* x_q, float* scale) {
  parallel_for(rows, rows_per_chunk(k), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) scale[r] = quantize_row(kind, x + r * k, k, x_q + r * k);
  });
}

void quantize_slide_rows(QuantKind kind, const SlideGeometry& geometry, const float* x, int64_t rows,
                         uint8_t* x_slid, float* scale) {
  const std::vector<int32_t> map = slide_column_map(geometry);
  parallel_for(rows, rows_per_chunk(geometry.k_slid), [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> row_q(static_cast<size_t>(geometry.k));
    for (int64_t r = begin; r < end; ++r) {
      scale[r] = quantize_row(kind, x + r * geometry.k, geometry.k, row_q.data());
      uint8_t* dst = x_slid + r * geometry.k_slid;
      for (int64_t j = 0; j < geometry.k_slid; ++j) dst[j] = map[j] < 0 ? 0 : row_q[map[j]];
    }
  });
}

}  // namespace slidesparse
