// Paged prefill attention (kernels/attention_prefill.h), FlashAttention-2 style on mma.sync.
//
// CTA = 64 query rows of one sequence x kHeadsPerCta query heads of one kv head; warp w owns the 16
// rows [16 (w % 4), +16) of head h0 + w / 4 and keeps its Q fragments (or re-reads them from shared
// memory, kQRegs false), its 16 x D fp32 output accumulator and the running row max / sum in
// registers. Per tile of kKeys (64 or 32) keys of the kv head:
//   S = Q K^T (mma, K fragments by ldmatrix), online softmax on S in fp32 (exp2, scale * log2 e
//   folded), P -> bf16 A fragments straight from the S accumulators, O += P V (V by ldmatrix.trans).
// Tiles stream through two shared-memory stages with cp.async: tile j + 1 is in flight while tile
// j is computed. Every 16-key piece of a tile lies in one cache block (block_size % 16 == 0): one
// page-table lookup gives its address; keys past seq_len are zero-filled and masked.
// Shared memory rows are 16-byte-chunk swizzled (chunk ^ row % 8): conflict-free cp.async stores,
// ldmatrix loads and output staging.
#include "kernels/attention_prefill.h"

#include <climits>
#include <cmath>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/dependent_launch.cuh"
#include "kernels/mma_sm80.cuh"

namespace slidesparse {

namespace {

using namespace mma_sm80;

constexpr int kRows = 64;  // query rows per CTA and head
constexpr int kWarpsPerHead = kRows / 16;

struct PrefillArgs {
  const __nv_bfloat16* q;
  const __nv_bfloat16* k;
  const __nv_bfloat16* v;
  __nv_bfloat16* out;
  const int32_t* query_start;
  const int32_t* seq_len;
  const int32_t* block_table;
  int max_blocks_per_seq;
  int heads, kv_heads, group;
  int head_groups;  // heads / kHeadsPerCta: CTAs per (sequence, query tile)
  int block_size;
  int block_shift;  // log2(block_size) when it is a power of two, else -1
  float scale_log2;  // softmax_scale * log2(e)
};

template <int kD, int kHeadsPerCta, int kKeys>
constexpr int smem_bytes() {
  // Q (later the output staging) + two stages of K and V.
  return (kHeadsPerCta * kRows + 2 * 2 * kKeys) * kD * 2;
}

// kKeys keys per tile; kQRegs: Q fragments in registers (else re-read from shared memory per tile,
// and the register budget is set for twice the CTAs per SM).
template <int kD, int kHeadsPerCta, int kKeys, bool kQRegs>
__global__ void __launch_bounds__(128 * kHeadsPerCta, (kQRegs ? 2 : 4) / kHeadsPerCta)
    attention_prefill_kernel(PrefillArgs a) {
  begin_dependent_kernel();
  constexpr int kChunks = kD / 8;  // 16-byte chunks per row
  constexpr int kRowBytes = kD * 2;
  constexpr int kThreads = 128 * kHeadsPerCta;
  constexpr int kTileBytes = kKeys * kRowBytes;
  constexpr int kKSteps = kD / 16;  // k-steps of Q K^T, n-tile pairs of P V
  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t q_smem = smem_address(smem);
  const uint32_t kv_smem = q_smem + kHeadsPerCta * kRows * kRowBytes;  // stage s: K, then V

  const int seq = static_cast<int>(blockIdx.x) / a.head_groups;
  const int h0 = static_cast<int>(blockIdx.x) % a.head_groups * kHeadsPerCta;
  // Query tiles with the most keys (the last of each sequence) are scheduled first.
  const int r0 = static_cast<int>(gridDim.y - 1 - blockIdx.y) * kRows;
  const int q_begin = a.query_start[seq];
  const int qlen = a.query_start[seq + 1] - q_begin;
  if (r0 >= qlen) return;
  const int rows = min(kRows, qlen - r0);
  const int len = a.seq_len[seq];
  const int tid = static_cast<int>(threadIdx.x);
  const int64_t row_stride = int64_t{a.heads} * kD;
  // The CTA's heads are adjacent: its rows of q and out are contiguous runs of kHeadsPerCta * D.
  const int64_t first = (int64_t{q_begin} + r0) * row_stride + int64_t{h0} * kD;
  constexpr int kRunChunks = kHeadsPerCta * kChunks;

  if (len == 0) {  // padding sequence
    for (int i = tid; i < rows * kRunChunks; i += kThreads)
      *reinterpret_cast<uint4*>(a.out + first + (i / kRunChunks) * row_stride + (i % kRunChunks) * 8) =
          make_uint4(0, 0, 0, 0);
    return;
  }

  // Q tile -> shared memory row (head, r) = head * 64 + r; rows past qlen are zeros.
  for (int i = tid; i < kRows * kRunChunks; i += kThreads) {
    const int r = i / kRunChunks, head = i % kRunChunks / kChunks, c = i % kChunks;
    const bool valid = r < rows;
    cp_async_16(q_smem + swizzled<kChunks>(head * kRows + r, c),
                valid ? a.q + first + r * row_stride + head * kD + c * 8 : a.q, valid);
  }
  cp_async_commit();

  const int kv_head = h0 / a.group;
  const int32_t* table = a.block_table + int64_t{seq} * a.max_blocks_per_seq;
  auto load_tile = [&](int tile, int stage) {
    const uint32_t k_dst = kv_smem + stage * 2 * kTileBytes, v_dst = k_dst + kTileBytes;
#pragma unroll
    for (int i = 0; i < kKeys * kChunks / kThreads; ++i) {
      const int idx = tid + i * kThreads;
      const int r = idx / kChunks, c = idx % kChunks;
      const int key = tile * kKeys + r;
      const bool valid = key < len;
      int64_t offset = 0;
      if (valid) {
        const int index = a.block_shift >= 0 ? key >> a.block_shift : key / a.block_size;
        const int64_t block = table[index];
        offset = ((block * a.kv_heads + kv_head) * a.block_size + (key - index * a.block_size)) * kD + c * 8;
      }
      cp_async_16(k_dst + swizzled<kChunks>(r, c), a.k + offset, valid);
      cp_async_16(v_dst + swizzled<kChunks>(r, c), a.v + offset, valid);
    }
  };

  // Positions: tile row i sits at p0 + i; the keys this CTA needs end at its last real row.
  const int p0 = len - qlen + r0;
  const int tiles = (p0 + rows - 1) / kKeys + 1;
  load_tile(0, 0);
  cp_async_commit();

  const int warp = tid / 32, lane = tid % 32;
  const int head = warp / kWarpsPerHead;
  const int wrow = warp % kWarpsPerHead * 16;
  const int g = lane / 4, t = lane % 4;
  const bool warp_active = wrow < rows;
  // Row positions of this thread's two accumulator rows; rows past qlen are clamped to the last
  // key so they stay finite (they are never stored).
  const int pos_lo = min(p0 + wrow + g, len - 1), pos_hi = min(p0 + wrow + g + 8, len - 1);
  const int warp_last = min(p0 + wrow + 15, len - 1);

  cp_async_wait<1>();  // Q has landed (tile 0 may still be in flight)
  __syncthreads();
  // This lane's ldmatrix row of the warp's Q rows; the fragments of k-step ks are chunk 2 ks + lane / 16.
  const int q_row = head * kRows + wrow + (lane & 7) + (lane >> 3 & 1) * 8;
  uint32_t qf[kQRegs ? kKSteps : 1][4];
  if constexpr (kQRegs) {
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) ldmatrix_x4(qf[ks], q_smem + swizzled<kChunks>(q_row, 2 * ks + (lane >> 4)));
  }

  // ldmatrix lane offsets inside a tile. For a row r with r % 8 == lane % 8 the swizzled chunk of
  // logical chunk 2s + b is (2s) ^ (b ^ lane % 8), so the address for step s is the lane's base
  // XOR 32 s: the step bits never overlap the row bits (rows are >= 128 bytes apart).
  const uint32_t k_lane = ((lane & 7) + (lane >> 4) * 8) * kRowBytes + ((lane >> 3 & 1) ^ (lane & 7)) * 16;
  const uint32_t v_lane = ((lane & 7) + (lane >> 3 & 1) * 8) * kRowBytes + ((lane >> 4) ^ (lane & 7)) * 16;

  float o[kD / 8][4];
#pragma unroll
  for (int n = 0; n < kD / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f};

  for (int tile = 0; tile < tiles; ++tile) {
    if (tile + 1 < tiles) load_tile(tile + 1, (tile + 1) & 1);
    cp_async_commit();  // possibly empty: keeps "all but the newest group" = this tile
    cp_async_wait<1>();
    __syncthreads();
    const int kb = tile * kKeys;
    // Tiles wholly above this warp's diagonal (the last tiles of the top rows) are skipped.
    if (warp_active && kb <= warp_last) {
      const uint32_t k_tile = kv_smem + (tile & 1) * 2 * kTileBytes, v_tile = k_tile + kTileBytes;
      float s[kKeys / 8][4];
#pragma unroll
      for (int j = 0; j < kKeys / 8; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
#pragma unroll
      for (int ks = 0; ks < kKSteps; ++ks) {
        uint32_t qa[4];
        if constexpr (kQRegs) {
#pragma unroll
          for (int i = 0; i < 4; ++i) qa[i] = qf[ks][i];
        } else {
          ldmatrix_x4(qa, q_smem + swizzled<kChunks>(q_row, 2 * ks + (lane >> 4)));
        }
#pragma unroll
        for (int jp = 0; jp < kKeys / 16; ++jp) {
          uint32_t b[4];
          ldmatrix_x4(b, k_tile + jp * 16 * kRowBytes + (k_lane ^ (ks * 32)));
          mma_bf16_16816(s[2 * jp], qa, b[0], b[1]);
          mma_bf16_16816(s[2 * jp + 1], qa, b[2], b[3]);
        }
      }

      if (kb + kKeys - 1 > p0 + wrow) {  // the tile crosses this warp's diagonal (or seq_len)
#pragma unroll
        for (int j = 0; j < kKeys / 8; ++j)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int key = kb + 8 * j + 2 * t + e;
            if (key > pos_lo) s[j][e] = -INFINITY;
            if (key > pos_hi) s[j][2 + e] = -INFINITY;
          }
      }

      // Online softmax. Tile 0 holds key 0, visible to every row, so each row max is finite from
      // the first tile on and 2^(-inf) = 0 handles both the start and masked keys.
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float m = row_max[r];
#pragma unroll
        for (int j = 0; j < kKeys / 8; ++j) m = fmaxf(m, fmaxf(s[j][2 * r], s[j][2 * r + 1]));
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 1));
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 2));
        const float alpha = fast_exp2((row_max[r] - m) * a.scale_log2);
        row_max[r] = m;
        const float m_scaled = m * a.scale_log2;
        float sum = 0.0f;
#pragma unroll
        for (int j = 0; j < kKeys / 8; ++j)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float p = fast_exp2(fmaf(s[j][2 * r + e], a.scale_log2, -m_scaled));
            s[j][2 * r + e] = p;
            sum += p;
          }
        row_sum[r] = row_sum[r] * alpha + sum;
#pragma unroll
        for (int n = 0; n < kD / 8; ++n) o[n][2 * r] *= alpha, o[n][2 * r + 1] *= alpha;
      }

      // O += P V, 16 keys per k-step; P's A fragment is two adjacent S accumulator tiles.
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        const uint32_t p[4] = {pack_bf16x2(s[2 * kk][0], s[2 * kk][1]), pack_bf16x2(s[2 * kk][2], s[2 * kk][3]),
                               pack_bf16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                               pack_bf16x2(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
        for (int np = 0; np < kD / 16; ++np) {
          uint32_t b[4];
          ldmatrix_x4_trans(b, v_tile + kk * 16 * kRowBytes + (v_lane ^ (np * 32)));
          mma_bf16_16816(o[2 * np], p, b[0], b[1]);
          mma_bf16_16816(o[2 * np + 1], p, b[2], b[3]);
        }
      }
    }
    __syncthreads();  // the stage just read is the next iteration's load target
  }

  if (!warp_active) return;
  // Normalize, round once to bf16, stage the warp's 16 rows in its own (no longer needed) Q rows
  // of shared memory, then write them out as 16-byte row pieces.
  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float l = row_sum[r];
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    inv[r] = 1.0f / l;
  }
  const int stage_row = head * kRows + wrow + g;
#pragma unroll
  for (int n = 0; n < kD / 8; ++n) {
    const uint32_t lo = pack_bf16x2(o[n][0] * inv[0], o[n][1] * inv[0]);
    const uint32_t hi = pack_bf16x2(o[n][2] * inv[1], o[n][3] * inv[1]);
    *reinterpret_cast<uint32_t*>(smem + swizzled<kChunks>(stage_row, n) + 4 * t) = lo;
    *reinterpret_cast<uint32_t*>(smem + swizzled<kChunks>(stage_row + 8, n) + 4 * t) = hi;
  }
  __syncwarp();
  for (int i = lane; i < 16 * kChunks; i += 32) {
    const int r = i / kChunks, c = i % kChunks;
    if (wrow + r >= rows) break;  // i grows with r
    *reinterpret_cast<uint4*>(a.out + first + (wrow + r) * row_stride + head * kD + c * 8) =
        *reinterpret_cast<const uint4*>(smem + swizzled<kChunks>(head * kRows + wrow + r, c));
  }
}

template <int kD, int kHeadsPerCta, int kKeys, bool kQRegs>
void launch(const PrefillArgs& args, dim3 grid, cudaStream_t stream) {
  constexpr int kBytes = smem_bytes<kD, kHeadsPerCta, kKeys>();
  const auto kernel = attention_prefill_kernel<kD, kHeadsPerCta, kKeys, kQRegs>;
  // Above 48 KiB of dynamic shared memory needs an opt-in, once per kernel.
  static const bool opted_in = [&] {
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kBytes));
    return true;
  }();
  (void)opted_in;
  launch_dependent(kernel, grid, 128 * kHeadsPerCta, kBytes, stream, args);
}

template <int kD, int kHeadsPerCta>
void launch_tile(const PrefillArgs& args, dim3 grid, cudaStream_t stream, int keys, bool q_regs) {
  if (keys == 64)
    q_regs ? launch<kD, kHeadsPerCta, 64, true>(args, grid, stream) : launch<kD, kHeadsPerCta, 64, false>(args, grid, stream);
  else
    q_regs ? launch<kD, kHeadsPerCta, 32, true>(args, grid, stream) : launch<kD, kHeadsPerCta, 32, false>(args, grid, stream);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

void attention_prefill_gpu(const __nv_bfloat16* q, const KvCacheLayer& cache, const AttentionBatch& batch, int heads,
                           float softmax_scale, __nv_bfloat16* out, cudaStream_t stream,
                           const AttentionPrefillConfig& config) {
  require(cache.head_dim == 64 || cache.head_dim == 128,
          "attention_prefill: head_dim " + std::to_string(cache.head_dim) + " is not supported (64 or 128)");
  require(cache.kv_heads > 0 && heads > 0 && heads % cache.kv_heads == 0,
          "attention_prefill: " + std::to_string(heads) + " query heads are not a multiple of " +
              std::to_string(cache.kv_heads) + " kv heads");
  require(cache.block_size > 0 && cache.block_size % 16 == 0,
          "attention_prefill: block_size " + std::to_string(cache.block_size) + " is not a positive multiple of 16");
  require(aligned16(q) && aligned16(out) && aligned16(cache.k) && aligned16(cache.v),
          "attention_prefill: q, out and the cache tensors must be 16-byte aligned");
  const int group = heads / cache.kv_heads;
  const int per_cta = config.heads_per_cta ? config.heads_per_cta : (group % 2 == 0 ? 2 : 1);
  require((per_cta == 1 || per_cta == 2) && group % per_cta == 0,
          "attention_prefill: heads_per_cta " + std::to_string(per_cta) + " must be 1 or 2 and divide the group of " +
              std::to_string(group) + " query heads per kv head");
  const int keys = config.key_tile ? config.key_tile : 64;
  require(keys == 64 || keys == 32, "attention_prefill: key_tile " + std::to_string(keys) + " must be 32 or 64");
  if (batch.num_seqs <= 0 || batch.max_query_len <= 0) return;
  const int64_t tiles = (int64_t{batch.max_query_len} + kRows - 1) / kRows;
  const int64_t ctas = int64_t{batch.num_seqs} * (heads / per_cta);
  require(tiles <= 65535 && ctas <= INT_MAX, "attention_prefill: batch too large for one launch");

  int shift = -1;
  if ((cache.block_size & (cache.block_size - 1)) == 0)
    for (shift = 0; (1 << shift) < cache.block_size;) ++shift;
  const PrefillArgs args{q,
                         cache.k,
                         cache.v,
                         out,
                         batch.query_start,
                         batch.seq_len,
                         batch.block_table,
                         batch.max_blocks_per_seq,
                         heads,
                         cache.kv_heads,
                         group,
                         heads / per_cta,
                         cache.block_size,
                         shift,
                         softmax_scale * 1.4426950408889634f};
  const dim3 grid(static_cast<unsigned>(ctas), static_cast<unsigned>(tiles));
  const bool q_regs = config.q_in_registers;
  if (cache.head_dim == 128)
    per_cta == 2 ? launch_tile<128, 2>(args, grid, stream, keys, q_regs) : launch_tile<128, 1>(args, grid, stream, keys, q_regs);
  else
    per_cta == 2 ? launch_tile<64, 2>(args, grid, stream, keys, q_regs) : launch_tile<64, 1>(args, grid, stream, keys, q_regs);
}

}  // namespace slidesparse
