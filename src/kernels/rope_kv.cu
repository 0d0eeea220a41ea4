// RoPE + KV-cache write (kernels/rope_kv.h). One thread per (token, head, 8-column piece of the
// first half of the head): it reads columns [8c, 8c + 8) and [D/2 + 8c, D/2 + 8c + 8), exactly the
// pairs rotate_half couples, so it can rotate them without talking to another thread, and writes
// both 16-byte pieces of the result. q, k and v heads sit side by side in the QKV columns, so "head
// unit" u covers columns [u D, (u + 1) D) whatever its kind; consecutive threads walk consecutive
// pieces of a head and then the next head, which keeps every warp's loads and stores contiguous.
// DRAM traffic: each QKV value read once, T (H + 2 KV) D bf16 written (T 2 KV D more with kv_out).
// Every form rotates in packed bf16 arithmetic (the bits of math/rope.h's float formula): a bf16
// accumulator in aligned rows stays packed from its load (rope_kv_packed_kernel), the others are
// scaled in float and packed first (rope_kv_kernel). They compile to at most 32 registers, so 8
// blocks of 256 threads stay resident per SM: with 5 or 6, this kernel moved 74-77% of the copy
// bandwidth instead of 85-95% (docs/PERF.md).
#include "kernels/rope_kv.h"

#include <climits>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/acc_view.cuh"
#include "kernels/dependent_launch.cuh"
#include "kernels/rope_pieces.cuh"
#include "kernels/vector_io.cuh"

namespace slidesparse {

namespace {

constexpr int kThreads = 256;
constexpr int kPiece = 8;  // columns per 16-byte bf16 store

struct RopeKvArgs {
  AccView qkv;
  const int32_t* positions;
  const int32_t* slot_mapping;
  const __nv_bfloat16* cos;
  const __nv_bfloat16* sin;
  __nv_bfloat16* q_out;
  __nv_bfloat16* kv_out;  // optional packed [T, 2 kv_heads, D] copy of k and v
  __nv_bfloat16* k_cache;
  __nv_bfloat16* v_cache;
  int64_t cache_slots;  // num_blocks * block_size
  uint32_t threads_total;
  int heads, kv_heads, head_dim, block_size;
  int pieces;  // head_dim / 16: threads per head
  bool vector_loads;
};

// Raw accumulator values of 8 consecutive columns (col % 8 == 0). With vector loads the rows are
// 16-byte aligned, so the piece is one (bf16) or two (int32, fp32) 16-byte loads.
template <AccumulatorType kType>
__device__ __forceinline__ void load_raw8(const AccView& v, int64_t row, int64_t col, bool vector, float (&out)[8]) {
  if (!vector) {
#pragma unroll
    for (int j = 0; j < 8; ++j) out[j] = acc_raw(v, row, col + j);
    return;
  }
  const int64_t i = row * v.ld + col;
  if constexpr (kType == AccumulatorType::BFloat16)
    load8(static_cast<const __nv_bfloat16*>(v.data) + i, out);
  else if constexpr (kType == AccumulatorType::Int32)
    load8(static_cast<const int32_t*>(v.data) + i, out);  // acc_raw's static_cast<float>
  else
    load8(static_cast<const float*>(v.data) + i, out);
}

// The piece's 8 values of an int32 or fp32 accumulator, or of a bf16 one in rows that are not 16-byte
// aligned, as 4 packed bf16 pairs: acc_scaled's value of each, two rounded by one conversion. With
// vector loads the 8 weight scales come in two 16-byte loads and scale_x once, instead of 8 + 8
// scalar loads whose registers would cost the kernel resident blocks.
template <AccumulatorType kType>
__device__ __forceinline__ uint4 load_pairs8(const AccView& v, int64_t row, int64_t col, bool vector) {
  float raw[8];
  load_raw8<kType>(v, row, col, vector, raw);
  uint4 out;
  uint32_t* pairs = &out.x;
  if (vector) {
    const float scale_x = v.scale_x ? v.scale_x[row] : 1.0f;
    const ScaleChunk w = load_scale_chunk(v, col);
    const float ws[8] = {w.lo.x, w.lo.y, w.lo.z, w.lo.w, w.hi.x, w.hi.y, w.hi.z, w.hi.w};
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      raw[j] = v.scale_x ? __fmul_rn(raw[j], scale_x) : raw[j];
      raw[j] = v.scale_w ? __fmul_rn(raw[j], ws[j]) : raw[j];
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) pairs[j] = pack_bf16x2(raw[2 * j], raw[2 * j + 1]);
    return out;
  }
#pragma unroll
  for (int j = 0; j < 4; ++j)
    pairs[j] = pack_bf16x2(acc_scaled_unrounded(raw[2 * j], v, row, col + 2 * j),
                           acc_scaled_unrounded(raw[2 * j + 1], v, row, col + 2 * j + 1));
  return out;
}

// Thread i's piece: its token, head unit (q, k or v head), first column in the head and in the row.
struct RopePiece {
  uint32_t t;
  int unit, d_lo;
  bool is_q, is_k;
  int64_t col;
};

__device__ __forceinline__ RopePiece rope_piece(const RopeKvArgs& a, uint32_t i) {
  const uint32_t per_token = static_cast<uint32_t>((a.heads + 2 * a.kv_heads) * a.pieces);
  RopePiece p;
  p.t = i / per_token;
  const uint32_t r = i - p.t * per_token;
  p.unit = static_cast<int>(r) / a.pieces;
  p.d_lo = (static_cast<int>(r) - p.unit * a.pieces) * kPiece;
  p.is_q = p.unit < a.heads;
  p.is_k = !p.is_q && p.unit < a.heads + a.kv_heads;
  p.col = int64_t{p.unit} * a.head_dim + p.d_lo;
  return p;
}

// The head row the piece's two halves go to (q_out, or the cache slot of its k or v head); null for a
// cache-bound piece of a padding token or of a slot past the cache.
// Slots are int32 (slot_mapping), and the division stays in 32 bits: a 64-bit one is a subroutine
// whose registers cost the float and scaled kernels resident blocks.
__device__ __forceinline__ __nv_bfloat16* rope_destination(const RopeKvArgs& a, const RopePiece& p, int32_t slot) {
  if (p.is_q) return a.q_out + (int64_t{p.t} * a.heads + p.unit) * a.head_dim;
  if (slot < 0 || slot >= a.cache_slots) return nullptr;
  const int kv_head = p.is_k ? p.unit - a.heads : p.unit - a.heads - a.kv_heads;
  const int32_t block = slot / a.block_size, offset = slot - block * a.block_size;
  return (p.is_k ? a.k_cache : a.v_cache) +
         ((int64_t{block} * a.kv_heads + kv_head) * a.block_size + offset) * a.head_dim;
}

// The piece's head row in the packed k / v copy (kv_out, for cuDNN), null when there is none (q
// heads, or no copy asked for).
__device__ __forceinline__ __nv_bfloat16* packed_kv_destination(const RopeKvArgs& a, const RopePiece& p) {
  if (p.is_q || !a.kv_out) return nullptr;
  return a.kv_out + (int64_t{p.t} * 2 * a.kv_heads + p.unit - a.heads) * a.head_dim;
}

// The rest of a thread's work once its two halves are loaded as packed bf16 pairs: q and k pieces
// rotated by their token's position, the result stored to its head row (q_out or the token's cache
// slot) and to the packed k / v copy where there is one. A cache-bound piece of a padding token (or
// of a slot past the cache) stores nothing. The kernels load the values before calling this, so the
// slot's load overlaps theirs instead of delaying the bulk read (padding tokens are few; reading
// their rows is harmless).
__device__ __forceinline__ void rotate_and_store(const RopeKvArgs& a, const RopePiece& p, uint4 lo, uint4 hi) {
  const int half = a.head_dim / 2;
  const int32_t slot = p.is_q ? 0 : a.slot_mapping[p.t];
  __nv_bfloat16* dst = rope_destination(a, p, slot);
  if (!dst) return;
  if (p.is_q || p.is_k) {
    const int64_t table = int64_t{a.positions[p.t]} * half + p.d_lo;
    const uint4 c = *reinterpret_cast<const uint4*>(a.cos + table);
    const uint4 s = *reinterpret_cast<const uint4*>(a.sin + table);
    rotate_packed(lo, hi, c, s);
  }
  *reinterpret_cast<uint4*>(dst + p.d_lo) = lo;
  *reinterpret_cast<uint4*>(dst + half + p.d_lo) = hi;
  if (__nv_bfloat16* packed = packed_kv_destination(a, p)) {
    *reinterpret_cast<uint4*>(packed + p.d_lo) = lo;
    *reinterpret_cast<uint4*>(packed + half + p.d_lo) = hi;
  }
}

// A bf16 accumulator in 16-byte aligned rows, without scales (the scaled GEMM's output) or with
// scales still to apply (kScaled): the values are packed bf16 pairs from the load to the store.
template <bool kScaled>
__global__ void __launch_bounds__(kThreads) rope_kv_packed_kernel(const RopeKvArgs a) {
  begin_dependent_kernel();
  const uint32_t i = blockIdx.x * uint32_t{kThreads} + threadIdx.x;
  if (i >= a.threads_total) return;
  const RopePiece p = rope_piece(a, i);
  const int half = a.head_dim / 2;
  const auto* row = static_cast<const __nv_bfloat16*>(a.qkv.data) + int64_t{p.t} * a.qkv.ld + p.col;
  const float scale_x = kScaled && a.qkv.scale_x ? a.qkv.scale_x[p.t] : 1.0f;
  const uint4 lo = bf16_piece<kScaled>(a.qkv, row, scale_x, p.col);
  const uint4 hi = bf16_piece<kScaled>(a.qkv, row + half, scale_x, p.col + half);
  rotate_and_store(a, p, lo, hi);
}

// Every other accumulator (int32, fp32, or bf16 in unaligned rows): each value scaled in float and
// rounded to bf16 two at a time, then the same packed rotation.
template <AccumulatorType kType>
__global__ void __launch_bounds__(kThreads) rope_kv_kernel(const RopeKvArgs a) {
  begin_dependent_kernel();
  const uint32_t i = blockIdx.x * uint32_t{kThreads} + threadIdx.x;
  if (i >= a.threads_total) return;
  const RopePiece p = rope_piece(a, i);
  const int half = a.head_dim / 2;
  const uint4 lo = load_pairs8<kType>(a.qkv, p.t, p.col, a.vector_loads);
  const uint4 hi = load_pairs8<kType>(a.qkv, p.t, p.col + half, a.vector_loads);
  rotate_and_store(a, p, lo, hi);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

int64_t element_bytes(AccumulatorType type) { return type == AccumulatorType::BFloat16 ? 2 : 4; }

}  // namespace

void rope_kv_write_gpu(const AccView& qkv, int64_t tokens, const int32_t* positions, const int32_t* slot_mapping,
                       const __nv_bfloat16* rope_cos, const __nv_bfloat16* rope_sin, int heads,
                       const KvCacheLayer& cache, __nv_bfloat16* q_out, cudaStream_t stream,
                       __nv_bfloat16* kv_out) {
  const int d = cache.head_dim, kv = cache.kv_heads;
  require(heads >= 1 && kv >= 1 && d >= 16 && d % 16 == 0 && cache.block_size >= 1 && cache.num_blocks >= 0,
          "rope_kv_write: invalid shape heads=" + std::to_string(heads) + " kv_heads=" + std::to_string(kv) +
              " head_dim=" + std::to_string(d) + " block_size=" + std::to_string(cache.block_size) +
              " (need head_dim a multiple of 16)");
  const int64_t width = int64_t{heads + 2 * kv} * d;
  require(qkv.ld >= width, "rope_kv_write: the QKV rows hold " + std::to_string(qkv.ld) + " columns, fewer than (" +
                               std::to_string(heads) + " + 2 x " + std::to_string(kv) + ") x " + std::to_string(d));
  require(tokens >= 0, "rope_kv_write: negative token count " + std::to_string(tokens));
  if (tokens == 0) return;
  require(qkv.data && positions && slot_mapping && rope_cos && rope_sin && cache.k && cache.v && q_out,
          "rope_kv_write: a required device pointer is null");
  require(aligned16(q_out) && aligned16(kv_out) && aligned16(cache.k) && aligned16(cache.v) && aligned16(rope_cos) &&
              aligned16(rope_sin),
          "rope_kv_write: q_out, kv_out, the KV cache and the RoPE tables must be 16-byte aligned");
  const int64_t threads_total = tokens * (width / 16);
  require(threads_total <= UINT32_MAX - kThreads,
          "rope_kv_write: too many tokens (" + std::to_string(tokens) + ") for one launch");

  RopeKvArgs a{};
  a.qkv = qkv;
  a.positions = positions;
  a.slot_mapping = slot_mapping;
  a.cos = rope_cos;
  a.sin = rope_sin;
  a.q_out = q_out;
  a.kv_out = kv_out;
  a.k_cache = cache.k;
  a.v_cache = cache.v;
  a.cache_slots = int64_t{cache.num_blocks} * cache.block_size;
  a.threads_total = static_cast<uint32_t>(threads_total);
  a.heads = heads;
  a.kv_heads = kv;
  a.head_dim = d;
  a.block_size = cache.block_size;
  a.pieces = d / 16;
  a.vector_loads =
      aligned16(qkv.data) && (qkv.ld * element_bytes(qkv.type)) % 16 == 0 && aligned16(qkv.scale_w);

  const unsigned blocks = static_cast<unsigned>((threads_total + kThreads - 1) / kThreads);
  if (bf16_pieces_readable(qkv)) {
    if (qkv.scale_x || qkv.scale_w)
      launch_dependent(rope_kv_packed_kernel<true>, blocks, kThreads, 0, stream, a);
    else
      launch_dependent(rope_kv_packed_kernel<false>, blocks, kThreads, 0, stream, a);
    CUDA_CHECK_LAUNCH();
    return;
  }
  switch (qkv.type) {
    case AccumulatorType::Int32:
      launch_dependent(rope_kv_kernel<AccumulatorType::Int32>, blocks, kThreads, 0, stream, a);
      break;
    case AccumulatorType::Float32:
      launch_dependent(rope_kv_kernel<AccumulatorType::Float32>, blocks, kThreads, 0, stream, a);
      break;
    case AccumulatorType::BFloat16:
      launch_dependent(rope_kv_kernel<AccumulatorType::BFloat16>, blocks, kThreads, 0, stream, a);
      break;
  }
  CUDA_CHECK_LAUNCH();
}

}  // namespace slidesparse
