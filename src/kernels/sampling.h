// Next-token sampling on the device: each sampled row of logits becomes one int32 token, so only
// the tokens cross to the host, never a vocabulary-wide row.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "math/token_sampling.h"

namespace slidesparse {

// out[r] = the index of the largest logits[r * ld + i] over i < vocab, for r < rows (out: device
// int32 [rows]). Ties go to the lowest index; NaN never wins (+-inf compare as usual); a row with no
// value other than NaN gives -1. vocab <= INT32_MAX - 1, ld >= vocab, 4-byte aligned logits.
// Explicit stream, no allocation, safe inside CUDA graph capture. blocks_per_row: how many blocks
// share each row, in a thread-block cluster (1, 2, 4 or 8; more than 1 needs compute capability 9.0);
// 0 picks sampling_blocks_per_row for the rows and the current device. Every choice gives the same
// tokens.
void argmax_rows_gpu(const float* logits, int64_t rows, int64_t vocab, int64_t ld, int32_t* out, cudaStream_t stream,
                     int blocks_per_row = 0);

// out[r] = the token math/token_sampling.h's rule draws from row r with params[r] (device
// SampleRowParams [rows]): the argmax above for greedy rows, and for the others the same token as
// the CPU Sampler. A row whose largest logit is +inf, or whose logits are all NaN, takes the argmax
// rule's answer. params null: every row greedy (argmax_rows_gpu). Same shapes and guarantees as
// argmax_rows_gpu; params 8-byte aligned.
void sample_rows_gpu(const float* logits, int64_t rows, int64_t vocab, int64_t ld, const SampleRowParams* params,
                     int32_t* out, cudaStream_t stream, int blocks_per_row = 0);

// The blocks per row the launch picks by default (docs/PERF.md, "Sampling on the device"): the most
// of 8, 4 and 2 that leaves one block per SM; else 2 where the pairs fit in one wave (`sms` x
// `blocks_per_sm` resident blocks); else 1. 1 below compute capability 9.0 (no clusters). More blocks
// than that add each block's fixed costs (its share of the scans, the reads across the cluster)
// without more bandwidth.
int sampling_blocks_per_row(int64_t rows, int sms, int blocks_per_sm, int cc_major);

}  // namespace slidesparse
