// Floors for paged decode attention (API in attention_decode_floor.h).
#include "bench/attention_decode_floor.h"

#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/attention_decode.h"
#include "kernels/dependent_launch.cuh"
#include "kernels/mma_sm80.cuh"

namespace slidesparse {

namespace {

using mma_sm80::cp_async_16;
using mma_sm80::cp_async_commit;
using mma_sm80::cp_async_wait;
using mma_sm80::smem_address;

constexpr int kThreads = 128;
constexpr int kTile = 32;  // keys per stage, as the decode kernel
constexpr int kKeyGroup = kAttentionDecodeKeyGroup;
constexpr int kMaxKeyGroups = kAttentionDecodeMaxChunk / kKeyGroup;

struct FloorArgs {
  const __nv_bfloat16* k;
  const __nv_bfloat16* v;
  const int32_t* seq_len;
  const int32_t* block_table;
  int max_blocks_per_seq, kv_heads, block_size;
  int* sink;
};

template <int kHeadDim>
__host__ __device__ constexpr int stage_elems() {
  return 2 * kTile * kHeadDim;  // K then V
}

template <int kHeadDim, DecodeFloor kFloor>
__global__ void __launch_bounds__(kThreads) attention_decode_floor_kernel(const FloorArgs a) {
  begin_dependent_kernel();
  const int kv_head = blockIdx.x, seq = blockIdx.y, tid = threadIdx.x;
  const int len = a.seq_len[seq];
  if constexpr (kFloor == DecodeFloor::Grid) {
    if (len < 0 && tid == 0) *a.sink = len;  // never: the load is not dead
  } else {
    constexpr int kRowChunks = kHeadDim / 8;
    extern __shared__ __align__(16) unsigned char smem[];
    auto* stages = reinterpret_cast<__nv_bfloat16*>(smem);
    auto* offsets = reinterpret_cast<int64_t*>(smem + 2 * stage_elems<kHeadDim>() * 2);
    const int32_t* table = a.block_table + int64_t{seq} * a.max_blocks_per_seq;
    for (int g = tid; g < (len + kKeyGroup - 1) / kKeyGroup; g += kThreads) {
      const int key = g * kKeyGroup;
      offsets[g] = ((int64_t{table[key / a.block_size]} * a.kv_heads + kv_head) * a.block_size + key % a.block_size) *
                   kHeadDim;
    }
    __syncthreads();
    auto load_tile = [&](int tile) {
      __nv_bfloat16* k_stage = stages + (tile % 2) * stage_elems<kHeadDim>();
      __nv_bfloat16* v_stage = k_stage + kTile * kHeadDim;
#pragma unroll
      for (int j = 0; j < kTile * kRowChunks / kThreads; ++j) {
        const int i = tid + j * kThreads, row = i / kRowChunks, chunk = i % kRowChunks, key = tile * kTile + row;
        const bool valid = key < len;
        const int64_t src = valid ? offsets[key / kKeyGroup] + (key % kKeyGroup) * kHeadDim + chunk * 8 : 0;
        cp_async_16(smem_address(k_stage + row * kHeadDim + chunk * 8), a.k + src, valid);
        cp_async_16(smem_address(v_stage + row * kHeadDim + chunk * 8), a.v + src, valid);
      }
    };
    const int tiles = (len + kTile - 1) / kTile;
    if (tiles > 0) load_tile(0);
    cp_async_commit();
    for (int tile = 0; tile < tiles; ++tile) {
      cp_async_wait<0>();
      __syncthreads();  // the tile is in, and the other stage is free
      if (tile + 1 < tiles) load_tile(tile + 1);
      cp_async_commit();
    }
    cp_async_wait<0>();
    __syncthreads();
    if (tid == 0 && tiles > 0 && reinterpret_cast<const uint16_t*>(stages)[0] == 0x7FC1) *a.sink = 1;  // rarely
  }
}

template <int kHeadDim>
void launch(DecodeFloor floor, const FloorArgs& a, int num_seqs, cudaStream_t stream) {
  // The decode kernel's shared memory per block, so that as many blocks fit on an SM (the floor
  // uses its two stages and, after them, the key-group offsets); above 48 KB a kernel must opt in,
  // once per process and kernel, outside the captured launches.
  static const int bytes = [] {
    const int b = attention_decode_block_shared_bytes(kHeadDim);
    require(b >= 2 * stage_elems<kHeadDim>() * 2 + kMaxKeyGroups * 8,
            "attention floor: the decode kernel's shared memory holds no two stages and offsets");
    CUDA_CHECK(cudaFuncSetAttribute(attention_decode_floor_kernel<kHeadDim, DecodeFloor::Grid>,
                                    cudaFuncAttributeMaxDynamicSharedMemorySize, b));
    CUDA_CHECK(cudaFuncSetAttribute(attention_decode_floor_kernel<kHeadDim, DecodeFloor::Stream>,
                                    cudaFuncAttributeMaxDynamicSharedMemorySize, b));
    return b;
  }();
  const auto kernel = floor == DecodeFloor::Grid ? attention_decode_floor_kernel<kHeadDim, DecodeFloor::Grid>
                                                 : attention_decode_floor_kernel<kHeadDim, DecodeFloor::Stream>;
  launch_dependent(kernel, dim3(a.kv_heads, num_seqs), kThreads, bytes, stream, a);
}

}  // namespace

void attention_decode_floor_gpu(DecodeFloor floor, const KvCacheLayer& cache, const AttentionBatch& batch,
                                int* sink, cudaStream_t stream) {
  require(cache.head_dim == 64 || cache.head_dim == 128, "attention floor: head_dim 64 or 128");
  require(cache.block_size > 0 && cache.block_size % kKeyGroup == 0, "attention floor: block_size a multiple of 16");
  require(batch.max_seq_len <= kAttentionDecodeMaxChunk,
          "attention floor: at most " + std::to_string(kAttentionDecodeMaxChunk) + " keys per sequence (no split)");
  require(batch.num_seqs > 0 && batch.num_seqs <= 65535 && sink, "attention floor: 1..65535 sequences and a sink");
  const FloorArgs a{cache.k, cache.v, batch.seq_len, batch.block_table, batch.max_blocks_per_seq, cache.kv_heads,
                    cache.block_size, sink};
  if (cache.head_dim == 64)
    launch<64>(floor, a, batch.num_seqs, stream);
  else
    launch<128>(floor, a, batch.num_seqs, stream);
}

}  // namespace slidesparse
