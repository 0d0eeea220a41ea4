// Device code of the fused (residual add +) RMSNorm (+ per-token quantization + slide), math of
// src/math/rmsnorm.h. One team of threads per row, as in quantize_kernels.cuh, whose staging layout
// and quantization phase it shares:
//   1. stage the row h into shared memory through registers, batches of 16-byte loads in flight
//      together. A Stage type says where h comes from: x, or x + residual (TensorStage); a GEMM
//      accumulator read through an AccView plus the residual (AccResidualStage); relu2(gate) * up of
//      the gate_up accumulator (Relu2MulStage). Stages that write the residual back do it on the
//      way, and every stage takes the row's largest magnitudes on the way (no pass over shared
//      memory for them);
//   2. the row's largest exponent, then the sum of squares on that fixed-point grid (64-bit
//      integers: associative, so the result does not depend on the team shape);
//   3. normalize in place in shared memory (y = bf16(w * bf16(h * r))) and take |y|'s max;
//   4. quantize + slide exactly as quantize_slide_kernel (store_codes), or store y as bf16.
// DRAM traffic is one read of the inputs (each accumulator element once, 16-byte loads), the
// residual write where there is one, and one write of the codes. The quantizing norms into plain or
// 2:4 codes of x alone or of a bf16 accumulator run instead with each row in registers where the
// row fits the team (norm_quant_registers.cuh, the same bits); this kernel covers every other case.
#pragma once

#include "kernels/acc_view.cuh"
#include "kernels/quantize_kernels.cuh"
#include "kernels/relu2_mul.cuh"
#include "kernels/vector_io.cuh"
#include "math/rmsnorm_grid.h"

namespace slidesparse::quant_kernels {

struct NormArgs {
  QuantArgs q;                       // q.x = x; q.out / q.scale: codes and scales (quantizing kernels)
  const __nv_bfloat16* residual_in;  // nullable: h = bf16(x + residual_in)
  __nv_bfloat16* residual_out;       // nullable: receives h (only with residual_in)
  const __nv_bfloat16* weight;       // [k]
  __nv_bfloat16* y;                  // [rows, k] (the bf16-output kernel)
  float eps;
  AccView acc;                       // accumulator stages: delta, or gate_up [rows, 2k]
  const int32_t* row_index;          // nullable: row i of the output reads row row_index[i] of acc / residual
  bool acc_vector_loads;             // accumulator stages: acc, scale_w and residual rows 16-byte aligned
};

struct ChunkPair {
  uint4 first, second;
};

// The largest magnitude among a chunk's 8 bf16 and `top`, as bf16 bit patterns per half (sign bits
// cleared, the unsigned order of the patterns is the order of the magnitudes, Inf and NaN above all
// finite values): one 16x2 integer max per pair (a single instruction on sm_90) instead of two
// exponent extractions and maxima.
__device__ __forceinline__ uint32_t chunk_top_magnitudes(uint4 v, uint32_t top) {
  constexpr uint32_t kMagnitude = 0x7FFF7FFFu;
  return __vmaxu2(__vmaxu2(__vmaxu2(top, v.x & kMagnitude), __vmaxu2(v.y & kMagnitude, v.z & kMagnitude)),
                  v.w & kMagnitude);
}

// The same for one bf16 (in the low half).
__device__ __forceinline__ uint32_t element_top_magnitudes(uint32_t h, uint32_t top) {
  return __vmaxu2(top, h & 0x7FFFu);
}

// Stages a row's input chunks (16 bytes: 8 bf16) into the team's slots; chunks past k_chunks, up to
// whole super-groups (in_chunks), are zero. The global loads of kBatch chunks are issued before any
// of them is used, so they are in flight together (stores may alias the loads: the compiler could
// not reorder them itself). load(c) -> Loaded, finish(Loaded, c) -> the bf16 chunk. Returns the
// largest magnitudes of the staged chunks (chunk_top_magnitudes), taken on the way in registers
// so that no pass over shared memory is needed for them.
template <int kL, int kBatch, typename Loaded, typename Load, typename Finish>
__device__ __forceinline__ uint32_t stage_chunks(int t, int team, int k_chunks, int in_chunks, uint4* in, Load load,
                                                 Finish finish) {
  uint32_t magnitudes = 0;
  for (int c0 = t; c0 < in_chunks; c0 += kBatch * team) {
    Loaded loaded[kBatch];
#pragma unroll
    for (int b = 0; b < kBatch; ++b)
      if (c0 + b * team < k_chunks) loaded[b] = load(c0 + b * team);
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int c = c0 + b * team;
      if (c >= in_chunks) break;
      uint4 chunk = make_uint4(0, 0, 0, 0);
      if (c < k_chunks) {
        chunk = finish(loaded[b], c);
        magnitudes = chunk_top_magnitudes(chunk, magnitudes);
      }
      in[input_slot<kL>(c)] = chunk;
    }
  }
  return magnitudes;
}

__device__ __forceinline__ uint16_t bf16_bits(float v) { return __bfloat16_as_ushort(__float2bfloat16_rn(v)); }

// bf16(float(a) + float(b)) for two bf16 pairs (a float add then one rounding, as PyTorch does).
__device__ __forceinline__ uint32_t add_pairs(uint32_t a, uint32_t b) {
  return pack_bf16x2(__fadd_rn(bf16_low(a), bf16_low(b)), __fadd_rn(bf16_high(a), bf16_high(b)));
}

// add_pairs on each pair of two chunks of 8, one add.rn.bf16x2 per pair (the same bits:
// vector_io.cuh, add_bf16x2).
__device__ __forceinline__ uint4 add_chunks(uint4 a, uint4 b) {
  return make_uint4(add_bf16x2(a.x, b.x), add_bf16x2(a.y, b.y), add_bf16x2(a.z, b.z), add_bf16x2(a.w, b.w));
}

// Stages h = bf16(x + residual_in) and writes it to residual_out; returns the row's largest
// magnitudes (chunk_top_magnitudes) over this thread's share.
template <int kL>
__device__ __forceinline__ uint32_t stage_residual_row(const NormArgs& a, int64_t row, int t, uint4* in) {
  const int in_chunks = a.q.super_groups * SuperGroup<kL>::kInChunks, team = a.q.team;
  if (a.q.vector_loads) {
    const uint4* xs = reinterpret_cast<const uint4*>(a.q.x + row * a.q.k);
    const uint4* rs = reinterpret_cast<const uint4*>(a.residual_in + row * a.q.k);
    uint4* ro = a.residual_out ? reinterpret_cast<uint4*>(a.residual_out + row * a.q.k) : nullptr;
    return stage_chunks<kL, 4, ChunkPair>(
        t, team, a.q.k / 8, in_chunks, in, [&](int c) { return ChunkPair{xs[c], rs[c]}; },
        [&](const ChunkPair& v, int c) {
          const uint4 h = add_chunks(v.first, v.second);
          if (ro) ro[c] = h;
          return h;
        });
  } else {
    const uint16_t* xs = reinterpret_cast<const uint16_t*>(a.q.x) + row * a.q.k;
    const uint16_t* rs = reinterpret_cast<const uint16_t*>(a.residual_in) + row * a.q.k;
    uint16_t* ro = a.residual_out ? reinterpret_cast<uint16_t*>(a.residual_out) + row * a.q.k : nullptr;
    uint16_t* dst = reinterpret_cast<uint16_t*>(in);
    uint32_t magnitudes = 0;
    for (int e = t; e < in_chunks * 8; e += team) {
      uint16_t h = 0;
      if (e < a.q.k) {
        h = static_cast<uint16_t>(add_pairs(xs[e], rs[e]));
        if (ro) ro[e] = h;
        magnitudes = element_top_magnitudes(h, magnitudes);
      }
      dst[input_slot<kL>(e / 8) * 8 + e % 8] = h;
    }
    return magnitudes;
  }
}

// The row's top exponent field (at least 1) from the largest magnitudes of chunk_top_magnitudes.
__device__ __forceinline__ int top_exponent(uint32_t magnitudes) {
  return max(1, static_cast<int>(max((magnitudes >> 7) & 0xFFu, (magnitudes >> 23) & 0xFFu)));
}

// The squares of a chunk's 8 bf16 on the row's grid (math/rmsnorm_grid.h), added to `sum`: by
// integer arithmetic (any top), or in floating point with scale = grid_float_scale(top) (two
// multiplies and one conversion per element instead of the shift sequence; tops in
// kGridFloatMinTop..kGridFloatMaxTop, same values).
__device__ __forceinline__ uint64_t chunk_square_sum(uint4 v, int top, uint64_t sum) {
  const uint32_t pairs[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (const uint32_t pair : pairs) sum += square_on_grid(pair & 0xFFFF, top) + square_on_grid(pair >> 16, top);
  return sum;
}

__device__ __forceinline__ uint64_t chunk_square_sum_float(uint4 v, float scale, uint64_t sum) {
  const uint32_t pairs[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (const uint32_t pair : pairs)
    sum += square_on_grid_float(pair & 0xFFFF, scale) + square_on_grid_float(pair >> 16, scale);
  return sum;
}

// 1 / sqrt(mean(h^2) + eps) from the row's square sum on the grid of `top` (math/rmsnorm.h): the
// sum in grid units times the unit, divided by k in double, then float.
__device__ __forceinline__ float inv_rms_on_grid(unsigned long long sum, int top, int k, float eps) {
  const double grid_unit = __longlong_as_double(static_cast<long long>(1023 + 2 * top - 298) << 52);
  const float var = __double2float_rn(__ddiv_rn(__dmul_rn(__ull2double_rn(sum), grid_unit), double(k)));
  return __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(var, eps)));
}

// y = bf16(w * bf16(h * inv_rms)) for one bf16 pair; w and n are both bf16, so the second multiply
// is one bf16x2 instruction (mul_bf16x2) instead of four unpacks, two multiplies and a rounding.
__device__ __forceinline__ uint32_t normalize_pair(uint32_t h, uint32_t w, float inv_rms) {
  const uint32_t n = pack_bf16x2(__fmul_rn(bf16_low(h), inv_rms), __fmul_rn(bf16_high(h), inv_rms));
  return mul_bf16x2(w, n);
}

// normalize_pair on each pair of a chunk of 8.
__device__ __forceinline__ uint4 normalize_chunk(uint4 h, uint4 w, float inv_rms) {
  return make_uint4(normalize_pair(h.x, w.x, inv_rms), normalize_pair(h.y, w.y, inv_rms),
                    normalize_pair(h.z, w.z, inv_rms), normalize_pair(h.w, w.w, inv_rms));
}

// ---- accumulator stages ------------------------------------------------------------------------

// 8 consecutive accumulator elements as loaded: 4-byte types fill both vectors, bf16 only `lo`.
struct AccChunk {
  uint4 lo, hi;
};

// Accumulator rows are read exactly once: streaming loads, evicted first from L2.
template <AccumulatorType kAcc>
__device__ __forceinline__ AccChunk load_acc_chunk(const AccView& v, int64_t index) {
  if constexpr (kAcc == AccumulatorType::BFloat16) {
    return {__ldcs(reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(v.data) + index)),
            make_uint4(0, 0, 0, 0)};
  } else {
    const uint4* p = reinterpret_cast<const uint4*>(static_cast<const uint32_t*>(v.data) + index);
    return {__ldcs(p), __ldcs(p + 1)};
  }
}

// Element i of a chunk as the float the dequantize epilogue starts from.
template <AccumulatorType kAcc>
__device__ __forceinline__ float acc_chunk_raw(const AccChunk& c, int i) {
  const uint32_t words[8] = {c.lo.x, c.lo.y, c.lo.z, c.lo.w, c.hi.x, c.hi.y, c.hi.z, c.hi.w};
  if constexpr (kAcc == AccumulatorType::BFloat16)
    return i % 2 ? bf16_high(words[i / 2]) : bf16_low(words[i / 2]);
  else if constexpr (kAcc == AccumulatorType::Int32)
    return __int2float_rn(static_cast<int>(words[i]));
  else
    return __uint_as_float(words[i]);
}

// The chunk's 8 AccView values (acc_view.cuh: acc_scaled), bf16-rounded, as floats.
template <AccumulatorType kAcc>
__device__ __forceinline__ void acc_chunk_values(const AccChunk& c, const ScaleChunk& s, const AccView& v,
                                                 float scale_x, float (&out)[8]) {
  if constexpr (kAcc == AccumulatorType::BFloat16)
    if (!v.scale_x && !v.scale_w) {  // already the bf16 values: rounding them again changes nothing
#pragma unroll
      for (int i = 0; i < 8; ++i) out[i] = acc_chunk_raw<kAcc>(c, i);
      return;
    }
  const float w[8] = {s.lo.x, s.lo.y, s.lo.z, s.lo.w, s.hi.x, s.hi.y, s.hi.z, s.hi.w};
  float y[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    y[i] = acc_chunk_raw<kAcc>(c, i);
    if (v.scale_x) y[i] = __fmul_rn(y[i], scale_x);
    if (v.scale_w) y[i] = __fmul_rn(y[i], w[i]);
  }
#pragma unroll
  for (int i = 0; i < 8; i += 2) {  // rounded two at a time (pack_bf16x2)
    const uint32_t rounded = pack_bf16x2(y[i], y[i + 1]);
    out[i] = bf16_low(rounded);
    out[i + 1] = bf16_high(rounded);
  }
}

// bf16(residual + value) for a chunk of 8 (residual as 4 bf16 pairs).
__device__ __forceinline__ uint4 add_values(uint4 residual, const float (&v)[8]) {
  return make_uint4(pack_bf16x2(__fadd_rn(bf16_low(residual.x), v[0]), __fadd_rn(bf16_high(residual.x), v[1])),
                    pack_bf16x2(__fadd_rn(bf16_low(residual.y), v[2]), __fadd_rn(bf16_high(residual.y), v[3])),
                    pack_bf16x2(__fadd_rn(bf16_low(residual.z), v[4]), __fadd_rn(bf16_high(residual.z), v[5])),
                    pack_bf16x2(__fadd_rn(bf16_low(residual.w), v[6]), __fadd_rn(bf16_high(residual.w), v[7])));
}

// bf16(residual + value) of 8 accumulator elements; a bf16 accumulator in packed bf16 arithmetic.
template <AccumulatorType kAcc>
__device__ __forceinline__ uint4 add_acc_chunk(uint4 residual, const AccChunk& acc, const ScaleChunk& scale,
                                               const AccView& v, float scale_x) {
  if constexpr (kAcc == AccumulatorType::BFloat16)
    return add_chunks(residual, scaled_bf16_chunk(acc.lo, v, scale_x, scale));
  float values[8];
  acc_chunk_values<kAcc>(acc, scale, v, scale_x, values);
  return add_values(residual, values);
}

// relu2_mul of 8 gate and 8 up values already in bf16 (a bf16 accumulator without scales).
__device__ __forceinline__ uint4 relu2_mul_chunks_bf16x2(uint4 gate, uint4 up) {
  return make_uint4(relu2_mul_bf16x2(gate.x, up.x), relu2_mul_bf16x2(gate.y, up.y), relu2_mul_bf16x2(gate.z, up.z),
                    relu2_mul_bf16x2(gate.w, up.w));
}

// relu2_mul of 8 gate and 8 up accumulator elements, each first taken to its bf16 value; a bf16
// accumulator in packed bf16 arithmetic.
template <AccumulatorType kAcc>
__device__ __forceinline__ uint4 relu2_mul_acc_chunks(const AccChunk& gate, const AccChunk& up,
                                                      const ScaleChunk& gate_scale, const ScaleChunk& up_scale,
                                                      const AccView& v, float scale_x) {
  if constexpr (kAcc == AccumulatorType::BFloat16)
    return relu2_mul_chunks_bf16x2(scaled_bf16_chunk(gate.lo, v, scale_x, gate_scale),
                                   scaled_bf16_chunk(up.lo, v, scale_x, up_scale));
  float g[8], u[8];
  acc_chunk_values<kAcc>(gate, gate_scale, v, scale_x, g);
  acc_chunk_values<kAcc>(up, up_scale, v, scale_x, u);
  return make_uint4(relu2_mul_pair(g[0], u[0], g[1], u[1]), relu2_mul_pair(g[2], u[2], g[3], u[3]),
                    relu2_mul_pair(g[4], u[4], g[5], u[5]), relu2_mul_pair(g[6], u[6], g[7], u[7]));
}

// The row of `row` an accumulator stage reads (the rows kernel gathers through row_index).
__device__ __forceinline__ int64_t source_row(const NormArgs& a, int64_t row) {
  return a.row_index ? int64_t{a.row_index[row]} : row;
}

// Stages of the tensor inputs: x, or bf16(x + residual_in) written to residual_out. Each stage's
// run() returns the largest magnitudes of what it staged (chunk_top_magnitudes).
struct TensorStage {
  static constexpr int kBatch = 4;  // 16-byte chunks in flight per thread

  template <int kL>
  static __device__ __forceinline__ uint32_t run(const NormArgs& a, int64_t row, int t, uint4* in) {
    if (a.residual_in) return stage_residual_row<kL>(a, row, t, in);
    const int in_chunks = a.q.super_groups * SuperGroup<kL>::kInChunks;
    const int64_t src = source_row(a, row);
    if (a.q.vector_loads) {
      // Through registers rather than cp.async, so the magnitudes are taken on the way.
      const uint4* xs = reinterpret_cast<const uint4*>(a.q.x + src * a.q.k);
      return stage_chunks<kL, kBatch, uint4>(
          t, a.q.team, a.q.k / 8, in_chunks, in, [&](int c) { return xs[c]; }, [](uint4 v, int) { return v; });
    }
    const uint16_t* xs = reinterpret_cast<const uint16_t*>(a.q.x) + src * a.q.k;
    uint16_t* dst = reinterpret_cast<uint16_t*>(in);
    uint32_t magnitudes = 0;
    for (int e = t; e < in_chunks * 8; e += a.q.team) {
      const uint16_t h = e < a.q.k ? xs[e] : uint16_t{0};
      magnitudes = element_top_magnitudes(h, magnitudes);
      dst[input_slot<kL>(e / 8) * 8 + e % 8] = h;
    }
    return magnitudes;
  }
};

// h = bf16(residual_in + value(acc)), written to residual_out (nullable; in place in the engine).
template <AccumulatorType kAcc>
struct AccResidualStage {
  struct Loaded {
    AccChunk acc;
    ScaleChunk scale;
    uint4 residual;
  };
  // Chunks in flight per thread within the 64 registers of a 1024-thread block (ptxas -v: two
  // 4-byte chunks with their scales spill); occupancy supplies the rest of the memory parallelism.
  static constexpr int kBatch = kAcc == AccumulatorType::BFloat16 ? 2 : 1;
  // A bf16 accumulator without weight scales (the scaled GEMM's output, cuSPARSELt INT8's) loads 8
  // bytes per element pair, no scale registers: four chunks fit.
  static constexpr int kPlainBatch = 4;

  template <int kL>
  static __device__ __forceinline__ uint32_t run(const NormArgs& a, int64_t row, int t, uint4* in) {
    const int64_t src = source_row(a, row), k = a.q.k;
    const AccView& v = a.acc;
    const float scale_x = v.scale_x ? v.scale_x[src] : 1.0f;
    const int in_chunks = a.q.super_groups * SuperGroup<kL>::kInChunks;
    if (a.acc_vector_loads) {
      const uint4* rs = reinterpret_cast<const uint4*>(a.residual_in + src * k);
      uint4* ro = a.residual_out ? reinterpret_cast<uint4*>(a.residual_out + src * k) : nullptr;
      const auto finish = [&](const AccChunk& acc, const ScaleChunk& scale, uint4 residual, int c) {
        const uint4 h = add_acc_chunk<kAcc>(residual, acc, scale, v, scale_x);
        if (ro) ro[c] = h;
        return h;
      };
      if constexpr (kAcc == AccumulatorType::BFloat16)
        if (!v.scale_w) {
          return stage_chunks<kL, kPlainBatch, ChunkPair>(
              t, a.q.team, a.q.k / 8, in_chunks, in,
              [&](int c) { return ChunkPair{load_acc_chunk<kAcc>(v, src * v.ld + 8 * c).lo, rs[c]}; },
              [&](const ChunkPair& l, int c) { return finish({l.first, {}}, {}, l.second, c); });
        }
      return stage_chunks<kL, kBatch, Loaded>(
          t, a.q.team, a.q.k / 8, in_chunks, in,
          [&](int c) {
            return Loaded{load_acc_chunk<kAcc>(v, src * v.ld + 8 * c), load_scale_chunk(v, 8 * c), rs[c]};
          },
          [&](const Loaded& l, int c) { return finish(l.acc, l.scale, l.residual, c); });
    } else {
      const uint16_t* rs = reinterpret_cast<const uint16_t*>(a.residual_in) + src * k;
      uint16_t* ro = a.residual_out ? reinterpret_cast<uint16_t*>(a.residual_out) + src * k : nullptr;
      uint16_t* dst = reinterpret_cast<uint16_t*>(in);
      uint32_t magnitudes = 0;
      for (int e = t; e < in_chunks * 8; e += a.q.team) {
        uint16_t h = 0;
        if (e < k) {
          h = bf16_bits(__fadd_rn(bf16_low(rs[e]), acc_value(v, src, e)));
          if (ro) ro[e] = h;
          magnitudes = element_top_magnitudes(h, magnitudes);
        }
        dst[input_slot<kL>(e / 8) * 8 + e % 8] = h;
      }
      return magnitudes;
    }
  }
};

// h = relu2_mul(gate, up) of the gate_up accumulator row [gate (k) | up (k)].
template <AccumulatorType kAcc>
struct Relu2MulStage {
  struct Loaded {
    AccChunk gate, up;
    ScaleChunk gate_scale, up_scale;
  };
  // One gate/up chunk pair with its scales in flight per thread: more spills (see AccResidualStage).
  static constexpr int kBatch = 1;
  // A bf16 gate_up without weight scales (the scaled GEMM's output, cuSPARSELt INT8's): 8 registers
  // per chunk pair, four pairs (128 bytes) in flight per thread.
  static constexpr int kPlainBatch = 4;

  template <int kL>
  static __device__ __forceinline__ uint32_t run(const NormArgs& a, int64_t row, int t, uint4* in) {
    const int k = a.q.k;
    const AccView& v = a.acc;
    const float scale_x = v.scale_x ? v.scale_x[row] : 1.0f;
    const int in_chunks = a.q.super_groups * SuperGroup<kL>::kInChunks;
    if (a.acc_vector_loads) {
      const int64_t base = row * v.ld;
      const auto finish = [&](const AccChunk& gate, const AccChunk& up, const ScaleChunk& gate_scale,
                              const ScaleChunk& up_scale) {
        return relu2_mul_acc_chunks<kAcc>(gate, up, gate_scale, up_scale, v, scale_x);
      };
      if constexpr (kAcc == AccumulatorType::BFloat16)
        if (!v.scale_w) {
          // The row's gate and up halves as 16-byte chunks: one address per row, not per chunk.
          const uint4* gate = reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(v.data) + base);
          const uint4* up = gate + k / 8;
          const auto load = [&](int c) { return ChunkPair{__ldcs(gate + c), __ldcs(up + c)}; };
          if (!v.scale_x)  // already the bf16 values: relu2 * up in bf16x2 arithmetic
            return stage_chunks<kL, kPlainBatch, ChunkPair>(t, a.q.team, k / 8, in_chunks, in, load,
                                                     [](const ChunkPair& l, int) {
                                                       return relu2_mul_chunks_bf16x2(l.first, l.second);
                                                     });
          return stage_chunks<kL, kPlainBatch, ChunkPair>(
              t, a.q.team, k / 8, in_chunks, in, load,
              [&](const ChunkPair& l, int) { return finish({l.first, {}}, {l.second, {}}, {}, {}); });
        }
      return stage_chunks<kL, kBatch, Loaded>(
          t, a.q.team, k / 8, in_chunks, in,
          [&](int c) {
            return Loaded{load_acc_chunk<kAcc>(v, base + 8 * c), load_acc_chunk<kAcc>(v, base + k + 8 * c),
                          load_scale_chunk(v, 8 * c), load_scale_chunk(v, k + 8 * c)};
          },
          [&](const Loaded& l, int) { return finish(l.gate, l.up, l.gate_scale, l.up_scale); });
    } else {
      uint16_t* dst = reinterpret_cast<uint16_t*>(in);
      uint32_t magnitudes = 0;
      for (int e = t; e < in_chunks * 8; e += a.q.team) {
        const uint16_t h = e < k ? bf16_bits(relu2_mul(acc_value(v, row, e), acc_value(v, row, k + e))) : uint16_t{0};
        magnitudes = element_top_magnitudes(h, magnitudes);
        dst[input_slot<kL>(e / 8) * 8 + e % 8] = h;
      }
      return magnitudes;
    }
  }
};

// ---- the kernel ----------------------------------------------------------------------------------

// Static shared memory of both norm kernels (this one and norm_quant_registers.cuh): the per-warp
// partials of their three reductions (top exponent, square sum, absmax).
inline constexpr size_t kNormPartialsSharedBytes = 32 * (sizeof(int) + sizeof(unsigned long long) + sizeof(float));

template <bool kQuantize, bool kInt8, int kL, typename Stage>
__global__ void __launch_bounds__(1024) rmsnorm_kernel(const NormArgs a) {
  begin_dependent_kernel();
  using SG = SuperGroup<kL>;
  extern __shared__ uint4 smem[];
  __shared__ int warp_top[32];
  __shared__ unsigned long long warp_sum[32];
  __shared__ float warp_max[32];

  const QuantArgs& q = a.q;
  const TeamRow position = team_row(q.team);
  const int team_index = position.team_index, t = position.t;
  const int64_t row = position.row;
  const bool real_row = row < q.rows;
  uint4* in = smem + team_index * q.row_smem_units;
  const int in_chunks = q.super_groups * SG::kInChunks;

  // The stage returns the largest magnitudes of this thread's share of the row; padding chunks are
  // zero: they change neither the top exponent nor the sum.
  const uint32_t magnitudes = real_row ? Stage::template run<kL>(a, row, t, in) : 0u;
  __syncthreads();

  int top = top_exponent(magnitudes);
  top = team_reduce(top, warp_top, q.team, [](int p, int r) { return max(p, r); });
  unsigned long long sum = 0;
  if (real_row) {
    if (top >= kGridFloatMinTop && top <= kGridFloatMaxTop) {  // the team agrees on top: no divergence
      const float scale = grid_float_scale(top);
      for (int c = t; c < in_chunks; c += q.team) sum = chunk_square_sum_float(in[input_slot<kL>(c)], scale, sum);
    } else {
      for (int c = t; c < in_chunks; c += q.team) sum = chunk_square_sum(in[input_slot<kL>(c)], top, sum);
    }
  }
  sum = team_reduce(sum, warp_sum, q.team, [](unsigned long long p, unsigned long long r) { return p + r; });
  const float inv_rms = inv_rms_on_grid(sum, top, q.k, a.eps);

  // Only the k real columns are normalized: padding stays +0, so its codes are 0.
  float absmax = 0.0f;
  if (real_row) {
    if (q.vector_loads) {
      uint32_t top = 0;
      const uint4* w = reinterpret_cast<const uint4*>(a.weight);
      uint4* y = reinterpret_cast<uint4*>(a.y + row * q.k);
      for (int c = t; c < q.k / 8; c += q.team) {
        uint4& slot = in[input_slot<kL>(c)];
        const uint4 v = normalize_chunk(slot, __ldg(w + c), inv_rms);
        if constexpr (kQuantize)
          slot = v, top = chunk_absmax_pairs(v, top);
        else
          y[c] = v;
      }
      absmax = pair_absmax(top);
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
