// The sampling rule for one row of logits, shared by the CPU sampler (sequences/sampler.h) and the
// GPU sampler (kernels/sampling.h) so that both draw the same token from the same row.
//
// Greedy (temperature 0 or top_k 1): the lowest index among the largest logits. Otherwise:
// - Each token has an order key (its logit's bits mapped so that integer order is float order) and
//   a weight, its softmax numerator at the temperature relative to the largest logit, in fixed point
//   (token_weight). NaN logits have neither and are never drawn.
// - top_k > 0 keeps the tokens whose key is at least the k-th largest key; top_p < 1 then keeps,
//   of those, the tokens whose key is at least the largest key K with weight(key >= K) >= top_p of
//   their total. Ties at either cut are all kept (the cuts are thresholds on the key).
// - The draw: u = floor(bits * kept / 2^64) with the row's 64 random bits and kept the kept weight;
//   the token is the first kept one, in index order, whose running weight exceeds u.
// Weights are integers, so their sums do not depend on the order a parallel sampler adds them in,
// and the weight itself is computed with IEEE operations only (no library exp, whose last bits
// differ between the host and the device): the same bits on both.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "math/rmsnorm_grid.h"  // SLIDESPARSE_HOST_DEVICE

namespace slidesparse {

// What the samplers need of a request for one row, built on the host (sample_row_params).
struct SampleRowParams {
  float exponent_scale = 0;  // log2(e) / temperature; 0: greedy
  int32_t top_k = 0;         // 0: no cut
  float top_p = 1.0f;        // 1: no cut
  int32_t reserved = 0;
  uint64_t random_bits = 0;  // the row's draw, from (seed, sequence id, position)
};
static_assert(sizeof(SampleRowParams) == 24, "staged as six int32s");

SLIDESPARSE_HOST_DEVICE inline bool samples_greedily(const SampleRowParams& p) {
  return !(p.exponent_scale > 0.0f) || p.top_k == 1;
}

// Larger floats give larger keys; -inf gives 0x007FFFFF, so every non-NaN logit has a key above 0.
SLIDESPARSE_HOST_DEVICE inline uint32_t logit_order_key(float logit) {
  uint32_t bits;
  memcpy(&bits, &logit, sizeof bits);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

inline constexpr int kTokenWeightBits = 31;  // the largest logit weighs 2^31

// 2^k for an integer 0 <= k <= 31, exactly.
SLIDESPARSE_HOST_DEVICE inline float exact_power_of_two(int k) {
  const uint32_t bits = static_cast<uint32_t>(127 + k) << 23;
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

// floor(2^(31 + x)) for x = (logit - top) * exponent_scale <= 0, 0 below 2^0 (x < -31) and for NaN:
// 2^x = 2^n * 2^f with n = floor(x), f = x - n in [0, 1) (both exact), 2^f by a degree-5 polynomial
// (relative error below 2e-7) in fused multiply-adds, then scaled by 2^(31 + n) exactly. Every
// operation is a correctly rounded IEEE one, so host and device agree to the bit.
SLIDESPARSE_HOST_DEVICE inline uint32_t token_weight(float logit, float top, float exponent_scale) {
#if defined(__CUDA_ARCH__)
  const float x = __fmul_rn(__fsub_rn(logit, top), exponent_scale);  // no contraction into an FMA
#else
  volatile float difference = logit - top;  // no contraction into an FMA
  const float x = difference * exponent_scale;
#endif
  if (!(x >= -static_cast<float>(kTokenWeightBits))) return 0;
  const float n = floorf(x);
  const float f = x - n;
  float p = fmaf(0.0018670630f, f, 0.0090171751f);
  p = fmaf(p, f, 0.055799808f);
  p = fmaf(p, f, 0.24016447f);
  p = fmaf(p, f, 0.69315130f);
  p = fmaf(p, f, 1.0f);
  const float scaled = p * exact_power_of_two(kTokenWeightBits + static_cast<int>(n));
  return scaled >= 2147483648.0f ? 0x80000000u : static_cast<uint32_t>(scaled);
}

// The float whose order key is `key` (the inverse of logit_order_key).
SLIDESPARSE_HOST_DEVICE inline float logit_of_order_key(uint32_t key) {
  const uint32_t bits = (key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key;
  float logit;
  memcpy(&logit, &bits, sizeof logit);
  return logit;
}

// The lowest order key of non-zero weight in a row whose largest logit is `top` (finite), sampled at
// `exponent_scale` > 0: token_weight(logit, top, exponent_scale) > 0 exactly when logit is not NaN and
// logit_order_key(logit) >= this key. Tokens below it weigh nothing, so they change no sum and are
// never drawn, and the cuts need only be searched above it.
// Why a threshold: x = (logit - top) * exponent_scale is two correctly rounded, hence monotone,
// operations, and a weight is non-zero exactly when x >= -31 (2^(31 + floor(x)) >= 1 and the
// polynomial is >= 1 on [0, 1)). So the key is found by bisection on the weight itself, which makes
// it the weight's own threshold on the host and on the device, whatever the rounding near it.
SLIDESPARSE_HOST_DEVICE inline uint32_t lowest_weighted_key(float top, float exponent_scale) {
  uint32_t zero = logit_order_key(-INFINITY);     // weighs 0 (x = -inf)
  uint32_t weighted = logit_order_key(top);       // weighs 2^31
  while (weighted - zero > 1) {                   // every key between is a non-NaN float
    const uint32_t middle = zero + (weighted - zero) / 2;
    if (token_weight(logit_of_order_key(middle), top, exponent_scale) > 0)
      weighted = middle;
    else
      zero = middle;
  }
  return weighted;
}

// The top-p cut's target: ceil(top_p * total) in double precision (IEEE on both sides).
SLIDESPARSE_HOST_DEVICE inline uint64_t top_p_target(float top_p, uint64_t total) {
  const double target = ceil(static_cast<double>(top_p) * static_cast<double>(total));
  return target >= static_cast<double>(total) ? total : static_cast<uint64_t>(target);
}

// floor(bits * kept / 2^64): uniform in [0, kept).
SLIDESPARSE_HOST_DEVICE inline uint64_t draw_point(uint64_t bits, uint64_t kept) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(bits, kept);
#else
  return static_cast<uint64_t>((static_cast<unsigned __int128>(bits) * kept) >> 64);
#endif
}

}  // namespace slidesparse
