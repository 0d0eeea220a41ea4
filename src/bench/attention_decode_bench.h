// Paged decode attention benchmark (`slidesparse bench attention`): microseconds per launch, eager on
// a stream and replayed inside a CUDA graph (how the engine runs it, 30 times per decode step), and
// the achieved GB/s against the device-to-device copy bandwidth. Bytes = K and V of every visible
// token of every kv head (num_seqs * context * kv_heads * head_dim * 2 bytes * 2); q, out and the
// split partials are not counted.
#pragma once

#include <cuda_runtime.h>

#include <vector>

#include "kernels/attention_decode.h"

namespace slidesparse {

struct AttentionDecodeBenchOptions {
  std::vector<int> num_seqs = {1, 8, 64, 512};
  std::vector<int> contexts = {272, 1024, 4096};  // every sequence of a point has this many tokens
  int heads = 20, kv_heads = 5, head_dim = 128, block_size = 64;  // BitNet-2B
  // batch.max_seq_len the launches are built with: 0 = each point's context; larger = the bound a
  // CUDA-graph bucket captures with (more splits launched, the surplus ones exit at once).
  int max_seq_len = 0;
  std::vector<AttentionDecodeConfig> configs = {AttentionDecodeConfig{}};  // every point runs each
  // Also time decode attention with the step's RoPE and KV write, as the engine runs it: the RoPE
  // kernel then attention, and attention_decode_rope_gpu, each on plain bf16 QKV rows and on rows
  // with both scales still to apply (FP8's form); bytes then add the QKV rows read and the fresh k
  // and v written.
  bool rope = false;
  // Also time the floors of each point without a split (bench/attention_decode_floor.h): the decode
  // kernel's grid doing nothing, and its grid copying K and V as it does, computing nothing.
  bool floors = false;
  int warmup = 30, repeat = 300;  // launches
};

// What a row timed: attention alone (rotated queries given), with the step's RoPE, or one of its
// floors (bench/attention_decode_floor.h).
enum class DecodeBenchVariant {
  Attention,
  RopeThenAttention,
  FusedRope,
  RopeThenAttentionScaled,
  FusedRopeScaled,
  FloorGrid,
  FloorStream
};
const char* decode_bench_variant_name(DecodeBenchVariant variant);

struct AttentionDecodeBenchRow {
  int num_seqs = 0, context = 0, max_seq_len = 0, splits = 0;
  AttentionDecodeConfig config;
  DecodeBenchVariant variant = DecodeBenchVariant::Attention;
  double kv_bytes = 0;
  double stream_us = 0;  // per launch, eager launches back to back
  double graph_us = 0;   // per launch, 30 launches per graph replay
  double gbps = 0;       // kv_bytes / graph_us
  double fraction_of_copy = 0;
};

// Split configurations worth comparing on a new GPU (the default first): pass them as
// options.configs to see which min_chunk / target_blocks the default should be.
std::vector<AttentionDecodeConfig> attention_decode_config_candidates();

// Runs every (num_seqs, context, config) point and prints one table to stdout (with the copy
// bandwidth it compares against); returns the rows. Each sequence's blocks are a shuffled part of
// the pool, and launches rotate over pools larger than the L2 cache, so K and V come from DRAM.
std::vector<AttentionDecodeBenchRow> run_attention_decode_bench(const AttentionDecodeBenchOptions& options,
                                                                cudaStream_t stream);

}  // namespace slidesparse
