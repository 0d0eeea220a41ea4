// Device code of the quantizing RMSNorm with each row held in registers, into plain or 2:4 codes
// (the same layout): the same math and bits as rmsnorm_kernel (norm_quant.cuh) with the matching
// stage, for the rows that fit. A row source says where h comes from: x (TensorRows);
// bf16(residual + value) of a bf16 GEMM output (AccResidualRows); relu2(gate) * up of a bf16
// gate_up output (Relu2MulRows).
//
// Why a second kernel: rmsnorm_kernel stages the row in shared memory and runs four passes over it
// (square sum, normalize, absmax, quantize), each re-deriving the chunk's slot and going through
// LDS/STS; on these rows that bookkeeping, not the bytes, bounds it (Nsight Compute on the H200:
// ~28 instructions per element, issue slots ~80% busy, ~56% of the copy bandwidth for x alone).
// Here a team's thread holds its kChunks 16-byte chunks (chunk t + j * team) in registers from the
// load to the store, so each pass is arithmetic only, and the INT8 codes skip the per-element NaN
// test unless the thread's own values need it.
#pragma once

#include "kernels/norm_quant.cuh"
#include "kernels/norm_quant.h"

namespace slidesparse::quant_kernels {

// Chunks per thread the register kernel is compiled for, and the largest block each count is
// compiled for. A source's chunk takes loads_per_chunk 16-byte loads, all in flight at once (two
// for the accumulator-fed sources: gate and up, or delta and residual). Up to 8 loads per thread
// (32 registers of row) fit the 64 registers a 1024-thread block allows; up to 8 chunks of two
// loads are compiled for blocks of 512, which allow 128 (relu2 * up at 7 chunks takes 81-89). x
// alone goes on to 16 chunks in blocks of at most kWideChunkThreads threads, so that one or two
// warps can hold a whole row: the per-row work (three reductions, the division chain of inv_rms
// and the scales) is paid once per warp, and on the H200 it was ~40% of the instructions of a
// 2-warp team at K = 2560. The two-load sources stop at 8 chunks: 9 to 16 of them take 100-180
// registers and were never the fastest launch (tune on the H200 picks 5 and 7), so they are not
// compiled.
inline constexpr int kMaxRegisterChunks = 16;
inline constexpr int kMaxTwoLoadRegisterChunks = 8;
inline constexpr int kNarrowMaxLoads = 8;
inline constexpr int kMidMaxChunks = 8;
inline constexpr int kWideChunkThreads = 256;

__host__ __device__ constexpr int register_norm_max_chunks(int loads_per_chunk) {
  return loads_per_chunk == 1 ? kMaxRegisterChunks : kMaxTwoLoadRegisterChunks;
}

__host__ __device__ constexpr int register_norm_max_threads(int chunks, int loads_per_chunk) {
  return chunks * loads_per_chunk <= kNarrowMaxLoads ? 1024 : chunks <= kMidMaxChunks ? 512 : kWideChunkThreads;
}

// team_reduce, without shared memory or a barrier when the team is one warp (every thread of the
// block then takes that branch: the team is the same for all).
template <typename T, typename Op>
__device__ __forceinline__ T row_reduce(T v, T* warp_partial, int team, Op op) {
  if (team != 32) return team_reduce(v, warp_partial, team, op);
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(0xFFFFFFFFu, v, offset));
  return v;
}

// Running pair of magnitude maxima over a chunk's 8 bf16 that propagates NaN (abs.bf16x2, then
// max.NaN.bf16x2): a half of the result is NaN iff some value folded into that half was NaN.
__device__ __forceinline__ uint32_t chunk_absmax_pairs_nan(const uint4 v, uint32_t top) {
  const uint32_t pairs[4] = {v.x, v.y, v.z, v.w};
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#pragma unroll
  for (const uint32_t pair : pairs) {
    uint32_t magnitude;
    asm("abs.bf16x2 %0, %1;" : "=r"(magnitude) : "r"(pair));
    asm("max.NaN.bf16x2 %0, %1, %2;" : "=r"(top) : "r"(top), "r"(magnitude));
  }
#else
  for (const uint32_t pair : pairs) top |= pair;  // not compiled for a GPU (host pass): never run
#endif
  return top;
}

// Whether either half of a chunk_absmax_pairs_nan result is NaN.
__device__ __forceinline__ bool pair_has_nan(uint32_t top) {
  return (top & 0x7FFFu) > 0x7F80u || ((top >> 16) & 0x7FFFu) > 0x7F80u;
}

// The codes of the thread's normalized chunks, chunk c's 8 codes in dst[c]. kChecked: INT8 values
// may be NaN (or x * inv may be: an Inf row has inv = 0), which must give code 0.
template <bool kInt8, bool kChecked, int kChunks>
__device__ __forceinline__ void store_chunk_codes(uint2* dst, const uint4 (&y)[kChunks], int t, int team,
                                                  int k_chunks, float inv) {
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int c = t + j * team;
    if (c < k_chunks) dst[c] = make_uint2(quantize4<kInt8, kChecked>(y[j].x, y[j].y, inv),
                                          quantize4<kInt8, kChecked>(y[j].z, y[j].w, inv));
  }
}

// ---- row sources -------------------------------------------------------------------------------
// Each is built per row (a padding row builds row 0's and loads nothing; scale_x is read for real
// rows only, so a launch of padding rows alone reads nothing). load(c) returns the raw 16-byte
// loads of chunk c (Raw), value(raw, c) the chunk's 8 bf16 of h from them: the kernel issues every
// load of the thread's chunks before the first value, so all of them are in flight at once (a load
// and its arithmetic in one call kept ptxas from hoisting the next chunk's loads over the current
// chunk's scale tests: two loads in flight per thread). write_back(h, c) stores what the source
// writes besides the codes (the residual stream may be updated in place: every load was issued).

// The accumulator row's per-token scale: 1 without one, and for padding rows.
__device__ __forceinline__ float row_scale_x(const NormArgs& a, int64_t row) {
  return a.acc.scale_x && row < a.q.rows ? a.acc.scale_x[row] : 1.0f;
}

// h = x.
struct TensorRows {
  static constexpr int kLoadsPerChunk = 1;
  static constexpr bool kRawIsValue = true;  // value(raw) = raw: a chunk past the row loads as zero
  using Raw = uint4;
  const uint4* x;

  __device__ TensorRows(const NormArgs& a, int64_t row) : x(reinterpret_cast<const uint4*>(a.q.x + row * a.q.k)) {}
  __device__ __forceinline__ Raw load(int c) const { return x[c]; }
  __device__ __forceinline__ uint4 value(const Raw& raw, int) const { return raw; }
  __device__ __forceinline__ void write_back(uint4, int) const {}
};

// The weight scales of a bf16 accumulator's chunk at column col, for the forms that carry one per
// column.
template <AccScales kScales>
__device__ __forceinline__ ScaleChunk weight_scales(const float* scale_w, int64_t col) {
  if constexpr (kScales == AccScales::XW) return load_weight_scales(scale_w, col);
  return {};
}

// One row of a bf16 accumulator carrying kScales: its 16-byte chunks as loaded (streaming loads:
// accumulator rows are read once) and their bf16 values. With weight scales per column (XW), a
// chunk's eight are loaded with it; with one per part (XWPart), the source reads each part's once
// per row and passes it in. The arithmetic is XW's either way.
template <AccScales kScales>
struct Bf16AccRow {
  const uint4* chunks;
  const float* scale_w;
  float scale_x;

  __device__ Bf16AccRow(const NormArgs& a, int64_t row)
      : chunks(reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(a.acc.data) + row * a.acc.ld)),
        scale_w(a.acc.scale_w),
        scale_x(row_scale_x(a, row)) {}
  __device__ __forceinline__ uint4 load(int c) const { return __ldcs(chunks + c); }
  // The weight scale of the part that starts at column first (XWPart; 1 for the other forms).
  __device__ __forceinline__ float part_scale(int64_t first) const {
    return kScales == AccScales::XWPart ? __ldg(scale_w + first) : 1.0f;
  }
  // The bf16 values of a chunk loaded from column col, in a part whose weight scale is part_w
  // (XWPart).
  __device__ __forceinline__ uint4 values(uint4 raw, int64_t col, float part_w) const {
    if constexpr (kScales == AccScales::XWPart) {
      const float4 w = make_float4(part_w, part_w, part_w, part_w);
      return scaled_bf16_pairs<AccScales::XW>(raw, scale_x, {w, w});
    } else {
      return scaled_bf16_pairs<kScales>(raw, scale_x, weight_scales<kScales>(scale_w, col));
    }
  }
};

// h = bf16(residual_in + value(acc)) of a bf16 accumulator carrying kScales, written to
// residual_out (nullable; in place in the engine).
template <AccScales kScales>
struct AccResidualRows {
  static constexpr int kLoadsPerChunk = 2;
  static constexpr bool kRawIsValue = false;
  struct Raw {
    uint4 acc, residual;
  };
  Bf16AccRow<kScales> acc;
  const uint4* residual_in;
  uint4* residual_out;
  float part_w;

  __device__ AccResidualRows(const NormArgs& a, int64_t row)
      : acc(a, row),
        residual_in(reinterpret_cast<const uint4*>(a.residual_in + row * a.q.k)),
        residual_out(a.residual_out ? reinterpret_cast<uint4*>(a.residual_out + row * a.q.k) : nullptr),
        part_w(acc.part_scale(0)) {}
  __device__ __forceinline__ Raw load(int c) const { return {acc.load(c), residual_in[c]}; }
  __device__ __forceinline__ uint4 value(const Raw& raw, int c) const {
    return add_chunks(raw.residual, acc.values(raw.acc, 8 * c, part_w));
  }
  __device__ __forceinline__ void write_back(uint4 h, int c) const {
    if (residual_out) residual_out[c] = h;
  }
};

// h = relu2_mul(gate, up) of a bf16 gate_up accumulator row [gate (k) | up (k)] carrying kScales.
template <AccScales kScales>
struct Relu2MulRows {
  static constexpr int kLoadsPerChunk = 2;
  static constexpr bool kRawIsValue = false;
  struct Raw {
    uint4 gate, up;
  };
  Bf16AccRow<kScales> gate_up;
  const uint4* up;  // the up half's chunks
  int k;
  float gate_w, up_w;

  __device__ Relu2MulRows(const NormArgs& a, int64_t row)
      : gate_up(a, row),
        up(gate_up.chunks + a.q.k / 8),
        k(a.q.k),
        gate_w(gate_up.part_scale(0)),
        up_w(gate_up.part_scale(a.q.k)) {}
  __device__ __forceinline__ Raw load(int c) const { return {gate_up.load(c), __ldcs(up + c)}; }
  __device__ __forceinline__ uint4 value(const Raw& raw, int c) const {
    return relu2_mul_chunks_bf16x2(gate_up.values(raw.gate, 8 * c, gate_w), gate_up.values(raw.up, k + 8 * c, up_w));
  }
  __device__ __forceinline__ void write_back(uint4, int) const {}
};

// ---- the kernel ----------------------------------------------------------------------------------

// When a thread loads the norm weight's chunks. Loaded inside the normalize loop, each load sat
// behind its chunk's `c < k_chunks` test, which ptxas does not hoist a load over: one L1 or L2 round
// trip per chunk on the row's critical path (H200, tools/norm_timeline: a one-warp row at 10 chunks
// took 4.7 us with them, 3.4 us with every load in flight at once).
//   2: with the row's own loads, for the tensor norm up to 5 chunks (its registers stay within the
//      same occupancy);
//   1: all at once after the square sum, for the two-load (accumulator-fed) sources;
//   3: copied into shared memory by the block (cp.async, no registers), for the tensor norm above 5
//      chunks, where holding the weight in registers costs the occupancy its large launches need
//      (10 chunks: 78 -> 98 registers, M=65536 140 -> 160 us); staged, K=2560 at M=16384 took
//      38.9 us against 42.1 one chunk at a time (INT8, 76% of the copy bandwidth against 70%);
//   0: one at a time in the normalize loop (kept for tools/norm_timeline's comparison).
template <int kChunks, typename Rows>
inline constexpr int kWeightLoadStage = Rows::kLoadsPerChunk == 2 ? 1 : kChunks <= 5 ? 2 : 3;

// Dynamic shared memory of the register kernel: the staged weight (kWeightLoadStage 3).
template <int kChunks, typename Rows>
constexpr size_t register_norm_shared_bytes(int k) {
  return kWeightLoadStage<kChunks, Rows> == 3 ? static_cast<size_t>(k / 8) * sizeof(uint4) : 0;
}

// The work of one block of the kernel below (tools/norm_timeline times it block by block).
template <bool kInt8, int kChunks, typename Rows, int kWeightStage = kWeightLoadStage<kChunks, Rows>>
__device__ __forceinline__ void register_norm_block(const NormArgs& a) {
  __shared__ int warp_top[32];
  __shared__ unsigned long long warp_sum[32];
  __shared__ float warp_max[32];

  const QuantArgs& q = a.q;
  const TeamRow position = team_row(q.team);
  const int t = position.t;
  const int64_t row = position.row;
  const bool real_row = row < q.rows;
  const int k_chunks = q.k / 8;

  // The thread's chunks, all loads issued before any use; chunks past the row (and every chunk of
  // a padding row) are zero, which changes neither the top exponent nor the sum. Such a chunk
  // loads as zero, and an accumulator-fed value of it is zeroed again after the arithmetic (0 * an
  // Inf scale is NaN); x's chunks are not selected twice: a second selection right after each
  // load made ptxas wait for every load before issuing the next.
  const Rows rows(a, real_row ? row : 0);
  typename Rows::Raw raw[kChunks];
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int c = t + j * q.team;
    raw[j] = real_row && c < k_chunks ? rows.load(c) : typename Rows::Raw{};
  }
  const uint4* w = reinterpret_cast<const uint4*>(a.weight);
  uint4 weight[kChunks];
  const auto load_weight = [&] {
#pragma unroll
    for (int j = 0; j < kChunks; ++j) weight[j] = __ldg(w + min(t + j * q.team, k_chunks - 1));
  };
  if constexpr (kWeightStage == 2) load_weight();
  extern __shared__ uint4 smem[];  // kWeightStage 3: the weight's k_chunks chunks, copied by the block
  if constexpr (kWeightStage == 3)
    for (int c = static_cast<int>(threadIdx.x); c < k_chunks; c += static_cast<int>(blockDim.x))
      copy_async_16(smem + c, w + c);
  uint4 y[kChunks];
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int c = t + j * q.team;
    if constexpr (Rows::kRawIsValue)
      y[j] = rows.value(raw[j], c);
    else
      y[j] = real_row && c < k_chunks ? rows.value(raw[j], c) : make_uint4(0, 0, 0, 0);
  }
  if (real_row) {
#pragma unroll
    for (int j = 0; j < kChunks; ++j)
      if (t + j * q.team < k_chunks) rows.write_back(y[j], t + j * q.team);
  }
  uint32_t magnitudes = 0;
#pragma unroll
  for (int j = 0; j < kChunks; ++j) magnitudes = chunk_top_magnitudes(y[j], magnitudes);

  const int top = row_reduce(top_exponent(magnitudes), warp_top, q.team, [](int p, int r) { return max(p, r); });
  unsigned long long sum = 0;
  if (top >= kGridFloatMinTop && top <= kGridFloatMaxTop) {  // the team agrees on top: no divergence
    const float scale = grid_float_scale(top);
#pragma unroll
    for (int j = 0; j < kChunks; ++j) sum = chunk_square_sum_float(y[j], scale, sum);
  } else {
#pragma unroll
    for (int j = 0; j < kChunks; ++j) sum = chunk_square_sum(y[j], top, sum);
  }
  sum = row_reduce(sum, warp_sum, q.team, [](unsigned long long p, unsigned long long r) { return p + r; });
  const float inv_rms = inv_rms_on_grid(sum, top, q.k, a.eps);

  // Normalize in place; only the row's real chunks (padding stays +0, so its codes are 0).
  uint32_t top_nan = 0;
  if constexpr (kWeightStage == 3) {
    wait_async_copies();
    __syncthreads();
  }
  if (real_row) {
    if constexpr (kWeightStage == 1) load_weight();
#pragma unroll
    for (int j = 0; j < kChunks; ++j) {
      const int c = t + j * q.team;
      if (c < k_chunks) {
        y[j] = normalize_chunk(y[j], kWeightStage == 0 ? __ldg(w + c) : kWeightStage == 3 ? smem[c] : weight[j],
                               inv_rms);
        top_nan = chunk_absmax_pairs_nan(y[j], top_nan);
      }
    }
  }
  // The absmax skips NaN (as fmaxf does): a thread with a NaN takes its maximum again without them.
  const bool has_nan = pair_has_nan(top_nan);
  float absmax = pair_absmax(top_nan);
  if (has_nan) {
    uint32_t skip = 0;
#pragma unroll
    for (int j = 0; j < kChunks; ++j) skip = chunk_absmax_pairs(y[j], skip);
    absmax = pair_absmax(skip);
  }
  absmax = row_reduce(absmax, warp_max, q.team, [](float p, float r) { return fmaxf(p, r); });

  // Quantize, as store_codes<kInt8, 4>.
  if (row >= q.rows_padded) return;
  const float inv = CodeScale<kInt8>::inverse(absmax);
  if (t == 0) q.scale[row] = real_row ? CodeScale<kInt8>::scale(absmax) : 1.0f;
  uint2* dst = reinterpret_cast<uint2*>(q.out + row * q.out_cols);
  if (!real_row) {
    for (int c = t; c < q.out_cols / 8; c += q.team) dst[c] = make_uint2(0, 0);
    return;
  }
  if (has_nan || isinf(absmax))  // NaN values, or an Inf row (inv = 0, Inf * 0 = NaN)
    store_chunk_codes<kInt8, true>(dst, y, t, q.team, k_chunks, inv);
  else
    store_chunk_codes<kInt8, false>(dst, y, t, q.team, k_chunks, inv);
  for (int c = k_chunks + t; c < q.out_cols / 8; c += q.team) dst[c] = make_uint2(0, 0);
}

template <bool kInt8, int kChunks, typename Rows>
__global__ void __launch_bounds__(register_norm_max_threads(kChunks, Rows::kLoadsPerChunk))
    register_norm_kernel(const NormArgs a) {
  begin_dependent_kernel();
  register_norm_block<kInt8, kChunks, Rows>(a);
}

}  // namespace slidesparse::quant_kernels

namespace slidesparse {

// Runs the quantizing norm `norm` (its row source above) with each row in registers where that
// applies: 16-byte rows, a bf16 accumulator for the accumulator-fed norms, plain or 2:4 codes, and a
// team whose threads hold the row in at most register_norm_max_chunks chunks each, in blocks that
// chunk count is compiled for. Returns false where the shared-memory kernel must run (norm_quant.cu).
bool launch_norm_in_registers(FusedNormKernel norm, QuantKind kind, const SlideGeometry* slide,
                              const quant_kernels::NormArgs& a, const QuantLaunchConfig& config, cudaStream_t stream);

}  // namespace slidesparse
