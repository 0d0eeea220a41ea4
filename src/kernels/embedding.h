// Token embedding lookup: the first op of the forward pass.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace slidesparse {

// out[t] = table[tokens[t]] for t < count: rows of `hidden` bf16 values (table [vocab, hidden], out
// [count, hidden], both row-major; tokens: device int32 [count]).
// With carried_rows (device int32 [count], or null), a row t with carried_rows[t] >= 0 takes its id
// from carried_tokens[carried_rows[t]] instead: tokens sampled on the device by the previous step,
// for a step that was launched before the host knew them.
// An id outside [0, vocab) reads nothing: its row of out is written as zeros and, when error_flag
// is not null, the device int32 *error_flag is set to 1. The kernel never clears the flag: the
// caller zeroes it (cudaMemsetAsync) when it wants to start watching, and checks it after
// synchronizing, e.g. once per step (a non-zero flag means some token id was invalid).
// 16-byte copies when hidden % 8 == 0 and both tensors are 16-byte aligned, element copies
// otherwise. Explicit stream, no allocation, safe inside CUDA graph capture.
void embedding_gather_gpu(const __nv_bfloat16* table, int64_t vocab, int64_t hidden, const int32_t* tokens,
                          const int32_t* carried_rows, const int32_t* carried_tokens, int64_t count,
                          __nv_bfloat16* out, int32_t* error_flag, cudaStream_t stream);

}  // namespace slidesparse
