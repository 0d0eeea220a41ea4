#include "math/weight_code.h"

#include <cmath>

#include "math/numeric_formats.h"

namespace slidesparse {

std::string_view quant_kind_name(QuantKind kind) { return kind == QuantKind::Int8 ? "int8" : "fp8"; }
std::string_view quant_kind_label(QuantKind kind) { return kind == QuantKind::Int8 ? "INT8" : "FP8"; }
std::string_view quant_kind_tag(QuantKind kind) { return kind == QuantKind::Int8 ? "INT8" : "FP8E4M3"; }

std::optional<QuantKind> parse_quant_kind(std::string_view name) {
  for (QuantKind kind : {QuantKind::Int8, QuantKind::Fp8E4M3})
    if (name == quant_kind_name(kind)) return kind;
  return std::nullopt;
}

float code_magnitude(QuantKind kind, uint8_t code) {
  if (kind == QuantKind::Int8) return std::fabs(static_cast<float>(static_cast<int8_t>(code)));
  return std::fabs(e4m3_to_float(code));
}

}  // namespace slidesparse
