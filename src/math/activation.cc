#include "math/activation.h"

#include <string>

#include "core/error.h"
#include "math/numeric_formats.h"

namespace slidesparse {

void relu2_mul_rows_bf16(const uint16_t* gate_up, int64_t rows, int64_t inter, uint16_t* out) {
  require(rows >= 0 && inter >= 1, "relu2_mul: invalid shape rows=" + std::to_string(rows) +
                                       " inter=" + std::to_string(inter));
  for (int64_t r = 0; r < rows; ++r) {
    const uint16_t* gate = gate_up + r * 2 * inter;
    const uint16_t* up = gate + inter;
    for (int64_t i = 0; i < inter; ++i) {
      // relu(NaN) is taken as 0, as fmaxf does on the GPU. Each bf16 op of the PyTorch graph is one
      // fp32 op rounded to bf16 once.
      const float g = bf16_to_float(gate[i]);
      const float relu = g > 0.0f ? g : 0.0f;
      const float squared = bf16_to_float(float_to_bf16(relu * relu));
      out[r * inter + i] = float_to_bf16(squared * bf16_to_float(up[i]));
    }
  }
}

}  // namespace slidesparse
