#include "math/rope.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "math/numeric_formats.h"

namespace slidesparse {

RopeTable make_rope_table(int head_dim, int max_positions, double theta) {
  require(head_dim > 0 && head_dim % 2 == 0,
          "rope: head_dim " + std::to_string(head_dim) + " is not a positive even number");
  require(max_positions > 0, "rope: max_positions " + std::to_string(max_positions) + " is not positive");
  require(theta > 1.0, "rope: theta " + std::to_string(theta) + " must be greater than 1");
  const int half = head_dim / 2;
  RopeTable table;
  table.head_dim = head_dim;
  table.max_positions = max_positions;
  table.cos.resize(static_cast<size_t>(max_positions) * half);
  table.sin.resize(table.cos.size());
  // torch: 1.0 / (base ** (arange(0, d, 2).float() / d)), every step in fp32 (base becomes an fp32
  // scalar; 500000 and 10000 are exact).
  std::vector<float> inv_freq(half);
  for (int i = 0; i < half; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    inv_freq[i] = 1.0f / std::pow(static_cast<float>(theta), exponent);
  }
  for (int p = 0; p < max_positions; ++p) {
    for (int i = 0; i < half; ++i) {
      // The angle is one fp32 product (torch's inv_freq @ position matmul has a single term). Its
      // cos/sin are evaluated in double and rounded to fp32 (the correctly rounded cosf, which does
      // not depend on the libm), then to bf16 as transformers' `.to(x.dtype)` does.
      const float angle = static_cast<float>(p) * inv_freq[i];
      const size_t at = static_cast<size_t>(p) * half + i;
      table.cos[at] = float_to_bf16(static_cast<float>(std::cos(static_cast<double>(angle))));
      table.sin[at] = float_to_bf16(static_cast<float>(std::sin(static_cast<double>(angle))));
    }
  }
  return table;
}

void apply_rope(const RopeTable& table, int position, uint16_t* x) {
  require(position >= 0 && position < table.max_positions,
          "rope: position " + std::to_string(position) + " outside the table's 0.." +
              std::to_string(table.max_positions - 1));
  const int half = table.head_dim / 2;
  const uint16_t* cos = table.cos.data() + static_cast<size_t>(position) * half;
  const uint16_t* sin = table.sin.data() + static_cast<size_t>(position) * half;
  auto product = [](uint16_t a, uint16_t b) {
    return bf16_to_float(float_to_bf16(bf16_to_float(a) * bf16_to_float(b)));
  };
  for (int i = 0; i < half; ++i) {
    const uint16_t lo = x[i], hi = x[i + half];
    // rotate_half(x) = [-x[d/2:], x[:d/2]]; negation is exact, so -(hi * sin) == (-hi) * sin.
    x[i] = float_to_bf16(product(lo, cos[i]) - product(hi, sin[i]));
    x[i + half] = float_to_bf16(product(hi, cos[i]) + product(lo, sin[i]));
  }
}

}  // namespace slidesparse
