// bf16 test vectors written as floats, and back: the CPU references work on bf16 bit patterns.
#pragma once

#include <cstdint>
#include <vector>

#include "math/numeric_formats.h"

namespace slidesparse::testing {

inline std::vector<uint16_t> bf16s(const std::vector<float>& values) {
  std::vector<uint16_t> out;
  for (float v : values) out.push_back(float_to_bf16(v));
  return out;
}

inline std::vector<float> floats(const std::vector<uint16_t>& bits) {
  std::vector<float> out;
  for (uint16_t b : bits) out.push_back(bf16_to_float(b));
  return out;
}

}  // namespace slidesparse::testing
