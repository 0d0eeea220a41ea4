// How decode attention cuts each sequence's keys into splits, and the workspace that takes (the
// API in attention_decode.h): host arithmetic, testable without a GPU but for the default fill
// target, which is twice the device's SM count. The kernels derive each sequence's own cut from
// its device seq_len with the same min_chunk / fixed_chunk (attention_decode.cu, plan_splits).
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/device_info.h"
#include "kernels/attention_decode.h"

namespace slidesparse {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void check_config(const AttentionDecodeConfig& c) {
  auto chunk_ok = [](int chunk) {
    return chunk >= kAttentionDecodeKeyGroup && chunk % kAttentionDecodeKeyGroup == 0 &&
           chunk <= kAttentionDecodeMaxChunk;
  };
  require(chunk_ok(c.min_chunk) && c.target_blocks >= 0 && (c.fixed_chunk == 0 || chunk_ok(c.fixed_chunk)),
          "attention_decode: config min_chunk=" + std::to_string(c.min_chunk) + " target_blocks=" +
              std::to_string(c.target_blocks) + " fixed_chunk=" + std::to_string(c.fixed_chunk) +
              " (need chunks that are multiples of " + std::to_string(kAttentionDecodeKeyGroup) + " in " +
              std::to_string(kAttentionDecodeKeyGroup) + ".." + std::to_string(kAttentionDecodeMaxChunk) +
              ", fixed_chunk 0 for none, and target_blocks >= 0)");
}

// The fill target of a launch: the config's, or for 0 twice the device's SM count (asked once per
// process: the engine runs on one device).
int64_t target_blocks(const AttentionDecodeConfig& c) {
  if (c.target_blocks > 0) return c.target_blocks;
  static const int sms = current_device_sm_count();
  return 2 * int64_t{sms};
}

// attention_decode_splits on a checked config.
int splits_of(int num_seqs, int kv_heads, int max_seq_len, const AttentionDecodeConfig& config) {
  const int64_t max_len = std::max(max_seq_len, 1);
  if (config.fixed_chunk > 0) return static_cast<int>(ceil_div(max_len, config.fixed_chunk));
  const int64_t units = std::max<int64_t>(int64_t{num_seqs} * kv_heads, 1);
  const int64_t fill = ceil_div(target_blocks(config), units);
  const int64_t needed = ceil_div(max_len, kAttentionDecodeMaxChunk);  // no split beyond the max chunk
  const int64_t most = ceil_div(max_len, config.min_chunk);            // no split below min_chunk
  return static_cast<int>(std::max<int64_t>(1, std::min(std::max(fill, needed), most)));
}

}  // namespace

int attention_decode_splits(int num_seqs, int kv_heads, int max_seq_len, const AttentionDecodeConfig& config) {
  check_config(config);
  return splits_of(num_seqs, kv_heads, max_seq_len, config);
}

size_t attention_decode_partials_bytes(int num_seqs, int heads, int head_dim, int splits) {
  if (splits <= 1) return 0;
  const size_t rows = static_cast<size_t>(num_seqs) * heads * splits;
  return (rows * head_dim + rows) * sizeof(float);
}

size_t attention_decode_workspace_bytes(int num_seqs, int heads, int head_dim, int max_seq_len,
                                        const AttentionDecodeConfig& config) {
  // One kv head gives the most splits (the fill target is reached last). A launch with fewer
  // sequences may split more, and sequences x splits can exceed this bound's (264 blocks: 512
  // sequences x 1 split, 263 x 2): the largest over every count up to the bound.
  check_config(config);
  size_t most = 0;
  for (int seqs = 1; seqs <= num_seqs; ++seqs)
    most = std::max(most, attention_decode_partials_bytes(seqs, heads, head_dim,
                                                          splits_of(seqs, 1, max_seq_len, config)));
  return most;
}

}  // namespace slidesparse
