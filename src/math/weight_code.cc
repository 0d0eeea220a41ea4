#include "math/weight_code.h"

#include <cmath>

#include "math/numeric_formats.h"

namespace slidesparse {

std::string_view quant_kind_name(QuantKind kind) { return kind == QuantKind::Int8 ? "int8" : "fp8"; }

float code_magnitude(QuantKind kind, uint8_t code) {
  if (kind == QuantKind::Int8) return std::fabs(static_cast<float>(static_cast<int8_t>(code)));
  return std::fabs(e4m3_to_float(code));
}

}  // namespace slidesparse
