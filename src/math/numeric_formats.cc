#include "math/numeric_formats.h"

#include <cmath>
#include <cstring>

namespace slidesparse {

namespace {

uint32_t float_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float bits_float(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

constexpr float kE4M3MinNormal = 0x1p-6f;
constexpr float kE4M3SubnormalStep = 0x1p-9f;

}  // namespace

uint16_t float_to_bf16(float value) {
  const uint32_t bits = float_bits(value);
  if (std::isnan(value)) return static_cast<uint16_t>((bits >> 16) | 0x0040);
  // Adding 0x7FFF plus the kept LSB rounds half to even; a carry into the exponent is correct
  // rounding (up to infinity for values past the largest bf16).
  const uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float bf16_to_float(uint16_t bits) { return bits_float(static_cast<uint32_t>(bits) << 16); }

float f16_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1F;
  const uint32_t mantissa = bits & 0x3FF;
  if (exponent == 0x1F) return bits_float(sign | 0x7F800000 | (mantissa << 13));
  if (exponent == 0) {
    // Subnormal (or zero): mantissa * 2^-24, exact in float.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  return bits_float(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

uint8_t float_to_e4m3(float value) {
  if (std::isnan(value)) return 0x7F;
  const uint8_t sign = std::signbit(value) ? 0x80 : 0x00;
  const float magnitude = std::fabs(value);
  if (magnitude > kE4M3Max) return sign | 0x7E;  // satfinite, infinities included
  if (magnitude < kE4M3MinNormal) {
    // Subnormal codes are multiples of 2^-9 and the code equals the multiple; 8 * 2^-9 is the first
    // normal code 0x08, so rounding up across the boundary needs no special case. The scaling by
    // 2^9 is exact and nearbyint rounds half to even in the default rounding mode.
    return sign | static_cast<uint8_t>(std::nearbyint(magnitude / kE4M3SubnormalStep));
  }
  // Normal: keep the top 3 of the 23 float mantissa bits, round half to even on the 20 dropped
  // bits; a carry out of the mantissa correctly bumps the exponent field.
  const uint32_t bits = float_bits(magnitude);
  const uint32_t exponent = (bits >> 23) - 127 + 7;
  const uint32_t mantissa = bits & 0x7FFFFF;
  uint32_t code = (exponent << 3) | (mantissa >> 20);
  const uint32_t dropped = mantissa & 0xFFFFF;
  if (dropped > 0x80000 || (dropped == 0x80000 && (code & 1))) ++code;
  return sign | static_cast<uint8_t>(code);  // magnitude <= 448 keeps code <= 0x7E
}

float e4m3_to_float(uint8_t code) {
  const int exponent = (code >> 3) & 0xF;
  const int mantissa = code & 0x7;
  if (exponent == 0xF && mantissa == 0x7) return std::nanf("");
  const float magnitude = exponent == 0 ? static_cast<float>(mantissa) * kE4M3SubnormalStep
                                        : std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
  return (code & 0x80) ? -magnitude : magnitude;
}

}  // namespace slidesparse
