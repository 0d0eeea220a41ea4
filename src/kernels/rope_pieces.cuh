// RoPE on 16-byte pieces of a head, shared by the RoPE + KV-write kernel (rope_kv.cu) and decode
// attention, which rotates its step's fresh q and k itself (attention_decode.cu). The math is
// math/rope.h's: out = bf16(bf16(x * cos) + bf16(rotate_half(x) * sin)), rotate_half(x) = [-x_hi, x_lo].
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

#include "kernels/acc_view.cuh"
#include "kernels/vector_io.cuh"

namespace slidesparse {

// 8 columns of each half of a head (lo = columns [8c, 8c + 8), hi = [D/2 + 8c, D/2 + 8c + 8)) as
// four packed bf16 pairs each: bf16(lo * c) and bf16(hi * s) are one mul.rn.bf16x2 each (the
// products of two bf16 are exact in float, so this is their one rounding), their sum or difference
// one add/sub.rn.bf16x2 (float holds the exact sum of two bf16, so rounding it once is what rounding
// a float sum gives), with no conversion to float and back.
__device__ __forceinline__ void rotate_packed(uint4& lo, uint4& hi, const uint4& c, const uint4& s) {
  uint32_t* l = &lo.x;
  uint32_t* h = &hi.x;
  const uint32_t* cp = &c.x;
  const uint32_t* sp = &s.x;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const uint32_t new_lo = sub_bf16x2(mul_bf16x2(l[j], cp[j]), mul_bf16x2(h[j], sp[j]));
    const uint32_t new_hi = add_bf16x2(mul_bf16x2(h[j], cp[j]), mul_bf16x2(l[j], sp[j]));
    l[j] = new_lo;
    h[j] = new_hi;
  }
}

// 8 values of a bf16 accumulator in 16-byte aligned rows (p, at column col of its row) as packed
// pairs, its scales applied where it has any (kScaled; scale_x: the row's, read once by the caller).
template <bool kScaled>
__device__ __forceinline__ uint4 bf16_piece(const AccView& v, const __nv_bfloat16* p, float scale_x, int64_t col) {
  const uint4 raw = *reinterpret_cast<const uint4*>(p);
  if constexpr (!kScaled) return raw;
  return scaled_bf16_chunk(raw, v, scale_x, load_scale_chunk(v, col));
}

// Whether bf16_piece can read these rows: a bf16 accumulator in 16-byte aligned rows, its weight
// scales (if any) 16-byte aligned.
inline bool bf16_pieces_readable(const AccView& v) {
  const auto aligned16 = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  return v.type == AccumulatorType::BFloat16 && aligned16(v.data) && v.ld % 8 == 0 && aligned16(v.scale_w);
}

}  // namespace slidesparse
