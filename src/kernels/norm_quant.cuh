// Device code of the fused (residual add +) RMSNorm (+ per-token quantization + slide), math of
// src/math/rmsnorm.h. One team of threads per row, as in quantize_kernels.cuh, whose staging layout
// and quantization phase it shares:
//   1. stage h into shared memory: cp.async of x, or x + residual through registers (writing
//      residual_out on the way);
//   2. the row's largest exponent, then the sum of squares on that fixed-point grid (64-bit
//      integers: associative, so the result does not depend on the team shape);
//   3. normalize in place in shared memory (y = bf16(w * bf16(h * r))) and take |y|'s max;
//   4. quantize + slide exactly as quantize_slide_kernel (store_codes), or store y as bf16.
// DRAM traffic is one read of x (+ residual in / out) and one write of the codes.
#pragma once

#include "kernels/quantize_kernels.cuh"

namespace slidesparse::quant_kernels {

struct NormArgs {
  QuantArgs q;                       // q.x = x; q.out / q.scale: codes and scales (quantizing kernels)
  const __nv_bfloat16* residual_in;  // nullable: h = bf16(x + residual_in)
  __nv_bfloat16* residual_out;       // nullable: receives h (only with residual_in)
  const __nv_bfloat16* weight;       // [k]
  __nv_bfloat16* y;                  // [rows, k] (the bf16-output kernel)
  float eps;
};

__device__ __forceinline__ uint32_t bf16_pair(float lo, float hi) {
  return static_cast<uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(lo))) |
         static_cast<uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(hi))) << 16;
}

// bf16(float(a) + float(b)) for two bf16 pairs (a float add then one rounding, as PyTorch does).
__device__ __forceinline__ uint32_t add_pairs(uint32_t a, uint32_t b) {
  return bf16_pair(__fadd_rn(bf16_low(a), bf16_low(b)), __fadd_rn(bf16_high(a), bf16_high(b)));
}

__device__ __forceinline__ uint4 add_chunks(uint4 a, uint4 b) {
  return make_uint4(add_pairs(a.x, b.x), add_pairs(a.y, b.y), add_pairs(a.z, b.z), add_pairs(a.w, b.w));
}

// Stages h = bf16(x + residual_in) and writes it to residual_out. Loads are batched so several
// chunks per thread are in flight (the stores may alias the loads, so the compiler cannot).
template <int kL>
__device__ __forceinline__ void stage_residual_row(const NormArgs& a, int64_t row, int t, uint4* in) {
  constexpr int kBatch = 4;
  const int in_chunks = a.q.super_groups * SuperGroup<kL>::kInChunks, team = a.q.team;
  if (a.q.vector_loads) {
    const uint4* xs = reinterpret_cast<const uint4*>(a.q.x + row * a.q.k);
    const uint4* rs = reinterpret_cast<const uint4*>(a.residual_in + row * a.q.k);
    uint4* ro = a.residual_out ? reinterpret_cast<uint4*>(a.residual_out + row * a.q.k) : nullptr;
    const int k_chunks = a.q.k / 8;
    for (int c0 = t; c0 < in_chunks; c0 += kBatch * team) {
      uint4 xv[kBatch], rv[kBatch];
#pragma unroll
      for (int b = 0; b < kBatch; ++b) {
        const int c = c0 + b * team;
        xv[b] = rv[b] = make_uint4(0, 0, 0, 0);
        if (c < k_chunks) xv[b] = xs[c], rv[b] = rs[c];
      }
#pragma unroll
      for (int b = 0; b < kBatch; ++b) {
        const int c = c0 + b * team;
        if (c >= in_chunks) break;
        const uint4 h = c < k_chunks ? add_chunks(xv[b], rv[b]) : make_uint4(0, 0, 0, 0);
        if (ro && c < k_chunks) ro[c] = h;
        in[input_slot<kL>(c)] = h;
      }
    }
  } else {
    const uint16_t* xs = reinterpret_cast<const uint16_t*>(a.q.x) + row * a.q.k;
    const uint16_t* rs = reinterpret_cast<const uint16_t*>(a.residual_in) + row * a.q.k;
    uint16_t* ro = a.residual_out ? reinterpret_cast<uint16_t*>(a.residual_out) + row * a.q.k : nullptr;
    uint16_t* dst = reinterpret_cast<uint16_t*>(in);
    for (int e = t; e < in_chunks * 8; e += team) {
      uint16_t h = 0;
      if (e < a.q.k) {
        h = static_cast<uint16_t>(add_pairs(xs[e], rs[e]));
        if (ro) ro[e] = h;
      }
      dst[input_slot<kL>(e / 8) * 8 + e % 8] = h;
    }
  }
}

__device__ __forceinline__ int pair_top_exponent(uint32_t pair, int top) {
  return max(top, static_cast<int>(max((pair >> 7) & 0xFFu, (pair >> 23) & 0xFFu)));
}

// h^2 on the grid of unit 2^(2 top - 298) (math/rmsnorm.cc), for one bf16 bit pattern.
__device__ __forceinline__ uint64_t square_on_grid(uint32_t bits, int top) {
  const int field = static_cast<int>((bits >> 7) & 0xFF);
  const uint32_t m = (bits & 0x7F) | (field ? 0x80u : 0u);
  const int shift = 30 - 2 * (top - max(field, 1));
  return shift >= 0 ? uint64_t{m * m} << shift : shift > -16 ? uint64_t{(m * m) >> -shift} : 0;
}

__device__ __forceinline__ uint64_t chunk_square_sum(uint4 v, int top, uint64_t sum) {
  const uint32_t pairs[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (const uint32_t pair : pairs) sum += square_on_grid(pair & 0xFFFF, top) + square_on_grid(pair >> 16, top);
  return sum;
}

// y = bf16(w * bf16(h * inv_rms)) for one bf16 pair.
__device__ __forceinline__ uint32_t normalize_pair(uint32_t h, uint32_t w, float inv_rms) {
  const uint32_t n = bf16_pair(__fmul_rn(bf16_low(h), inv_rms), __fmul_rn(bf16_high(h), inv_rms));
  return bf16_pair(__fmul_rn(bf16_low(w), bf16_low(n)), __fmul_rn(bf16_high(w), bf16_high(n)));
}

template <bool kQuantize, bool kInt8, int kL>
__global__ void __launch_bounds__(1024) rmsnorm_kernel(const NormArgs a) {
  using SG = SuperGroup<kL>;
  extern __shared__ uint4 smem[];
  __shared__ int warp_top[32];
  __shared__ unsigned long long warp_sum[32];
  __shared__ float warp_max[32];

  const QuantArgs& q = a.q;
  const int team_index = static_cast<int>(threadIdx.x) / q.team;
  const int t = static_cast<int>(threadIdx.x) - team_index * q.team;
  const int64_t row = int64_t{blockIdx.x} * (blockDim.x / q.team) + team_index;
  const bool real_row = row < q.rows;
  uint4* in = smem + team_index * q.row_smem_units;
  const int in_chunks = q.super_groups * SG::kInChunks;

  if (real_row) {
    if (a.residual_in)
      stage_residual_row<kL>(a, row, t, in);
    else
      stage_row<kL>(q, row, t, in);
  }
  wait_async_copies();
  __syncthreads();

  // Padding chunks are zero: they change neither the top exponent nor the sum.
  int top = 1;
  if (real_row)
    for (int c = t; c < in_chunks; c += q.team) {
      const uint4 v = in[input_slot<kL>(c)];
      top = pair_top_exponent(v.x, pair_top_exponent(v.y, pair_top_exponent(v.z, pair_top_exponent(v.w, top))));
    }
  top = team_reduce(top, warp_top, q.team, [](int p, int r) { return max(p, r); });
  unsigned long long sum = 0;
  if (real_row)
    for (int c = t; c < in_chunks; c += q.team) sum = chunk_square_sum(in[input_slot<kL>(c)], top, sum);
  sum = team_reduce(sum, warp_sum, q.team, [](unsigned long long p, unsigned long long r) { return p + r; });
  const double grid_unit = __longlong_as_double(static_cast<long long>(1023 + 2 * top - 298) << 52);
  const float var = __double2float_rn(__ddiv_rn(__dmul_rn(__ull2double_rn(sum), grid_unit), double(q.k)));
  const float inv_rms = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(var, a.eps)));

  // Only the k real columns are normalized: padding stays +0, so its codes are 0.
  float absmax = 0.0f;
  if (real_row) {
    if (q.vector_loads) {
      const uint4* w = reinterpret_cast<const uint4*>(a.weight);
      uint4* y = reinterpret_cast<uint4*>(a.y + row * q.k);
      for (int c = t; c < q.k / 8; c += q.team) {
        uint4& slot = in[input_slot<kL>(c)];
        const uint4 wv = __ldg(w + c);
        const uint4 v = make_uint4(normalize_pair(slot.x, wv.x, inv_rms), normalize_pair(slot.y, wv.y, inv_rms),
                                   normalize_pair(slot.z, wv.z, inv_rms), normalize_pair(slot.w, wv.w, inv_rms));
        if constexpr (kQuantize)
          slot = v, absmax = chunk_absmax(v, absmax);
        else
          y[c] = v;
      }
    } else {
      const uint16_t* w = reinterpret_cast<const uint16_t*>(a.weight);
      uint16_t* staged = reinterpret_cast<uint16_t*>(in);
      for (int e = t; e < q.k; e += q.team) {
        uint16_t& slot = staged[input_slot<kL>(e / 8) * 8 + e % 8];
        const uint16_t v = static_cast<uint16_t>(normalize_pair(slot, w[e], inv_rms));
        if constexpr (kQuantize)
          slot = v, absmax = fmaxf(absmax, fabsf(bf16_low(v)));
        else
          reinterpret_cast<uint16_t*>(a.y)[row * q.k + e] = v;
      }
    }
  }
  if constexpr (kQuantize) {
    absmax = team_max(absmax, warp_max, q.team);
    store_codes<kInt8, kL>(q, row, t, in, absmax);
  }
}

}  // namespace slidesparse::quant_kernels
