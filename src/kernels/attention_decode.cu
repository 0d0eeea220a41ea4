// Paged decode attention (API and contract in attention_decode.h).
//
// One block of 4 warps per (sequence, kv head, split). Its keys stream through shared memory in
// tiles of 32 over a 2-stage cp.async pipeline; K and V rows keep their 16-byte chunks XOR-swizzled
// by row, so every ldmatrix (8 rows, one chunk column) touches 8 different bank groups. Per tile:
//   S = K q^T    mma m16n8k16, A = 16 keys x 16 dims (ldmatrix), B = q^T with the kv head's query
//                heads as the 8 columns (registers, loaded once); warps 0 and 1 take 16 keys each.
//   softmax      online, in the log2 domain, one warp per query head and one key per lane; P is
//                rounded to bf16 once and the running sum adds the rounded values, so the output is
//                a convex combination of V rows.
//   O^T += V^T P^T   A = 16 dims x 16 keys (ldmatrix.trans of V), B = P^T (ldmatrix of P stored
//                [head][key]); each warp owns a quarter of head_dim.
// Only keys below seq_len are copied (the rest of a tile is zero-filled, so 0 * garbage never
// reaches the accumulators), so bytes read are exactly the visible K and V rows.
// attention_decode_rope_gpu's variant (kRope) first rotates the block's queries from the QKV rows
// into shared memory and, in the split holding the last key, rotates that key, writes it and its
// value to the cache slot and puts them in that key's tile row (rope_kv.cu's arithmetic,
// rope_pieces.cuh).
#include "kernels/attention_decode.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/dependent_launch.cuh"
#include "kernels/mma_sm80.cuh"
#include "kernels/rope_pieces.cuh"

namespace slidesparse {

namespace {

using mma_sm80::cp_async_16;
using mma_sm80::cp_async_commit;
using mma_sm80::cp_async_wait;
using mma_sm80::ldmatrix_x4;
using mma_sm80::ldmatrix_x4_trans;
using mma_sm80::mma_bf16_16816;
using mma_sm80::smem_address;

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kTile = 32;  // keys per pipeline stage: one per lane in the softmax
// Two stages (34 KB of shared memory, six blocks per SM) rather than three (50 KB, four): decode
// contexts are short, so a block streams few tiles and more resident blocks hide its prologue and
// barriers better (H200: 512 sequences x 32..128 keys 4-16% faster, x 272 2% slower; engine decode
// M=64..256 1-2.5% faster, M=512 even; docs/PERF.md).
constexpr int kStages = 2;
// Six blocks per SM, what two stages' shared memory allows: the registers of the variant that
// rotates the fresh token (90 unbounded) are held to the six blocks' 80 rather than cost one.
constexpr int kBlocksPerSm = 6;
constexpr int kGroupCols = 8;  // query heads per kv head the block can serve: the mma's n
constexpr int kKeyGroup = kAttentionDecodeKeyGroup;
constexpr int kMaxKeyGroups = kAttentionDecodeMaxChunk / kKeyGroup;
constexpr int kScoreStride = kTile + 4;  // floats: the mma's 4 head columns land in 4 bank octets
constexpr int kProbStride = kTile + 8;   // bf16: 80-byte rows put 8 ldmatrix rows in 8 bank groups
constexpr float kLog2e = 1.4426950408889634f;

static_assert(kTile == 32, "the softmax gives each lane one key of the tile");
static_assert(kGroupCols <= 2 * kWarps, "each warp runs the softmax of at most two query heads");
static_assert(kAttentionDecodeMaxChunk % kKeyGroup == 0, "splits are whole key groups");

// Where the queries come from: rotated already (q), or rotated here from the QKV GEMM's bf16 rows,
// as they are or with scales still to apply (the step's fresh k and v then go to the cache here too).
constexpr int kRopeNone = 0, kRopePlain = 1, kRopeScaled = 2;

// Byte offsets in the block's dynamic shared memory.
template <int kHeadDim, int kRope>
struct SharedLayout {
  static constexpr int kTileBytes = kTile * kHeadDim * 2;
  // From 0: the pipeline stages, [stage][K, V][kTile][kHeadDim] bf16, rows swizzled.
  static constexpr int kScores = kStages * 2 * kTileBytes;  // [8][kScoreStride] f32
  static constexpr int kProbs = kScores + kGroupCols * kScoreStride * 4;  // [8][kProbStride] bf16
  static constexpr int kAlpha = kProbs + kGroupCols * kProbStride * 2;  // [8] f32, rescale of this tile
  static constexpr int kRowSum = kAlpha + kGroupCols * 4;  // [8] f32, final softmax sums
  static constexpr int kRowMax = kRowSum + kGroupCols * 4;  // [8] f32, final maxima
  static constexpr int kKeyGroups = kRowMax + kGroupCols * 4;  // [kMaxKeyGroups] i64
  // Where the kernel rotates the fresh token (kRope): [8][kHeadDim] bf16, the rotated queries, then
  // [2][kHeadDim] bf16, the rotated key and the value of the split's last key.
  static constexpr int kFreshQ = kKeyGroups + kMaxKeyGroups * 8;
  static constexpr int kFreshKv = kFreshQ + kGroupCols * kHeadDim * 2;
  static constexpr int kBytes = kRope != kRopeNone ? kFreshKv + 2 * kHeadDim * 2 : kFreshQ;
  // After the loop the stages hold the normalized output, [8][kOutStride] f32 (the 4-float pad
  // spreads the mma's head columns over the banks).
  static constexpr int kOutStride = kHeadDim + 4;
  static_assert(kGroupCols * kOutStride * 4 <= kScores, "the staged output fits in the stages");
  static_assert(kScores % 16 == 0 && kProbs % 16 == 0 && kKeyGroups % 16 == 0 && kFreshQ % 16 == 0,
                "16-byte aligned regions");
};

struct DecodeArgs {
  const __nv_bfloat16* q;  // [num_seqs, heads, head_dim] (kRopeNone)
  // kRopePlain / kRopeScaled: sequence s's fresh token is QKV row s (bf16, 16-byte aligned rows),
  // at positions[s], its k and v going to cache slot slot_mapping[s] (rope_kv_write_gpu's inputs).
  AccView qkv;
  const int32_t* positions;
  const int32_t* slot_mapping;
  const __nv_bfloat16* rope_cos;
  const __nv_bfloat16* rope_sin;
  int64_t cache_slots;
  __nv_bfloat16* k;  // the cache: read through cp.async; the fresh key and value written (kRope)
  __nv_bfloat16* v;
  __nv_bfloat16* out;   // [num_seqs, heads * head_dim]
  float* partial_out;   // [num_seqs, heads, splits, head_dim] (splits > 1)
  float* partial_lse;   // [num_seqs, heads, splits], log2 domain
  const int32_t* seq_len;
  const int32_t* block_table;
  int max_blocks_per_seq;
  int num_seqs, heads, kv_heads, group, block_size;
  int splits, min_chunk, fixed_chunk;
  float scale_log2;  // softmax_scale * log2(e)
};

// How sequence `len` is cut: `count` splits of `chunk` keys (the last one shorter). Both kernels
// derive it from the device seq_len, so the host never needs it. Long sequences use every split,
// short ones fewer, none shorter than min_chunk unless the sequence is; with a fixed chunk, the cut
// depends on len alone (AttentionDecodeConfig::fixed_chunk).
struct SplitPlan {
  int chunk, count;
};

__device__ __forceinline__ SplitPlan plan_splits(int len, int splits, int min_chunk, int fixed_chunk) {
  if (len <= 0) return {kKeyGroup, 0};
  if (fixed_chunk > 0) return {fixed_chunk, (len + fixed_chunk - 1) / fixed_chunk};
  const int wanted = min(splits, (len + min_chunk - 1) / min_chunk);
  const int chunk = min(((len + wanted - 1) / wanted + kKeyGroup - 1) / kKeyGroup * kKeyGroup,
                        kAttentionDecodeMaxChunk);
  return {chunk, min(splits, (len + chunk - 1) / chunk)};
}

// Element offset of 16-byte chunk `chunk` of tile row `row` (chunk index XOR row mod 8).
template <int kHeadDim>
__device__ __forceinline__ int swizzled(int row, int chunk) {
  return row * kHeadDim + ((chunk ^ (row & 7)) << 3);
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xFFFFFFFFu, v, offset));
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xFFFFFFFFu, v, offset);
  return v;
}


template <int kHeadDim, int kRope>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm) attention_decode_kernel(const DecodeArgs a) {
  begin_dependent_kernel();
  using Layout = SharedLayout<kHeadDim, kRope>;
  constexpr int kRowChunks = kHeadDim / 8;               // 16-byte chunks per K / V row
  constexpr int kDimSteps = kHeadDim / 16;               // k-steps of S = K q^T
  constexpr int kDimTiles = kHeadDim / 16 / kWarps;      // 16-dim output tiles per warp
  constexpr int kScoreWarps = kTile / 16;
  static_assert(kTile * kRowChunks % kThreads == 0 && kDimTiles >= 1, "whole copy rounds and output tiles");
  extern __shared__ __align__(16) unsigned char smem[];

  const int split = blockIdx.x, kv_head = blockIdx.y, seq = blockIdx.z;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int head0 = kv_head * a.group;
  const int len = a.seq_len[seq];
  const SplitPlan plan = plan_splits(len, a.splits, a.min_chunk, a.fixed_chunk);
  if (len <= 0) {  // padding sequence: the first split writes the zero rows
    if (split == 0)
      for (int i = tid; i < a.group * kRowChunks; i += kThreads)
        reinterpret_cast<uint4*>(a.out + (int64_t{seq} * a.heads + head0) * kHeadDim)[i] = make_uint4(0, 0, 0, 0);
    return;
  }
  if (split >= plan.count) return;
  const int begin = split * plan.chunk;
  const int end = min(len, begin + plan.chunk);

  auto* stages = reinterpret_cast<__nv_bfloat16*>(smem);
  auto* scores = reinterpret_cast<float*>(smem + Layout::kScores);
  auto* probs = reinterpret_cast<__nv_bfloat16*>(smem + Layout::kProbs);
  auto* alpha = reinterpret_cast<float*>(smem + Layout::kAlpha);
  auto* row_sum = reinterpret_cast<float*>(smem + Layout::kRowSum);
  auto* row_max = reinterpret_cast<float*>(smem + Layout::kRowMax);
  auto* key_group_offset = reinterpret_cast<int64_t*>(smem + Layout::kKeyGroups);

  // Where each 16-key group of the split starts in k / v (begin is a multiple of 16).
  const int32_t* table = a.block_table + int64_t{seq} * a.max_blocks_per_seq;
  for (int g = tid; g < (end - begin + kKeyGroup - 1) / kKeyGroup; g += kThreads) {
    const int key = begin + g * kKeyGroup;
    const int64_t block = table[key / a.block_size];
    key_group_offset[g] = ((block * a.kv_heads + kv_head) * a.block_size + key % a.block_size) * kHeadDim;
  }
  // Columns of the mma past the group's heads stay zero: P rows 0, rescale 0.
  for (int i = tid; i < kGroupCols * kProbStride; i += kThreads) probs[i] = __float2bfloat16_rn(0.0f);
  if (tid < kGroupCols) alpha[tid] = 0.0f;

  // The fresh token (kRope), one 16-column piece pair per thread as rope_kv_write_gpu cuts it: the
  // first group * P threads rotate the group's queries into shared memory; in the split that holds
  // key len - 1 (the last), the next P rotate its k and the P after copy its v, store them to the
  // token's cache slot and keep them in shared memory for the tile of that key, whose copy read the
  // slot before these stores could reach it. Done before the first tile's copy is issued: issued
  // after it, under those loads, the kernel measured 1.4 us slower per launch (H100, FP8 decode
  // M=512).
  const bool holds_fresh_key = kRope != kRopeNone && end == len;
  if constexpr (kRope != kRopeNone) {
    constexpr int kPieces = kHeadDim / 16, kHalf = kHeadDim / 2;
    const int unit = tid / kPieces, d_lo = (tid % kPieces) * 8;
    const bool is_q = unit < a.group, is_kv = !is_q && unit < a.group + 2 && holds_fresh_key;
    if (is_q || is_kv) {
      const int kind = unit - a.group;  // k or v
      const int64_t col =
          (is_q ? int64_t{head0 + unit} : int64_t{a.heads} + int64_t{kind} * a.kv_heads + kv_head) * kHeadDim + d_lo;
      const auto* row = static_cast<const __nv_bfloat16*>(a.qkv.data) + int64_t{seq} * a.qkv.ld + col;
      const float scale_x = kRope == kRopeScaled && a.qkv.scale_x ? a.qkv.scale_x[seq] : 1.0f;
      uint4 lo = bf16_piece<kRope == kRopeScaled>(a.qkv, row, scale_x, col);
      uint4 hi = bf16_piece<kRope == kRopeScaled>(a.qkv, row + kHalf, scale_x, col + kHalf);
      if (is_q || kind == 0) {
        const int64_t table = int64_t{a.positions[seq]} * kHalf + d_lo;
        rotate_packed(lo, hi, *reinterpret_cast<const uint4*>(a.rope_cos + table),
                      *reinterpret_cast<const uint4*>(a.rope_sin + table));
      }
      if (is_q) {
        auto* fresh_q = reinterpret_cast<__nv_bfloat16*>(smem + Layout::kFreshQ) + unit * kHeadDim;
        *reinterpret_cast<uint4*>(fresh_q + d_lo) = lo;
        *reinterpret_cast<uint4*>(fresh_q + kHalf + d_lo) = hi;
      } else {
        auto* fresh_kv = reinterpret_cast<__nv_bfloat16*>(smem + Layout::kFreshKv) + kind * kHeadDim;
        *reinterpret_cast<uint4*>(fresh_kv + d_lo) = lo;
        *reinterpret_cast<uint4*>(fresh_kv + kHalf + d_lo) = hi;
        const int32_t slot = a.slot_mapping[seq];
        if (slot >= 0 && slot < a.cache_slots) {
          const int32_t block = slot / a.block_size, offset = slot - block * a.block_size;
          __nv_bfloat16* dst =
              (kind == 0 ? a.k : a.v) + ((int64_t{block} * a.kv_heads + kv_head) * a.block_size + offset) * kHeadDim;
          *reinterpret_cast<uint4*>(dst + d_lo) = lo;
          *reinterpret_cast<uint4*>(dst + kHalf + d_lo) = hi;
        }
      }
    }
  }
  __syncthreads();

  auto load_tile = [&](int tile) {
    const int first = begin + tile * kTile;
    __nv_bfloat16* k_stage = stages + (tile % kStages) * 2 * kTile * kHeadDim;
    __nv_bfloat16* v_stage = k_stage + kTile * kHeadDim;
#pragma unroll
    for (int j = 0; j < kTile * kRowChunks / kThreads; ++j) {
      const int i = tid + j * kThreads;
      const int row = i / kRowChunks, chunk = i % kRowChunks, key = first + row;
      const bool valid = key < end;
      const int64_t src =
          valid ? key_group_offset[(key - begin) / kKeyGroup] + (key % kKeyGroup) * kHeadDim + chunk * 8 : 0;
      const int dst = swizzled<kHeadDim>(row, chunk);
      cp_async_16(smem_address(k_stage + dst), a.k + src, valid);
      cp_async_16(smem_address(v_stage + dst), a.v + src, valid);
    }
  };

  const int tiles = (end - begin + kTile - 1) / kTile;
#pragma unroll
  for (int t = 0; t < kStages - 1; ++t) {
    if (t < tiles) load_tile(t);
    cp_async_commit();  // empty groups keep the wait count uniform
  }

  // q^T as the B operand of S = K q^T: lane feeds column (query head) lane / 4, dims 2 (lane % 4) + {0, 1}
  // and + 8 of every 16-dim step; columns past the group are zero.
  uint32_t q_frag[kDimSteps][2];
  {
    const int n = lane / 4;
    const auto* q_row = reinterpret_cast<const uint32_t*>(
        kRope != kRopeNone
            ? reinterpret_cast<const __nv_bfloat16*>(smem + Layout::kFreshQ) + min(n, a.group - 1) * kHeadDim
            : a.q + (int64_t{seq} * a.heads + head0 + min(n, a.group - 1)) * kHeadDim);
#pragma unroll
    for (int s = 0; s < kDimSteps; ++s) {
      q_frag[s][0] = n < a.group ? q_row[s * 8 + lane % 4] : 0u;
      q_frag[s][1] = n < a.group ? q_row[s * 8 + 4 + lane % 4] : 0u;
    }
  }

  // O^T accumulators: rows = this warp's dims, columns = query heads. Softmax state of the heads
  // this warp owns (warp and warp + 4), in the log2 domain.
  float acc[kDimTiles][4] = {};
  float run_max[2] = {-INFINITY, -INFINITY}, run_sum[2] = {0.0f, 0.0f};

  for (int tile = 0; tile < tiles; ++tile) {
    cp_async_wait<kStages - 2>();
    __syncthreads();  // the tile is in for every thread, and the stage refilled below is free
    if (tile + kStages - 1 < tiles) load_tile(tile + kStages - 1);
    cp_async_commit();
    __nv_bfloat16* k_stage = stages + (tile % kStages) * 2 * kTile * kHeadDim;
    __nv_bfloat16* v_stage = k_stage + kTile * kHeadDim;
    const int first = begin + tile * kTile;
    if (holds_fresh_key && tile == tiles - 1) {  // key len - 1: its row from the fresh k and v
      if (tid < 2 * kRowChunks) {
        const int kind = tid / kRowChunks, chunk = tid % kRowChunks;
        const auto* fresh = reinterpret_cast<const uint4*>(smem + Layout::kFreshKv) + kind * kRowChunks;
        *reinterpret_cast<uint4*>((kind == 0 ? k_stage : v_stage) + swizzled<kHeadDim>(len - 1 - first, chunk)) =
            fresh[chunk];
      }
      __syncthreads();
    }

    if (warp < kScoreWarps) {
      float s[4] = {};
      const int row = warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
#pragma unroll
      for (int step = 0; step < kDimSteps; ++step) {
        uint32_t k_frag[4];
        ldmatrix_x4(k_frag, smem_address(k_stage + swizzled<kHeadDim>(row, 2 * step + (lane >> 4))));
        mma_bf16_16816(s, k_frag, q_frag[step][0], q_frag[step][1]);
      }
      const int key = warp * 16 + lane / 4, col = 2 * (lane % 4);
      scores[col * kScoreStride + key] = s[0] * a.scale_log2;
      scores[(col + 1) * kScoreStride + key] = s[1] * a.scale_log2;
      scores[col * kScoreStride + key + 8] = s[2] * a.scale_log2;
      scores[(col + 1) * kScoreStride + key + 8] = s[3] * a.scale_log2;
    }
    __syncthreads();

#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int n = warp + kWarps * i;
      if (n < a.group) {
        const float s = first + lane < end ? scores[n * kScoreStride + lane] : -INFINITY;
        const float new_max = fmaxf(run_max[i], warp_max(s));  // finite: every tile holds a visible key
        const __nv_bfloat16 p = __float2bfloat16_rn(exp2f(s - new_max));
        const float rescale = exp2f(run_max[i] - new_max);
        run_sum[i] = run_sum[i] * rescale + warp_sum(__bfloat162float(p));
        run_max[i] = new_max;
        probs[n * kProbStride + lane] = p;
        if (lane == 0) alpha[n] = rescale;
      }
    }
    __syncthreads();

    uint32_t p_frag[4];  // P^T B operands: keys 0-7, 8-15 (step 0) and 16-23, 24-31 (step 1)
    ldmatrix_x4(p_frag, smem_address(probs + (lane & 7) * kProbStride + (lane >> 3) * 8));
    const float rescale0 = alpha[2 * (lane % 4)], rescale1 = alpha[2 * (lane % 4) + 1];
#pragma unroll
    for (int t = 0; t < kDimTiles; ++t) {
      acc[t][0] *= rescale0, acc[t][1] *= rescale1, acc[t][2] *= rescale0, acc[t][3] *= rescale1;
#pragma unroll
      for (int step = 0; step < kTile / 16; ++step) {
        const int row = step * 16 + (lane & 7) + (lane >> 4) * 8;
        const int chunk = (warp * kDimTiles + t) * 2 + ((lane >> 3) & 1);
        uint32_t v_frag[4];
        ldmatrix_x4_trans(v_frag, smem_address(v_stage + swizzled<kHeadDim>(row, chunk)));
        mma_bf16_16816(acc[t], v_frag, p_frag[2 * step], p_frag[2 * step + 1]);
      }
    }
  }
  cp_async_wait<0>();

#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int n = warp + kWarps * i;
    if (n < a.group && lane == 0) row_sum[n] = run_sum[i], row_max[n] = run_max[i];
  }
  __syncthreads();  // the stages are free for the staged output, the sums are visible

  // Normalize (the sum is >= 1: the maximum key contributes exactly 1) and stage [head][dim].
  auto* staged = reinterpret_cast<float*>(smem);
  {
    const int col = 2 * (lane % 4);
    const float sum0 = col < a.group ? row_sum[col] : 1.0f;
    const float sum1 = col + 1 < a.group ? row_sum[col + 1] : 1.0f;
#pragma unroll
    for (int t = 0; t < kDimTiles; ++t) {
      const int dim = (warp * kDimTiles + t) * 16 + lane / 4;
      staged[col * Layout::kOutStride + dim] = acc[t][0] / sum0;
      staged[(col + 1) * Layout::kOutStride + dim] = acc[t][1] / sum1;
      staged[col * Layout::kOutStride + dim + 8] = acc[t][2] / sum0;
      staged[(col + 1) * Layout::kOutStride + dim + 8] = acc[t][3] / sum1;
    }
  }
  __syncthreads();

  if (plan.count == 1) {  // the sequence's only split: final bf16 rows, 16-byte stores
    for (int i = tid; i < a.group * kRowChunks; i += kThreads) {
      const int n = i / kRowChunks, c = i % kRowChunks;
      const float4 lo = *reinterpret_cast<const float4*>(staged + n * Layout::kOutStride + c * 8);
      const float4 hi = *reinterpret_cast<const float4*>(staged + n * Layout::kOutStride + c * 8 + 4);
      reinterpret_cast<uint4*>(a.out + (int64_t{seq} * a.heads + head0 + n) * kHeadDim)[c] =
          make_uint4(pack_bf16x2(lo.x, lo.y), pack_bf16x2(lo.z, lo.w), pack_bf16x2(hi.x, hi.y), pack_bf16x2(hi.z, hi.w));
    }
    return;
  }
  for (int i = tid; i < a.group * (kHeadDim / 4); i += kThreads) {
    const int n = i / (kHeadDim / 4), c = i % (kHeadDim / 4);
    const int64_t row = (int64_t{seq} * a.heads + head0 + n) * a.splits + split;
    reinterpret_cast<float4*>(a.partial_out + row * kHeadDim)[c] =
        *reinterpret_cast<const float4*>(staged + n * Layout::kOutStride + c * 4);
  }
  if (tid < a.group)
    a.partial_lse[(int64_t{seq} * a.heads + head0 + tid) * a.splits + split] = row_max[tid] + log2f(row_sum[tid]);
}

// One warp per (sequence, query head): out = sum_i w_i o_i / sum_i w_i, w_i = 2^(lse_i - max lse).
// Rows of sequences with fewer than two splits were written by the decode kernel.
template <int kHeadDim>
__global__ void __launch_bounds__(kThreads) attention_decode_combine_kernel(const DecodeArgs a) {
  begin_dependent_kernel();
  constexpr int kPerLane = kHeadDim / 32;
  const int item = blockIdx.x * kWarps + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (item >= a.num_seqs * a.heads) return;
  const SplitPlan plan = plan_splits(a.seq_len[item / a.heads], a.splits, a.min_chunk, a.fixed_chunk);
  if (plan.count <= 1) return;
  const float* lse = a.partial_lse + int64_t{item} * a.splits;
  float max_lse = -INFINITY;
  for (int i = 0; i < plan.count; ++i) max_lse = fmaxf(max_lse, lse[i]);
  float acc[kPerLane] = {}, total = 0.0f;
  for (int i = 0; i < plan.count; ++i) {
    const float w = exp2f(lse[i] - max_lse);
    total += w;
    const float* o = a.partial_out + (int64_t{item} * a.splits + i) * kHeadDim + lane * kPerLane;
    if constexpr (kPerLane == 4) {
      const float4 x = *reinterpret_cast<const float4*>(o);
      acc[0] += w * x.x, acc[1] += w * x.y, acc[2] += w * x.z, acc[3] += w * x.w;
    } else {
      const float2 x = *reinterpret_cast<const float2*>(o);
      acc[0] += w * x.x, acc[1] += w * x.y;
    }
  }
  __nv_bfloat16* out = a.out + int64_t{item} * kHeadDim + lane * kPerLane;
  if constexpr (kPerLane == 4)
    *reinterpret_cast<uint2*>(out) = make_uint2(pack_bf16x2(acc[0] / total, acc[1] / total),
                                                pack_bf16x2(acc[2] / total, acc[3] / total));
  else
    *reinterpret_cast<uint32_t*>(out) = pack_bf16x2(acc[0] / total, acc[1] / total);
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

bool aligned(const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

size_t partial_floats(int num_seqs, int heads, int head_dim, int splits) {
  return static_cast<size_t>(num_seqs) * heads * splits * head_dim;
}

template <int kHeadDim, int kRope>
void launch(const DecodeArgs& a, cudaStream_t stream) {
  using Layout = SharedLayout<kHeadDim, kRope>;
  const auto kernel = attention_decode_kernel<kHeadDim, kRope>;
  // Above 48 KB a kernel must opt in; done once per process (the engine runs on one device).
  static const bool opted_in = [&] {
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Layout::kBytes));
    return true;
  }();
  (void)opted_in;
  launch_dependent(kernel, dim3(a.splits, a.kv_heads, a.num_seqs), kThreads, Layout::kBytes, stream, a);
  if (a.splits > 1) {
    const int64_t blocks = ceil_div(int64_t{a.num_seqs} * a.heads, kWarps);
    launch_dependent(attention_decode_combine_kernel<kHeadDim>, static_cast<unsigned>(blocks), kThreads, 0, stream, a);
  }
}

template <int kRope>
void launch_head_dim(const DecodeArgs& a, int head_dim, cudaStream_t stream) {
  if (head_dim == 64)
    launch<64, kRope>(a, stream);
  else
    launch<128, kRope>(a, stream);
}

// The arguments every launch shares, checked (q or the fresh token's rows come from the caller).
DecodeArgs decode_args(const KvCacheLayer& cache, const AttentionBatch& batch, int heads, float softmax_scale,
                       __nv_bfloat16* out, void* workspace, size_t workspace_bytes,
                       const AttentionDecodeConfig& config) {
  const int hd = cache.head_dim;
  require(hd == 64 || hd == 128, "attention_decode: head_dim " + std::to_string(hd) + " (need 64 or 128)");
  require(cache.kv_heads > 0 && heads > 0 && heads % cache.kv_heads == 0 && heads / cache.kv_heads <= kGroupCols,
          "attention_decode: " + std::to_string(heads) + " query heads over " + std::to_string(cache.kv_heads) +
              " kv heads (need a multiple, at most " + std::to_string(kGroupCols) + " query heads per kv head)");
  require(cache.block_size > 0 && cache.block_size % kKeyGroup == 0,
          "attention_decode: block_size " + std::to_string(cache.block_size) + " is not a positive multiple of 16");
  require(batch.num_seqs >= 0 && batch.num_seqs <= 65535,
          "attention_decode: num_seqs " + std::to_string(batch.num_seqs) + " outside 0..65535");
  require(batch.num_seqs == 0 ||
              (out && cache.k && cache.v && batch.seq_len && batch.block_table && batch.max_blocks_per_seq > 0),
          "attention_decode: null tensor or empty block table");
  require(aligned(cache.k, 16) && aligned(cache.v, 16) && aligned(out, 16),
          "attention_decode: k, v and out must be 16-byte aligned");

  DecodeArgs a{};
  a.k = cache.k, a.v = cache.v, a.out = out;
  a.seq_len = batch.seq_len, a.block_table = batch.block_table, a.max_blocks_per_seq = batch.max_blocks_per_seq;
  a.num_seqs = batch.num_seqs, a.heads = heads, a.kv_heads = cache.kv_heads, a.group = heads / cache.kv_heads;
  a.block_size = cache.block_size;
  a.splits = attention_decode_splits(batch.num_seqs, cache.kv_heads, batch.max_seq_len, config);
  a.min_chunk = config.min_chunk;
  a.fixed_chunk = config.fixed_chunk;
  a.scale_log2 = softmax_scale * kLog2e;
  if (a.splits > 1 && a.num_seqs > 0) {
    const size_t need = attention_decode_partials_bytes(a.num_seqs, heads, hd, a.splits);
    require(workspace && aligned(workspace, 16) && workspace_bytes >= need,
            "attention_decode: workspace of " + std::to_string(workspace_bytes) + " bytes, this launch needs " +
                std::to_string(need) + " (16-byte aligned; see attention_decode_workspace_bytes)");
    a.partial_out = static_cast<float*>(workspace);
    a.partial_lse = a.partial_out + partial_floats(a.num_seqs, heads, hd, a.splits);
  }
  return a;
}

}  // namespace

int attention_decode_block_shared_bytes(int head_dim) {
  require(head_dim == 64 || head_dim == 128, "attention_decode: head_dim " + std::to_string(head_dim) +
                                                 " (need 64 or 128)");
  return head_dim == 64 ? SharedLayout<64, kRopeNone>::kBytes : SharedLayout<128, kRopeNone>::kBytes;
}

void attention_decode_gpu(const __nv_bfloat16* q, const KvCacheLayer& cache, const AttentionBatch& batch, int heads,
                          float softmax_scale, __nv_bfloat16* out, void* workspace, size_t workspace_bytes,
                          cudaStream_t stream, const AttentionDecodeConfig& config) {
  DecodeArgs a = decode_args(cache, batch, heads, softmax_scale, out, workspace, workspace_bytes, config);
  if (a.num_seqs == 0) return;
  require(q && aligned(q, 4), "attention_decode: q must be non-null and 4-byte aligned");
  a.q = q;
  launch_head_dim<kRopeNone>(a, cache.head_dim, stream);
}

bool attention_decode_fuses_rope(const AccView& qkv) { return bf16_pieces_readable(qkv); }

void attention_decode_rope_gpu(const DecodeRope& rope, const KvCacheLayer& cache, const AttentionBatch& batch,
                               int heads, float softmax_scale, __nv_bfloat16* out, void* workspace,
                               size_t workspace_bytes, cudaStream_t stream, const AttentionDecodeConfig& config) {
  DecodeArgs a = decode_args(cache, batch, heads, softmax_scale, out, workspace, workspace_bytes, config);
  if (a.num_seqs == 0) return;
  require(attention_decode_fuses_rope(rope.qkv),
          "attention_decode_rope: the QKV rows must be bf16 and 16-byte aligned (attention_decode_fuses_rope)");
  const int64_t width = int64_t{heads + 2 * cache.kv_heads} * cache.head_dim;
  require(rope.qkv.ld >= width, "attention_decode_rope: the QKV rows hold " + std::to_string(rope.qkv.ld) +
                                    " columns, fewer than (" + std::to_string(heads) + " + 2 x " +
                                    std::to_string(cache.kv_heads) + ") x " + std::to_string(cache.head_dim));
  require(rope.positions && rope.slot_mapping && rope.cos && rope.sin && aligned(rope.cos, 16) &&
              aligned(rope.sin, 16),
          "attention_decode_rope: positions, slot_mapping and 16-byte aligned RoPE tables are required");
  a.qkv = rope.qkv;
  a.positions = rope.positions;
  a.slot_mapping = rope.slot_mapping;
  a.rope_cos = rope.cos;
  a.rope_sin = rope.sin;
  a.cache_slots = int64_t{cache.num_blocks} * cache.block_size;
  if (rope.qkv.scale_x || rope.qkv.scale_w)
    launch_head_dim<kRopeScaled>(a, cache.head_dim, stream);
  else
    launch_head_dim<kRopePlain>(a, cache.head_dim, stream);
}

}  // namespace slidesparse
