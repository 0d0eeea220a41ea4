// Device code of the per-token quantization and the fused quantize + slide (math/quantize.h,
// math/slide.h).
//
// A row is cut into super-groups of four 2:L groups: 4L bf16 inputs (L/2 16-byte chunks) feed
// 4 * (2L - 4) = 8(L - 2) output codes (L/2 - 1 16-byte units). Both are whole 16-byte vectors for
// every even L, and inside one super-group the slide gather is fixed at compile time, so each input
// is quantized once and each window is one register or one byte permute. L = 4 is the identity map,
// which is also plain quantization.
//
// One team of threads per row, three phases:
//   1. cp.async the row into shared memory (16-byte coalesced copies, all in flight at once);
//   2. absmax from shared memory, reduced across the team (warp shuffles + one barrier);
//   3. each thread quantizes whole super-groups. For L = 4 a super-group is one output unit and is
//      stored straight to global memory (consecutive lanes, consecutive units). For L > 4 the units
//      go through shared memory so the global stores stay coalesced.
// Shared-memory strides between super-groups are odd multiples of 16 bytes, so the 16-byte accesses
// of eight consecutive lanes fall into eight different bank groups.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <climits>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "kernels/dependent_launch.cuh"
#include "kernels/vector_io.cuh"

namespace slidesparse::quant_kernels {

struct QuantArgs {
  const __nv_bfloat16* x;  // [rows, k]
  uint8_t* out;            // [rows_padded, out_cols]
  float* scale;            // [rows_padded]
  int64_t rows, rows_padded;
  int k, out_cols;
  int super_groups;    // ceil(k / 4L): super-groups holding real inputs
  int row_smem_units;  // 16-byte shared-memory units per row
  int team;            // threads per row (a multiple of 32)
  bool vector_loads;   // rows are 16-byte aligned (k % 8 == 0 and x aligned)
};

template <int kL>
struct SuperGroup {
  static_assert(kL >= 4 && kL <= 16 && kL % 2 == 0, "2:L groups with even L in 4..16");
  static constexpr int kWindows = kL / 2 - 1;  // NW: 2:4 windows per group
  static constexpr int kInChunks = kL / 2;     // 16-byte bf16 chunks in
  static constexpr int kOutUnits = kL / 2 - 1; // 16-byte code units out
  static constexpr int kInStride = kInChunks | 1;
  static constexpr int kOutStride = kOutUnits | 1;
  static constexpr bool kStagedOutput = kOutUnits > 1;
  static constexpr int smem_units(int super_groups) {
    return super_groups * (kInStride + (kStagedOutput ? kOutStride : 0));
  }
};

// Shared-memory slot of the row's 16-byte input chunk c.
template <int kL>
__device__ __forceinline__ int input_slot(int c) {
  using SG = SuperGroup<kL>;
  return c / SG::kInChunks * SG::kInStride + c % SG::kInChunks;
}

__device__ __forceinline__ void copy_async_16(void* shared_dst, const void* global_src) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(shared_dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(global_src) : "memory");
}

__device__ __forceinline__ void wait_async_copies() { asm volatile("cp.async.wait_all;\n" ::: "memory"); }

// The largest magnitudes of a chunk's 8 bf16 folded into a running pair of maxima: abs.bf16x2 and
// max.bf16x2, two instructions per pair (max returns the input that is not NaN, as fmaxf does, so
// NaNs are skipped). A row starts from 0 and ends with pair_absmax. The values are bf16, so this is
// the float maximum of fabsf over them exactly.
__device__ __forceinline__ uint32_t chunk_absmax_pairs(const uint4 v, uint32_t top) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const uint32_t pairs[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (const uint32_t pair : pairs) {
    uint32_t magnitude;
    asm("abs.bf16x2 %0, %1;" : "=r"(magnitude) : "r"(pair));
    asm("max.bf16x2 %0, %1, %2;" : "=r"(top) : "r"(top), "r"(magnitude));
  }
  return top;
#else
  float m = fmaxf(bf16_low(top), bf16_high(top));
  const uint32_t pairs[4] = {v.x, v.y, v.z, v.w};
  for (const uint32_t pair : pairs) m = fmaxf(m, fmaxf(fabsf(bf16_low(pair)), fabsf(bf16_high(pair))));
  return __bfloat16_as_ushort(__float2bfloat16_rn(m));  // exact: m is one of the bf16 magnitudes
#endif
}

__device__ __forceinline__ float pair_absmax(uint32_t top) { return fmaxf(bf16_low(top), bf16_high(top)); }

// The INT8 code of x in the low byte of the result (the other bytes are not the code's sign
// extension; quantize4 keeps byte 0 only). kCheckNaN = false: for callers that know x * inv is not
// NaN, which then skip the test.
template <bool kCheckNaN = true>
__device__ __forceinline__ uint32_t int8_code(float x, float inv) {
  // Round half to even like rint, without the conversion pipe (an eighth of the FP32 rate on
  // Hopper): adding 1.5 * 2^23 puts v in [2^23, 2^24), where the float's ulp is 1, so its bit
  // pattern is 0x4B400000 + rint(v) and its low byte is rint(v) in two's complement. |v| <= 127
  // here (|x| <= absmax, inv = 127 / absmax, rounding keeps x * inv below 127.5), so no clamp is
  // needed; an Inf row has inv = 0. Separate _rn intrinsics keep the multiply from being fused
  // into the add. NaN gives 0, as __float2int_rn did.
  const float v = __fmul_rn(x, inv);
  if constexpr (!kCheckNaN) return __float_as_uint(__fadd_rn(v, 12582912.0f));
  return v == v ? __float_as_uint(__fadd_rn(v, 12582912.0f)) : 0u;
}

// Four codes from four bf16 values (two pairs), element i in byte i. kCheckNaN: as int8_code (FP8's
// conversion handles NaN itself).
template <bool kInt8, bool kCheckNaN = true>
__device__ __forceinline__ uint32_t quantize4(uint32_t pair01, uint32_t pair23, float inv) {
  if constexpr (kInt8) {
    const uint32_t q0 = int8_code<kCheckNaN>(bf16_low(pair01), inv), q1 = int8_code<kCheckNaN>(bf16_high(pair01), inv);
    const uint32_t q2 = int8_code<kCheckNaN>(bf16_low(pair23), inv), q3 = int8_code<kCheckNaN>(bf16_high(pair23), inv);
    return __byte_perm(__byte_perm(q0, q1, 0x0040), __byte_perm(q2, q3, 0x0040), 0x5410);
  } else {
    // SATFINITE conversion equals clamping to +-448 first: finite overflow and infinities
    // saturate, NaN stays NaN (0x7F), exactly what the CPU reference's clamp + encode does.
    const __nv_fp8x2_storage_t lo = __nv_cvt_float2_to_fp8x2(
        make_float2(__fmul_rn(bf16_low(pair01), inv), __fmul_rn(bf16_high(pair01), inv)), __NV_SATFINITE, __NV_E4M3);
    const __nv_fp8x2_storage_t hi = __nv_cvt_float2_to_fp8x2(
        make_float2(__fmul_rn(bf16_low(pair23), inv), __fmul_rn(bf16_high(pair23), inv)), __NV_SATFINITE, __NV_E4M3);
    return static_cast<uint32_t>(lo) | static_cast<uint32_t>(hi) << 16;
  }
}

// codes[i] holds the codes of super-group elements 4i..4i+3.
template <bool kInt8, int kL>
__device__ __forceinline__ void quantize_super_group(const uint4* in, float inv, uint32_t (&codes)[kL]) {
#pragma unroll
  for (int i = 0; i < kL / 2; ++i) {
    const uint4 v = in[i];
    codes[2 * i] = quantize4<kInt8>(v.x, v.y, inv);
    codes[2 * i + 1] = quantize4<kInt8>(v.z, v.w, inv);
  }
}

// The four codes of window `window` of the super-group: elements g*L + 2w .. +3 (math/slide.h).
// `window` is a compile-time constant after unrolling, so this is a register or one permute.
template <int kL>
__device__ __forceinline__ uint32_t window_codes(const uint32_t (&codes)[kL], int window) {
  constexpr int kWindows = SuperGroup<kL>::kWindows;
  const int first = window / kWindows * kL + 2 * (window % kWindows);
  return first % 4 == 0 ? codes[first / 4] : __byte_perm(codes[first / 4], codes[first / 4 + 1], 0x5432);
}

template <int kL>
__device__ __forceinline__ uint4 output_unit(const uint32_t (&codes)[kL], int unit) {
  return make_uint4(window_codes<kL>(codes, 4 * unit), window_codes<kL>(codes, 4 * unit + 1),
                    window_codes<kL>(codes, 4 * unit + 2), window_codes<kL>(codes, 4 * unit + 3));
}

// Copies row `row` into the team's input slots; chunks past k (up to whole super-groups) are zero.
template <int kL>
__device__ __forceinline__ void stage_row(const QuantArgs& a, int64_t row, int t, uint4* in) {
  const int in_chunks = a.super_groups * SuperGroup<kL>::kInChunks;
  if (a.vector_loads) {
    const uint4* src = reinterpret_cast<const uint4*>(a.x + row * a.k);
    const int k_chunks = a.k / 8;
    for (int c = t; c < in_chunks; c += a.team) {
      uint4* dst = in + input_slot<kL>(c);
      if (c < k_chunks)
        copy_async_16(dst, src + c);
      else
        *dst = make_uint4(0, 0, 0, 0);
    }
  } else {
    // Rows not 16-byte aligned (k % 8 != 0): element by element.
    const uint16_t* src = reinterpret_cast<const uint16_t*>(a.x) + row * a.k;
    uint16_t* dst = reinterpret_cast<uint16_t*>(in);
    for (int e = t; e < in_chunks * 8; e += a.team) dst[input_slot<kL>(e / 8) * 8 + e % 8] = e < a.k ? src[e] : 0;
  }
}

// Reduction over the team's threads with `op` (warp shuffles, then one value per warp through
// `warp_partial`). Contains a block-wide barrier: every thread must call it, and each reduction in
// a kernel needs its own `warp_partial` (a fast warp may start the next one while others still read).
template <typename T, typename Op>
__device__ __forceinline__ T team_reduce(T v, T* warp_partial, int team, Op op) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(0xFFFFFFFFu, v, offset));
  if (threadIdx.x % 32 == 0) warp_partial[threadIdx.x / 32] = v;
  __syncthreads();
  const int warps = team / 32, first = static_cast<int>(threadIdx.x) / team * warps;
  T r = warp_partial[first];
  for (int w = 1; w < warps; ++w) r = op(r, warp_partial[first + w]);
  return r;
}

__device__ __forceinline__ float team_max(float v, float* warp_max, int team) {
  return team_reduce(v, warp_max, team, [](float p, float q) { return fmaxf(p, q); });
}

// A row's scale (absmax / qmax, at least 1 / (qmax * 512)) and the inverse its codes are taken
// with (qmax / absmax), as math/quantize.h computes them.
template <bool kInt8>
struct CodeScale {
  static constexpr float kQmax = kInt8 ? 127.0f : 448.0f;
  static constexpr float kMinScale = 1.0f / (kQmax * 512.0f);
  static __device__ __forceinline__ float inverse(float absmax) { return __fdiv_rn(kQmax, fmaxf(absmax, 1e-12f)); }
  static __device__ __forceinline__ float scale(float absmax) { return fmaxf(__fdiv_rn(absmax, kQmax), kMinScale); }
};

// Phase 3: quantizes the staged row (absmax already reduced over the team) and writes its codes,
// zero padding columns, and its scale; padding rows (row >= rows) get zero codes and scale 1.
// Contains a block-wide barrier for L > 4: every thread must call it.
template <bool kInt8, int kL>
__device__ __forceinline__ void store_codes(const QuantArgs& a, int64_t row, int t, const uint4* in, float absmax) {
  using SG = SuperGroup<kL>;
  const bool real_row = row < a.rows, written_row = row < a.rows_padded;
  const float inv = CodeScale<kInt8>::inverse(absmax);
  if (t == 0 && written_row) a.scale[row] = real_row ? CodeScale<kInt8>::scale(absmax) : 1.0f;

  uint4* dst = reinterpret_cast<uint4*>(a.out + row * a.out_cols);
  const int out_units = a.out_cols / 16;
  if constexpr (!SG::kStagedOutput) {
    if (written_row)
      for (int s = t; s < out_units; s += a.team) {
        uint4 unit = make_uint4(0, 0, 0, 0);
        if (real_row && s < a.super_groups) {
          uint32_t codes[kL];
          quantize_super_group<kInt8, kL>(in + s * SG::kInStride, inv, codes);
          unit = output_unit<kL>(codes, 0);
        }
        dst[s] = unit;
      }
  } else {
    uint4* staged = const_cast<uint4*>(in) + a.super_groups * SG::kInStride;
    if (real_row)
      for (int s = t; s < a.super_groups; s += a.team) {
        uint32_t codes[kL];
        quantize_super_group<kInt8, kL>(in + s * SG::kInStride, inv, codes);
#pragma unroll
        for (int j = 0; j < SG::kOutUnits; ++j) staged[s * SG::kOutStride + j] = output_unit<kL>(codes, j);
      }
    __syncthreads();
    const int staged_units = a.super_groups * SG::kOutUnits;
    if (written_row)
      for (int u = t; u < out_units; u += a.team)
        dst[u] = real_row && u < staged_units ? staged[u / SG::kOutUnits * SG::kOutStride + u % SG::kOutUnits]
                                              : make_uint4(0, 0, 0, 0);
  }
}

// Where a thread sits: blocks hold blockDim.x / team rows, each row a team of `team` threads.
struct TeamRow {
  int team_index;  // the row's team in the block
  int t;           // the thread in its team
  int64_t row;
};

__device__ __forceinline__ TeamRow team_row(int team) {
  const int team_index = static_cast<int>(threadIdx.x) / team;
  return {team_index, static_cast<int>(threadIdx.x) - team_index * team,
          int64_t{blockIdx.x} * (blockDim.x / team) + team_index};
}

// Blocks of rows_per_block rows covering rows_padded rows (host side of every quantizer and norm
// launch); `what` names the launcher in the error.
inline unsigned row_blocks(int64_t rows_padded, int rows_per_block, const char* what) {
  const int64_t blocks = (rows_padded + rows_per_block - 1) / rows_per_block;
  if (blocks > INT_MAX) fail(std::string(what) + ": too many rows (" + std::to_string(rows_padded) + ")");
  return static_cast<unsigned>(blocks);
}

template <bool kInt8, int kL>
__global__ void __launch_bounds__(1024) quantize_slide_kernel(const QuantArgs a) {
  begin_dependent_kernel();
  using SG = SuperGroup<kL>;
  extern __shared__ uint4 smem[];
  __shared__ float warp_max[32];

  const TeamRow position = team_row(a.team);
  const int team_index = position.team_index, t = position.t;
  const int64_t row = position.row;
  const bool real_row = row < a.rows;
  uint4* in = smem + team_index * a.row_smem_units;
  const int in_chunks = a.super_groups * SG::kInChunks;

  if (real_row) stage_row<kL>(a, row, t, in);
  wait_async_copies();
  __syncthreads();

  uint32_t top = 0;
  if (real_row)
    for (int c = t; c < in_chunks; c += a.team) top = chunk_absmax_pairs(in[input_slot<kL>(c)], top);
  const float absmax = team_max(pair_absmax(top), warp_max, a.team);
  store_codes<kInt8, kL>(a, row, t, in, absmax);
}

}  // namespace slidesparse::quant_kernels
