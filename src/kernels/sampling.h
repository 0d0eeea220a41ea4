// Greedy sampling on the device: the argmax of each row of logits, so only one int32 per sequence
// crosses to the host instead of a vocabulary-wide row.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace slidesparse {

// out[r] = the index of the largest logits[r * ld + i] over i < vocab, for r < rows (out: device
// int32 [rows]). Ties go to the lowest index (the host sampler's greedy rule); NaN never wins
// (+-inf compare as usual); a row with no value other than NaN gives -1. vocab <= INT32_MAX, ld >=
// vocab, any alignment. Explicit stream, no allocation, safe inside CUDA graph capture.
void argmax_rows_gpu(const float* logits, int64_t rows, int64_t vocab, int64_t ld, int32_t* out, cudaStream_t stream);

}  // namespace slidesparse
