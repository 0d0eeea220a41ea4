// Decode attention's split plan with explicit fill targets (host arithmetic, no device): the split
// count, the chunk limits, the workspace bound over every launch up to it, and the config checks.
// The default target (twice the SM count) is checked on a GPU (tests/gpu/attention_decode_test.cu).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "kernels/attention_decode.h"

namespace slidesparse {
namespace {

TEST(AttentionDecodePlan, SplitsFollowTheFillTargetWithinTheChunkLimits) {
  const AttentionDecodeConfig fill264{128, 264};
  EXPECT_EQ(attention_decode_splits(1, 5, 4096, fill264), 32);    // 53 wanted, 128-key chunks at least
  EXPECT_EQ(attention_decode_splits(16, 5, 512, fill264), 4);     // 80 blocks: four splits fill 264
  EXPECT_EQ(attention_decode_splits(16, 5, 272, fill264), 3);     // no split below 128 keys
  EXPECT_EQ(attention_decode_splits(53, 5, 512, fill264), 1);     // 265 blocks: the target is met
  EXPECT_EQ(attention_decode_splits(512, 5, 4096, fill264), 8);   // 512 keys per split at most
  EXPECT_EQ(attention_decode_splits(512, 5, 0, fill264), 1);
  // A fixed chunk: the longest sequence alone sets the count, whatever the batch and its kv heads.
  for (int num_seqs : {1, 64, 512})
    for (int kv : {1, 5}) {
      EXPECT_EQ(attention_decode_splits(num_seqs, kv, 256, AttentionDecodeConfig{128, 1024, 256}), 1);
      EXPECT_EQ(attention_decode_splits(num_seqs, kv, 257, AttentionDecodeConfig{128, 1024, 256}), 2);
      EXPECT_EQ(attention_decode_splits(num_seqs, kv, 5000, AttentionDecodeConfig{128, 1024, 256}), 20);
    }
}

TEST(AttentionDecodePlan, PartialsAreOutputsAndLogSumExps) {
  EXPECT_EQ(attention_decode_partials_bytes(7, 20, 128, 1), 0u);  // one split: no combine, no workspace
  EXPECT_EQ(attention_decode_partials_bytes(7, 20, 128, 3), size_t{7} * 20 * 3 * (128 + 1) * 4);
  EXPECT_EQ(attention_decode_partials_bytes(1, 4, 64, 2), size_t{1} * 4 * 2 * (64 + 1) * 4);
}

// The bound holds every launch of at most its sequences, any kv head count; with a fill target, fewer
// sequences can need more partials than the bound's own count (263 sequences of one kv head split in
// two where 264 take one).
TEST(AttentionDecodePlan, WorkspaceBoundCoversEveryLaunchUpToIt) {
  for (const AttentionDecodeConfig config : {AttentionDecodeConfig{16, 1}, AttentionDecodeConfig{512, 100000},
                                              AttentionDecodeConfig{64, 4096}, AttentionDecodeConfig{128, 264},
                                              AttentionDecodeConfig{128, 1024, 256}})
    for (int num_seqs : {1, 3, 64, 512})
      for (int max_len : {0, 1, 16, 272, 513, 4096, 32768})
        for (int kv : {1, 2, 5, 8, 32}) {
          SCOPED_TRACE("seqs=" + std::to_string(num_seqs) + " max_len=" + std::to_string(max_len) + " kv=" +
                       std::to_string(kv) + " min_chunk=" + std::to_string(config.min_chunk) + " target=" +
                       std::to_string(config.target_blocks) + " fixed=" + std::to_string(config.fixed_chunk));
          const int splits = attention_decode_splits(num_seqs, kv, max_len, config);
          ASSERT_GE(splits, 1);
          ASSERT_LE(splits, attention_decode_splits(num_seqs, 1, max_len, config));
          ASSERT_GE(int64_t{splits} * kAttentionDecodeMaxChunk, max_len);
          if (config.fixed_chunk == 0) {
            ASSERT_LE(int64_t{splits - 1} * config.min_chunk, std::max(max_len, 1) - 1) << "a split below min_chunk";
          }
          const int heads = kv * 4;
          const size_t bound = attention_decode_workspace_bytes(num_seqs, heads, 128, max_len, config);
          for (int fewer = 1; fewer <= num_seqs; ++fewer)
            ASSERT_GE(bound, attention_decode_partials_bytes(fewer, heads, 128,
                                                             attention_decode_splits(fewer, kv, max_len, config)))
                << "a launch of " << fewer << " sequences";
        }
  const AttentionDecodeConfig fill264{128, 264};
  ASSERT_EQ(attention_decode_splits(264, 1, 512, fill264), 1);
  ASSERT_EQ(attention_decode_splits(263, 1, 512, fill264), 2);
  EXPECT_EQ(attention_decode_workspace_bytes(264, 4, 128, 512, fill264), size_t{263} * 2 * 4 * 129 * 4);
  EXPECT_EQ(attention_decode_workspace_bytes(512, 20, 128, 272, AttentionDecodeConfig{512, 1}), 0u);
}

TEST(AttentionDecodePlan, ConfigsOutsideTheirRangesAreOneClearError) {
  const std::string ranges =
      " (need chunks that are multiples of 16 in 16..512, fixed_chunk 0 for none, and target_blocks >= 0)";
  auto message = [](const AttentionDecodeConfig& c) {
    try {
      attention_decode_splits(1, 1, 100, c);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({24, 1024}), "attention_decode: config min_chunk=24 target_blocks=1024 fixed_chunk=0" + ranges);
  EXPECT_EQ(message({1024, 1024}),
            "attention_decode: config min_chunk=1024 target_blocks=1024 fixed_chunk=0" + ranges);
  EXPECT_EQ(message({128, -1}), "attention_decode: config min_chunk=128 target_blocks=-1 fixed_chunk=0" + ranges);
  EXPECT_EQ(message({128, 1024, 24}),
            "attention_decode: config min_chunk=128 target_blocks=1024 fixed_chunk=24" + ranges);
  EXPECT_THROW(attention_decode_workspace_bytes(8, 4, 128, 100, AttentionDecodeConfig{128, 1024, 1024}), Error);
}

}  // namespace
}  // namespace slidesparse
