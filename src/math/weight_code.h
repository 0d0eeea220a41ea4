// Quantized weights and activations are one byte per element in both supported schemes; this names
// how the byte is interpreted.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace slidesparse {

enum class QuantKind { Int8, Fp8E4M3 };

// The three spellings the outside world uses, each from one function:
std::string_view quant_kind_name(QuantKind kind);   // "int8" / "fp8": option values, tuning database
std::string_view quant_kind_label(QuantKind kind);  // "INT8" / "FP8": checkpoint names, tables, logs
std::string_view quant_kind_tag(QuantKind kind);    // "INT8" / "FP8E4M3": the results folders' hardware tag
// quant_kind_name's spelling back to the kind; nullopt for anything else.
std::optional<QuantKind> parse_quant_kind(std::string_view name);

// A code is zero when it encodes +0 or -0 (E4M3 0x80 is -0).
inline bool code_is_zero(QuantKind kind, uint8_t code) {
  return kind == QuantKind::Int8 ? code == 0 : (code & 0x7F) == 0;
}

// Bit i set when codes[i] is non-zero, for count <= 64 codes (one 2:L group).
inline uint64_t nonzero_mask(QuantKind kind, const uint8_t* codes, int count) {
  uint64_t mask = 0;
  for (int i = 0; i < count; ++i) mask |= uint64_t{!code_is_zero(kind, codes[i])} << i;
  return mask;
}

// Absolute value of the encoded number (exact: both formats embed in float).
float code_magnitude(QuantKind kind, uint8_t code);

}  // namespace slidesparse
