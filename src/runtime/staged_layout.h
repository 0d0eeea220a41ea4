// Where one step's arrays sit in the model runner's staging buffers (pinned host and device): back
// to back in one block, so that a single copy moves all of a step's arrays to the device. The layout
// is a function of the step's shape alone, so a decode graph captured for a bucket reads its arrays
// where every later step of that bucket stages them.
#pragma once

#include <cstddef>

#include "math/token_sampling.h"

namespace slidesparse {

inline constexpr size_t kSampleParamInts = sizeof(SampleRowParams) / sizeof(int32_t);

struct StagedLayout {  // offsets in int32s from the block's start, each at a 16-byte boundary
  size_t tokens = 0, carried_rows = 0, positions = 0, slots = 0;  // [tokens] each
  size_t query_start = 0;                                          // [seqs + 1]
  size_t seq_len = 0;                                              // [max(seqs, cudnn_seqs)]
  size_t block_table = 0;                                          // [seqs * max_blocks_per_seq]
  size_t sample_rows = 0;                                          // [samples]
  size_t sample_params = 0;  // [samples] SampleRowParams, kSampleParamInts int32s each
  size_t cudnn_q_offsets = 0, cudnn_kv_offsets = 0;                // [cudnn_seqs + 1] each, or nothing
  size_t end = 0;                                                  // int32s the block spans
};

// cudnn_seqs: the sequences of cuDNN's attention bucket, 0 when the step does not run cuDNN (its
// padding sequences read a seq_len entry too).
StagedLayout staged_layout(int tokens, int seqs, int max_blocks_per_seq, int samples, int cudnn_seqs);

}  // namespace slidesparse
