// BitNet's MLP activation as transformers computes it in a bf16 model (ReLUSquaredActivation, then
// the product with up_proj's output), element by element on bf16 bit patterns:
//   a = bf16(bf16(relu(g) * relu(g)) * u)
// gate_up rows hold [gate (inter values) | up (inter values)], the fused gate_up linear's layout.
#pragma once

#include <cstdint>

namespace slidesparse {

// out [rows, inter] from gate_up [rows, 2 * inter].
void relu2_mul_rows_bf16(const uint16_t* gate_up, int64_t rows, int64_t inter, uint16_t* out);

}  // namespace slidesparse
