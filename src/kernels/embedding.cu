// Embedding gather (kernels/embedding.h): one block per token, its threads copying the row in
// 16-byte pieces, several in flight per thread (a 2560-wide row is 320 pieces).
#include "kernels/embedding.h"

#include <climits>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/dependent_launch.cuh"

namespace slidesparse {

namespace {

constexpr int kThreads = 128;
constexpr int kBatch = 4;  // pieces per thread in flight

template <bool kVector>
__global__ void __launch_bounds__(kThreads) embedding_kernel(const __nv_bfloat16* __restrict__ table, int64_t vocab,
                                                             int64_t hidden, const int32_t* __restrict__ tokens,
                                                             const int32_t* __restrict__ carried_rows,
                                                             const int32_t* __restrict__ carried_tokens,
                                                             __nv_bfloat16* __restrict__ out, int32_t* error_flag) {
  begin_dependent_kernel();
  const int64_t t = blockIdx.x;
  const int32_t carried = carried_rows ? carried_rows[t] : -1;
  const int32_t id = carried >= 0 ? carried_tokens[carried] : tokens[t];
  const bool valid = id >= 0 && id < vocab;
  if (!valid && error_flag && threadIdx.x == 0) *error_flag = 1;
  if constexpr (kVector) {
    const int64_t pieces = hidden / 8;
    const uint4* src = reinterpret_cast<const uint4*>(table + (valid ? id : 0) * hidden);
    uint4* dst = reinterpret_cast<uint4*>(out + t * hidden);
    for (int64_t p0 = threadIdx.x; p0 < pieces; p0 += kBatch * kThreads) {
      uint4 v[kBatch];
#pragma unroll
      for (int b = 0; b < kBatch; ++b) {
        const int64_t p = p0 + b * kThreads;
        v[b] = valid && p < pieces ? src[p] : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int b = 0; b < kBatch; ++b)
        if (p0 + b * kThreads < pieces) dst[p0 + b * kThreads] = v[b];
    }
  } else {
    const __nv_bfloat16* src = table + (valid ? id : 0) * hidden;
    for (int64_t i = threadIdx.x; i < hidden; i += kThreads)
      out[t * hidden + i] = valid ? src[i] : __float2bfloat16_rn(0.0f);
  }
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

void embedding_gather_gpu(const __nv_bfloat16* table, int64_t vocab, int64_t hidden, const int32_t* tokens,
                          const int32_t* carried_rows, const int32_t* carried_tokens, int64_t count,
                          __nv_bfloat16* out, int32_t* error_flag, cudaStream_t stream) {
  require(vocab >= 1 && hidden >= 1 && count >= 0,
          "embedding_gather: invalid shape vocab=" + std::to_string(vocab) + " hidden=" + std::to_string(hidden) +
              " tokens=" + std::to_string(count));
  require(count <= INT_MAX, "embedding_gather: too many tokens (" + std::to_string(count) + ") for one launch");
  if (count == 0) return;
  require(table && tokens && out && (!carried_rows || carried_tokens),
          "embedding_gather: a required device pointer is null");
  const unsigned blocks = static_cast<unsigned>(count);
  if (hidden % 8 == 0 && aligned16(table) && aligned16(out))
    launch_dependent(embedding_kernel<true>, blocks, kThreads, 0, stream, table, vocab, hidden, tokens, carried_rows,
                     carried_tokens, out, error_flag);
  else
    launch_dependent(embedding_kernel<false>, blocks, kThreads, 0, stream, table, vocab, hidden, tokens, carried_rows,
                     carried_tokens, out, error_flag);
}

}  // namespace slidesparse
