// The released BitNet inference layout (transformers' pack_weights): ternary values + 1 in 2-bit
// fields, four per uint8 along the output dimension. Packed shape [R, K] with R = ceil(N / 4);
// original row n lives in packed row n mod R, bit field n div R (bits 2*(n div R) .. +1).
#pragma once

#include <cstdint>

#include "math/weight_code.h"

namespace slidesparse {

inline int64_t packed_ternary_rows(int64_t n) { return (n + 3) / 4; }

// Unpacks packed [ceil(n/4), k] into n x k codes of `kind` (int8 -1/0/1 or E4M3 codes). Throws Error
// if a field holds 3 (no ternary value) in the rows kept.
void unpack_ternary(QuantKind kind, const uint8_t* packed, int64_t n, int64_t k, uint8_t* out);

}  // namespace slidesparse
