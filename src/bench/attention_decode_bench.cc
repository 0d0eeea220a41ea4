#include "bench/attention_decode_bench.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>

#include "bench/attention_decode_floor.h"
#include "bench/device_ceilings.h"
#include "bench/gpu_timer.h"
#include "bench/quant_bench.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "kernels/rope_kv.h"
#include "math/rope.h"

namespace slidesparse {

namespace {

// As in quant_bench.cc: launches rotate over caches totalling 5x the 50 MB L2 of H100 / H200.
constexpr size_t kRotationBytes = size_t{256} << 20;
// One BitNet-2B decode step runs the attention once per layer.
constexpr int kLaunchesPerGraph = 30;

// A paged cache holding `sets` copies of one batch: set i owns blocks [i * per_set, (i + 1) * per_set),
// handed to the sequences in a shuffled order, and has its own block table.
struct DecodeOperands {
  int num_seqs = 0, context = 0, bound = 0, sets = 1, width = 0;
  double kv_bytes = 0;
  KvCacheLayer cache;
  DeviceBuffer k, v, q, out, seq_len, tables;
  // With options.rope: the step's QKV rows, their scales, the fresh token's positions, its slot in
  // each set's blocks ([sets][num_seqs]), and the RoPE tables.
  DeviceBuffer qkv, scale_x, scale_w, positions, slots, rope_cos, rope_sin;
  int64_t qkv_width = 0;

  AccView qkv_view(bool scaled) const {
    AccView view;
    view.type = AccumulatorType::BFloat16;
    view.data = qkv.data();
    view.ld = qkv_width;
    if (scaled) view.scale_x = scale_x.as<float>(), view.scale_w = scale_w.as<float>();
    return view;
  }

  AttentionBatch batch(int set) const {
    AttentionBatch b;
    b.num_seqs = num_seqs;
    b.seq_len = seq_len.as<int32_t>();
    b.block_table = tables.as<int32_t>() + static_cast<size_t>(set) * num_seqs * width;
    b.max_blocks_per_seq = width;
    b.max_query_len = 1;
    b.max_seq_len = bound;
    return b;
  }
};

DecodeOperands make_operands(const AttentionDecodeBenchOptions& o, int num_seqs, int context, cudaStream_t stream) {
  DecodeOperands d;
  d.num_seqs = num_seqs;
  d.context = context;
  d.bound = std::max(o.max_seq_len, context);
  d.width = (d.bound + o.block_size - 1) / o.block_size;
  d.kv_bytes = double(num_seqs) * context * o.kv_heads * o.head_dim * 2 * 2;
  const int blocks_per_seq = (context + o.block_size - 1) / o.block_size;
  const int64_t per_set = int64_t{num_seqs} * blocks_per_seq;
  const size_t block_bytes = size_t{2} * o.kv_heads * o.block_size * o.head_dim;  // one tensor, bf16
  const size_t set_bytes = 2 * block_bytes * per_set;
  d.sets = static_cast<int>(std::clamp<size_t>((kRotationBytes + set_bytes - 1) / set_bytes, 1, kLaunchesPerGraph));
  const int64_t num_blocks = per_set * d.sets;
  require(num_blocks <= INT32_MAX, "attention bench: too many cache blocks");
  d.cache = KvCacheLayer{nullptr, nullptr, static_cast<int>(num_blocks), o.block_size, o.kv_heads, o.head_dim};
  d.k = DeviceBuffer(block_bytes * num_blocks, "attention bench K cache");
  d.v = DeviceBuffer(block_bytes * num_blocks, "attention bench V cache");
  d.cache.k = d.k.as<__nv_bfloat16>();
  d.cache.v = d.v.as<__nv_bfloat16>();
  const int64_t q_elems = int64_t{num_seqs} * o.heads * o.head_dim;
  d.q = DeviceBuffer(q_elems * 2, "attention bench q");
  d.out = DeviceBuffer(q_elems * 2, "attention bench out");
  fill_random_bf16_gpu(d.k.data(), static_cast<int64_t>(block_bytes / 2) * num_blocks, 21, stream);
  fill_random_bf16_gpu(d.v.data(), static_cast<int64_t>(block_bytes / 2) * num_blocks, 22, stream);
  fill_random_bf16_gpu(d.q.data(), q_elems, 23, stream);

  const std::vector<int32_t> lens(static_cast<size_t>(num_seqs), context);
  std::vector<int32_t> tables(static_cast<size_t>(d.sets) * num_seqs * d.width, -1);
  std::mt19937 rng(7);
  std::vector<int32_t> order(static_cast<size_t>(per_set));
  for (int set = 0; set < d.sets; ++set) {
    std::iota(order.begin(), order.end(), static_cast<int32_t>(set * per_set));
    std::shuffle(order.begin(), order.end(), rng);
    for (int s = 0; s < num_seqs; ++s)
      std::copy_n(order.begin() + int64_t{s} * blocks_per_seq, blocks_per_seq,
                  tables.begin() + (int64_t{set} * num_seqs + s) * d.width);
  }
  if (o.rope) {
    d.qkv_width = int64_t{o.heads + 2 * o.kv_heads} * o.head_dim;
    d.qkv = DeviceBuffer(num_seqs * d.qkv_width * 2, "attention bench qkv");
    d.scale_x = DeviceBuffer(size_t(num_seqs) * 4, "attention bench scale_x");
    d.scale_w = DeviceBuffer(d.qkv_width * 4, "attention bench scale_w");
    fill_random_bf16_gpu(d.qkv.data(), num_seqs * d.qkv_width, 24, stream);
    fill_random_f32_gpu(d.scale_x.as<float>(), num_seqs, 0.5f, 2.0f, 25, stream);
    fill_random_f32_gpu(d.scale_w.as<float>(), d.qkv_width, 0.5f, 2.0f, 26, stream);
    const std::vector<int32_t> positions(static_cast<size_t>(num_seqs), context - 1);
    std::vector<int32_t> slots;  // key context - 1 of each sequence, in each set's blocks
    for (int set = 0; set < d.sets; ++set)
      for (int s = 0; s < num_seqs; ++s)
        slots.push_back(tables[(int64_t{set} * num_seqs + s) * d.width + (context - 1) / o.block_size] *
                            o.block_size +
                        (context - 1) % o.block_size);
    const RopeTable rope = make_rope_table(o.head_dim, d.bound, 500000.0);
    d.positions = DeviceBuffer(positions.size() * 4, "attention bench positions");
    d.slots = DeviceBuffer(slots.size() * 4, "attention bench slots");
    d.rope_cos = DeviceBuffer(rope.cos.size() * 2, "attention bench rope cos");
    d.rope_sin = DeviceBuffer(rope.sin.size() * 2, "attention bench rope sin");
    CUDA_CHECK(cudaMemcpyAsync(d.positions.data(), positions.data(), d.positions.bytes(), cudaMemcpyHostToDevice,
                               stream));
    CUDA_CHECK(cudaMemcpyAsync(d.slots.data(), slots.data(), d.slots.bytes(), cudaMemcpyHostToDevice, stream));
    CUDA_CHECK(cudaMemcpyAsync(d.rope_cos.data(), rope.cos.data(), d.rope_cos.bytes(), cudaMemcpyHostToDevice, stream));
    CUDA_CHECK(cudaMemcpyAsync(d.rope_sin.data(), rope.sin.data(), d.rope_sin.bytes(), cudaMemcpyHostToDevice, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));  // the host vectors go out of scope
  }
  d.seq_len = DeviceBuffer(lens.size() * 4, "attention bench seq_len");
  d.tables = DeviceBuffer(tables.size() * 4, "attention bench block tables");
  CUDA_CHECK(cudaMemcpyAsync(d.seq_len.data(), lens.data(), d.seq_len.bytes(), cudaMemcpyHostToDevice, stream));
  CUDA_CHECK(cudaMemcpyAsync(d.tables.data(), tables.data(), d.tables.bytes(), cudaMemcpyHostToDevice, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));  // the host vectors go out of scope
  return d;
}

bool is_floor(DecodeBenchVariant variant) {
  return variant == DecodeBenchVariant::FloorGrid || variant == DecodeBenchVariant::FloorStream;
}

AttentionDecodeBenchRow time_point(const AttentionDecodeBenchOptions& o, const DecodeOperands& d,
                                   const AttentionDecodeConfig& config, DecodeBenchVariant variant,
                                   cudaStream_t stream) {
  AttentionDecodeBenchRow row;
  row.variant = variant;
  row.num_seqs = d.num_seqs;
  row.context = d.context;
  row.max_seq_len = d.bound;
  row.splits = attention_decode_splits(d.num_seqs, o.kv_heads, d.bound, config);
  row.config = config;
  const bool floor = is_floor(variant);
  const bool with_rope = variant != DecodeBenchVariant::Attention && !floor;
  const bool scaled =
      variant == DecodeBenchVariant::RopeThenAttentionScaled || variant == DecodeBenchVariant::FusedRopeScaled;
  const bool fused = variant == DecodeBenchVariant::FusedRope || variant == DecodeBenchVariant::FusedRopeScaled;
  // With the RoPE: the QKV rows read and the fresh k and v written, the work both ways must do.
  row.kv_bytes = d.kv_bytes + (with_rope ? double(d.num_seqs) * (d.qkv_width + 2 * o.kv_heads * o.head_dim) * 2 : 0);
  if (variant == DecodeBenchVariant::FloorGrid) row.kv_bytes = 0;
  DeviceBuffer sink(16, "attention bench floor sink");
  DeviceBuffer workspace(attention_decode_workspace_bytes(d.num_seqs, o.heads, o.head_dim, d.bound, config),
                         "attention bench workspace");
  const float scale = 1.0f / std::sqrt(static_cast<float>(o.head_dim));
  const AccView qkv = with_rope ? d.qkv_view(scaled) : AccView{};
  auto launch = [&](int set, cudaStream_t s) {
    if (floor) {
      attention_decode_floor_gpu(variant == DecodeBenchVariant::FloorGrid ? DecodeFloor::Grid : DecodeFloor::Stream,
                                 d.cache, d.batch(set), sink.as<int>(), s);
      return;
    }
    const int32_t* slots = with_rope ? d.slots.as<int32_t>() + int64_t{set} * d.num_seqs : nullptr;
    if (fused) {
      attention_decode_rope_gpu({qkv, d.positions.as<int32_t>(), slots, d.rope_cos.as<__nv_bfloat16>(),
                                 d.rope_sin.as<__nv_bfloat16>()},
                                d.cache, d.batch(set), o.heads, scale, d.out.as<__nv_bfloat16>(), workspace.data(),
                                workspace.bytes(), s, config);
      return;
    }
    if (with_rope)
      rope_kv_write_gpu(qkv, d.num_seqs, d.positions.as<int32_t>(), slots, d.rope_cos.as<__nv_bfloat16>(),
                        d.rope_sin.as<__nv_bfloat16>(), o.heads, d.cache, d.q.as<__nv_bfloat16>(), s);
    attention_decode_gpu(d.q.as<__nv_bfloat16>(), d.cache, d.batch(set), o.heads, scale, d.out.as<__nv_bfloat16>(),
                         workspace.data(), workspace.bytes(), s, config);
  };

  int set = 0;
  row.stream_us = time_launches_us(
      [&] {
        launch(set, stream);
        set = (set + 1) % d.sets;
      },
      o.warmup, o.repeat, stream);

  // Capture needs a stream of its own (the legacy default stream cannot be captured).
  cudaStream_t capture;
  CUDA_CHECK(cudaStreamCreateWithFlags(&capture, cudaStreamNonBlocking));
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  CUDA_CHECK(cudaStreamBeginCapture(capture, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < kLaunchesPerGraph; ++i) launch(i % d.sets, capture);
  CUDA_CHECK(cudaStreamEndCapture(capture, &graph));
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  const int warmup = std::max(1, o.warmup / kLaunchesPerGraph), repeat = std::max(1, o.repeat / kLaunchesPerGraph);
  row.graph_us =
      time_launches_us([&] { CUDA_CHECK(cudaGraphLaunch(exec, capture)); }, warmup, repeat, capture) /
      kLaunchesPerGraph;
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(capture);
  row.gbps = row.kv_bytes / row.graph_us / 1e3;
  return row;
}

}  // namespace

const char* decode_bench_variant_name(DecodeBenchVariant variant) {
  switch (variant) {
    case DecodeBenchVariant::Attention: return "attention";
    case DecodeBenchVariant::RopeThenAttention: return "rope,attn";
    case DecodeBenchVariant::FusedRope: return "fused";
    case DecodeBenchVariant::RopeThenAttentionScaled: return "rope,attn/s";
    case DecodeBenchVariant::FusedRopeScaled: return "fused/s";
    case DecodeBenchVariant::FloorGrid: return "floor:grid";
    case DecodeBenchVariant::FloorStream: return "floor:copy";
  }
  return "?";
}

std::vector<AttentionDecodeConfig> attention_decode_config_candidates() {
  // The default; its fill target with smaller and larger chunks; a fixed target of ~8 blocks per SM;
  // no split below the longest chunk.
  return {AttentionDecodeConfig{}, AttentionDecodeConfig{64, 0}, AttentionDecodeConfig{256, 0},
          AttentionDecodeConfig{128, 1024}, AttentionDecodeConfig{512, 1}};
}

std::vector<AttentionDecodeBenchRow> run_attention_decode_bench(const AttentionDecodeBenchOptions& o,
                                                                cudaStream_t stream) {
  require(o.heads > 0 && o.kv_heads > 0 && o.warmup >= 0 && o.repeat >= 1 && !o.configs.empty(),
          "attention bench: heads, kv_heads and repeat must be positive, with at least one config");
  const double copy = device_ceilings(stream).copy_gbps;
  std::printf("attention decode: H=%d KV=%d D=%d block=%d; device-to-device copy %.0f GB/s (read + written)\n",
              o.heads, o.kv_heads, o.head_dim, o.block_size, copy);
  if (o.floors)
    std::printf("floors (points without a split): floor:grid = the decode grid, each block reading its seq_len;\n"
                "floor:copy = the same grid copying K and V through shared memory as the kernel does, no arithmetic\n");
  if (o.rope)
    std::printf("variants: rope,attn = the RoPE + KV-write kernel then attention; fused = attention_decode_rope_gpu;\n"
                "/s = QKV rows with both scales still to apply (FP8's form); their MB add the QKV rows read and the\n"
                "fresh k and v written\n");
  std::printf("%6s %6s %6s %6s %9s %8s %11s %9s %10s %10s %8s %8s\n", "seqs", "ctx", "bound", "splits", "min_chunk",
              "target", "variant", "MB", "us stream", "us graph", "GB/s", "of copy");
  std::vector<DecodeBenchVariant> variants = {DecodeBenchVariant::Attention};
  if (o.rope)
    variants.insert(variants.end(), {DecodeBenchVariant::RopeThenAttention, DecodeBenchVariant::FusedRope,
                                     DecodeBenchVariant::RopeThenAttentionScaled, DecodeBenchVariant::FusedRopeScaled});
  if (o.floors) variants.insert(variants.end(), {DecodeBenchVariant::FloorGrid, DecodeBenchVariant::FloorStream});
  std::vector<AttentionDecodeBenchRow> rows;
  for (int context : o.contexts)
    for (int num_seqs : o.num_seqs) {
      require(context >= 1 && num_seqs >= 1, "attention bench: contexts and sequence counts must be positive");
      const DecodeOperands d = make_operands(o, num_seqs, context, stream);
      for (const AttentionDecodeConfig& config : o.configs)
        for (DecodeBenchVariant variant : variants) {
          if (is_floor(variant) && attention_decode_splits(num_seqs, o.kv_heads, d.bound, config) > 1)
            continue;  // the floors run the grid without a split
          AttentionDecodeBenchRow r = time_point(o, d, config, variant, stream);
          r.fraction_of_copy = r.gbps / copy;
          const std::string target = config.target_blocks > 0 ? std::to_string(config.target_blocks) : "2xSMs";
          std::printf("%6d %6d %6d %6d %9d %8s %11s %9.1f %10.2f %10.2f %8.0f %7.1f%%\n", r.num_seqs, r.context,
                      r.max_seq_len, r.splits, config.min_chunk, target.c_str(), decode_bench_variant_name(variant),
                      r.kv_bytes / 1e6, r.stream_us, r.graph_us, r.gbps, 100 * r.fraction_of_copy);
          std::fflush(stdout);
          rows.push_back(r);
        }
    }
  return rows;
}

}  // namespace slidesparse
