// Row argmax (kernels/sampling.h): one block per row. The row is split into a scalar head up to the
// first 16-byte boundary, a body of 16-byte float4 loads (kBatch in flight per thread, so a block
// keeps 64 KB of reads outstanding: bandwidth-bound even when few rows occupy few SMs) and a scalar
// tail. Every comparison uses the full (value, index) order, so the result does not depend on
// which thread saw which element or on the reduction order.
#include "kernels/sampling.h"

#include <climits>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/dependent_launch.cuh"

namespace slidesparse {

namespace {

constexpr int kThreads = 512;
constexpr int kBatch = 8;
constexpr int32_t kNone = INT32_MAX;  // no candidate yet (only NaN seen)

struct Candidate {
  float value;
  int32_t index;
};

// Larger value first, then lower index. NaN compares false both ways, so it never replaces anything;
// -inf still beats "none" through the index.
__device__ __forceinline__ void consider(Candidate& best, float value, int32_t index) {
  if (value > best.value || (value == best.value && index < best.index)) best = {value, index};
}

__global__ void __launch_bounds__(kThreads) argmax_kernel(const float* __restrict__ logits, int64_t vocab, int64_t ld,
                                                          int32_t* __restrict__ out) {
  begin_dependent_kernel();
  __shared__ Candidate warp_best[kThreads / 32];
  const float* row = logits + int64_t{blockIdx.x} * ld;
  const int tid = static_cast<int>(threadIdx.x);
  Candidate best{-__int_as_float(0x7F800000), kNone};

  const int64_t misalignment = static_cast<int64_t>(reinterpret_cast<uintptr_t>(row) % 16 / sizeof(float));
  const int64_t head = misalignment ? (vocab < 4 - misalignment ? vocab : 4 - misalignment) : 0;
  const int64_t body = (vocab - head) / 4;  // float4 count
  if (tid < head) consider(best, row[tid], tid);

  const float4* vec = reinterpret_cast<const float4*>(row + head);
  for (int64_t v0 = tid; v0 < body; v0 += kBatch * kThreads) {
    float4 x[kBatch];
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int64_t v = v0 + b * kThreads;
      x[b] = v < body ? __ldcs(vec + v) : make_float4(__int_as_float(0x7FC00000), 0, 0, 0);
    }
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int64_t v = v0 + b * kThreads;
      if (v >= body) break;
      const int32_t i = static_cast<int32_t>(head + 4 * v);
      consider(best, x[b].x, i);
      consider(best, x[b].y, i + 1);
      consider(best, x[b].z, i + 2);
      consider(best, x[b].w, i + 3);
    }
  }
  const int64_t tail = head + 4 * body + tid;
  if (tail < vocab) consider(best, row[tail], static_cast<int32_t>(tail));

#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float value = __shfl_xor_sync(0xFFFFFFFFu, best.value, offset);
    const int32_t index = __shfl_xor_sync(0xFFFFFFFFu, best.index, offset);
    consider(best, value, index);
  }
  if (tid % 32 == 0) warp_best[tid / 32] = best;
  __syncthreads();
  if (tid == 0) {
    for (int w = 1; w < kThreads / 32; ++w) consider(best, warp_best[w].value, warp_best[w].index);
    out[blockIdx.x] = best.index == kNone ? -1 : best.index;
  }
}

}  // namespace

void argmax_rows_gpu(const float* logits, int64_t rows, int64_t vocab, int64_t ld, int32_t* out, cudaStream_t stream) {
  require(rows >= 0 && vocab >= 1 && vocab <= INT32_MAX - 1 && ld >= vocab,
          "argmax_rows: invalid shape rows=" + std::to_string(rows) + " vocab=" + std::to_string(vocab) +
              " ld=" + std::to_string(ld) + " (need 1 <= vocab < 2^31 - 1, ld >= vocab)");
  require(rows <= INT_MAX, "argmax_rows: too many rows (" + std::to_string(rows) + ") for one launch");
  if (rows == 0) return;
  require(logits && out, "argmax_rows: a required device pointer is null");
  require(reinterpret_cast<uintptr_t>(logits) % sizeof(float) == 0, "argmax_rows: logits must be 4-byte aligned");
  launch_dependent(argmax_kernel, static_cast<unsigned>(rows), kThreads, 0, stream, logits, vocab, ld, out);
}

}  // namespace slidesparse
