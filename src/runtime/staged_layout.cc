#include "runtime/staged_layout.h"

#include <algorithm>

#include "core/error.h"

namespace slidesparse {

StagedLayout staged_layout(int tokens, int seqs, int max_blocks_per_seq, int samples, int cudnn_seqs) {
  require(tokens >= 0 && seqs >= 0 && max_blocks_per_seq >= 0 && samples >= 0 && cudnn_seqs >= 0,
          "staged layout: negative sizes");
  StagedLayout l;
  size_t at = 0;
  // Each array starts at a 16-byte boundary (4 int32s), where the previous one ends.
  auto place = [&at](size_t& offset, size_t count) {
    offset = at;
    at = (at + count + 3) / 4 * 4;
  };
  const auto n = [](int v) { return static_cast<size_t>(v); };
  place(l.tokens, n(tokens));
  place(l.carried_rows, n(tokens));
  place(l.positions, n(tokens));
  place(l.slots, n(tokens));
  place(l.query_start, n(seqs) + 1);
  place(l.seq_len, n(std::max(seqs, cudnn_seqs)));
  place(l.block_table, n(seqs) * n(max_blocks_per_seq));
  place(l.sample_rows, n(samples));
  place(l.sample_params, n(samples) * kSampleParamInts);
  place(l.cudnn_q_offsets, cudnn_seqs ? n(cudnn_seqs) + 1 : 0);
  place(l.cudnn_kv_offsets, cudnn_seqs ? n(cudnn_seqs) + 1 : 0);
  l.end = at;
  return l;
}

}  // namespace slidesparse
