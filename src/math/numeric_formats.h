// Bit-exact scalar conversions for the 16- and 8-bit formats the checkpoints and kernels use.
#pragma once

#include <cstdint>

namespace slidesparse {

// bfloat16: round-to-nearest-even; NaN stays a (quiet) NaN.
uint16_t float_to_bf16(float value);
float bf16_to_float(uint16_t bits);

// float16 (IEEE binary16), decoding only: checkpoints may hold F16 norms or embeddings.
float f16_to_float(uint16_t bits);

// float8 E4M3 "fn" (no infinities; 0x7F and 0xFF are NaN; max finite 448).
// Encoding rounds to nearest even and saturates finite overflow to +-448 (what CUDA's satfinite
// conversion does); NaN encodes as 0x7F. Quantizers clamp to +-448 before encoding anyway.
uint8_t float_to_e4m3(float value);
float e4m3_to_float(uint8_t code);

inline constexpr float kE4M3Max = 448.0f;

}  // namespace slidesparse
