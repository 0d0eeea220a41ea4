// Floors for paged decode attention (`slidesparse bench attention --floors`): two kernels on the
// decode kernel's grid (one block of 128 threads per sequence and kv head, no split) with its
// shared memory per block, so as many blocks run at once, launched the same way (programmatic
// dependent launch), that do less of its work:
//   grid   - each block reads its seq_len and exits: the launch, ramp and drain of that grid.
//   stream - each block also looks up its block-table entries and copies its sequence's K and V
//            rows through shared memory in the kernel's 32-key tiles and two cp.async stages, and
//            computes nothing: the bytes as the decode kernel moves them.
// What the decode kernel takes past `stream` is its arithmetic and the latency it leaves exposed.
#pragma once

#include <cuda_runtime.h>

#include "kernels/kv_cache.h"

namespace slidesparse {

enum class DecodeFloor { Grid, Stream };

// One launch over batch's sequences (one query each, at most 512 keys: no split) and cache's kv
// heads; head_dim 64 or 128, block_size a multiple of 16. sink: a device int32 the kernels write one
// value to, so no copy is dead. Throws Error otherwise.
void attention_decode_floor_gpu(DecodeFloor floor, const KvCacheLayer& cache, const AttentionBatch& batch,
                                int* sink, cudaStream_t stream);

}  // namespace slidesparse
