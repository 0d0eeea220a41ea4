// The fixed-point grid of RMSNorm's order-free square sum (math/rmsnorm.h), shared by the CPU
// reference and the GPU kernels (kernels/norm_quant.cuh) so both use the same source.
//
// A bf16 |h| = m * 2^(e - 134) (m < 2^8 the significand, e its exponent field, subnormals on the
// grid of e = 1) squares to m^2 * 2^(2e - 268). With the row's largest field `top`, the grid unit is
// 2^(2 top - 298) and the square's grid value floor(h^2 / unit) = m^2 << (30 - 2 (top - e)) (a right
// shift, i.e. a floor, when the exponent is negative), below 2^46.
//
// The same value in floating point: with s = 2^(149 - top), h * s is exact and (h * s)^2 =
// m^2 * 2^(30 - 2 (top - e)) is exact too (a 16-bit significand, inside the normal range), so its
// truncation to an integer is the grid value: two multiplies and one conversion instead of the
// integer shift sequence. This needs s to be a normal float and the row free of Inf/NaN:
// kGridFloatMinTop <= top <= kGridFloatMaxTop; tests/math/rmsnorm_grid_test.cc checks every bf16
// against the integer form for every such top.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define SLIDESPARSE_HOST_DEVICE __host__ __device__
#else
#define SLIDESPARSE_HOST_DEVICE
#endif

namespace slidesparse {

inline constexpr int kGridFloatMinTop = 22;   // 2^(149 - top) <= 2^127
inline constexpr int kGridFloatMaxTop = 254;  // 255 is Inf/NaN

// Biased exponent field of a bf16 (bit pattern in the low 16 bits), subnormals on field 1's grid.
SLIDESPARSE_HOST_DEVICE inline int bf16_grid_field(uint32_t bits) {
  const int field = static_cast<int>((bits >> 7) & 0xFF);
  return field > 1 ? field : 1;
}

// floor(h^2 / 2^(2 top - 298)) by integer arithmetic; top >= bf16_grid_field(bits).
SLIDESPARSE_HOST_DEVICE inline uint64_t square_on_grid(uint32_t bits, int top) {
  const int field = static_cast<int>((bits >> 7) & 0xFF);
  const uint32_t m = (bits & 0x7F) | (field ? 0x80u : 0u);
  const int shift = 30 - 2 * (top - bf16_grid_field(bits));
  return shift >= 0 ? uint64_t{m * m} << shift : shift > -16 ? uint64_t{(m * m) >> -shift} : 0;
}

// 2^(149 - top) for kGridFloatMinTop <= top <= kGridFloatMaxTop.
SLIDESPARSE_HOST_DEVICE inline float grid_float_scale(int top) {
  const uint32_t bits = static_cast<uint32_t>(149 - top + 127) << 23;
  float s;
  memcpy(&s, &bits, sizeof s);
  return s;
}

// The same grid value in floating point (see above); `scale` = grid_float_scale(top).
SLIDESPARSE_HOST_DEVICE inline uint64_t square_on_grid_float(uint32_t bits, float scale) {
  const uint32_t wide = (bits & 0xFFFFu) << 16;
  float h;
  memcpy(&h, &wide, sizeof h);
  const float g = h * scale;
  return static_cast<uint64_t>(g * g);
}

}  // namespace slidesparse
