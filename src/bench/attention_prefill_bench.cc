#include "bench/attention_prefill_bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>

#include "bench/device_ceilings.h"
#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "cudnn/cudnn_library.h"
#include "cudnn/cudnn_prefill_attention.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "kernels/attention_prefill.h"

namespace slidesparse {

namespace {

constexpr int kHeads = kBitnetAttentionHeads, kKvHeads = kBitnetAttentionKvHeads, kHeadDim = kBitnetAttentionHeadDim;

template <typename T>
DeviceBuffer upload(const std::vector<T>& host, const char* what) {
  DeviceBuffer d(host.size() * sizeof(T), what);
  CUDA_CHECK(cudaMemcpy(d.data(), host.data(), d.bytes(), cudaMemcpyHostToDevice));
  return d;
}

std::vector<AttentionPrefillBenchRow> bench_point(int seqs, int seq_len, int block_size, int warmup, int repeat,
                                                  bool with_cudnn, cudaStream_t stream) {
  require(seqs > 0 && seq_len > 0, "bench attention: sequence counts and lengths must be positive");
  const int blocks_per_seq = (seq_len + block_size - 1) / block_size;
  const int num_blocks = seqs * blocks_per_seq;
  const int64_t tokens = int64_t{seqs} * seq_len;
  const int64_t cache_elems = int64_t{num_blocks} * kKvHeads * block_size * kHeadDim;

  DeviceBuffer q(static_cast<size_t>(tokens * kHeads * kHeadDim * 2), "attention benchmark q");
  DeviceBuffer out(q.bytes(), "attention benchmark out");
  DeviceBuffer k(static_cast<size_t>(cache_elems * 2), "attention benchmark k cache");
  DeviceBuffer v(static_cast<size_t>(cache_elems * 2), "attention benchmark v cache");
  fill_random_bf16_gpu(q.data(), tokens * kHeads * kHeadDim, 71, stream);
  fill_random_bf16_gpu(k.data(), cache_elems, 72, stream);
  fill_random_bf16_gpu(v.data(), cache_elems, 73, stream);

  std::vector<int32_t> starts(static_cast<size_t>(seqs) + 1), lens(static_cast<size_t>(seqs), seq_len);
  for (int s = 0; s <= seqs; ++s) starts[s] = s * seq_len;
  std::vector<int32_t> table(static_cast<size_t>(num_blocks));
  std::iota(table.begin(), table.end(), 0);
  std::shuffle(table.begin(), table.end(), std::mt19937(74));
  const DeviceBuffer starts_d = upload(starts, "attention benchmark query_start");
  const DeviceBuffer lens_d = upload(lens, "attention benchmark seq_len");
  const DeviceBuffer table_d = upload(table, "attention benchmark block_table");

  const KvCacheLayer cache{k.as<__nv_bfloat16>(), v.as<__nv_bfloat16>(), num_blocks, block_size, kKvHeads, kHeadDim};
  const AttentionBatch batch{seqs, starts_d.as<int32_t>(), lens_d.as<int32_t>(), table_d.as<int32_t>(),
                             blocks_per_seq, seq_len, seq_len};
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  const double flops = double(seqs) * kHeads * 4.0 * kHeadDim * (double(seq_len) * (seq_len + 1) / 2);
  const double peak_tflops = tensor_peaks(query_device()).bf16_tflops;

  std::vector<AttentionPrefillBenchRow> rows;
  for (int per_cta : {1, 2})
    for (int keys : {64, 32})
      for (bool q_regs : {true, false}) {
        const AttentionPrefillConfig config{per_cta, keys, q_regs};
        const double us = time_launches_us(
            [&] {
              attention_prefill_gpu(q.as<__nv_bfloat16>(), cache, batch, kHeads, scale, out.as<__nv_bfloat16>(),
                                    stream, config);
            },
            warmup, repeat, stream);
        const double tflops = flops / us / 1e6;
        rows.push_back({seqs, seq_len, block_size, per_cta, keys, q_regs, false, us / 1e3, tflops,
                        tflops / peak_tflops});
      }

  std::string why;
  if (with_cudnn && cudnn_library(&why)) {
    // As the engine runs it on fresh prompts: its bucket of sequences (a power of two; padding
    // sequences empty), packed q / out rows, the step's keys and values packed in their own rows.
    const int kv_width = 2 * kKvHeads * kHeadDim;
    DeviceBuffer kv(static_cast<size_t>(tokens * kv_width * 2), "attention benchmark packed k / v");
    fill_random_bf16_gpu(kv.data(), tokens * kv_width, 75, stream);
    const CudnnAttentionBucket bucket{cudnn_sequence_bucket(seqs, seqs), cudnn_length_bucket(seq_len, seq_len)};
    CudnnPrefillAttention attention({kHeads, kKvHeads, kHeadDim, seqs, seq_len, scale}, stream);
    if (attention.prepare(bucket, &why)) {
      std::vector<int32_t> q_offsets(static_cast<size_t>(bucket.seqs) + 1), kv_offsets(q_offsets.size());
      std::vector<int32_t> bucket_lens(static_cast<size_t>(bucket.seqs), 0);
      for (int s = 0; s <= bucket.seqs; ++s) {
        q_offsets[s] = std::min(s, seqs) * seq_len * kHeads * kHeadDim;
        kv_offsets[s] = std::min(s, seqs) * seq_len * kv_width;
        if (s < seqs) bucket_lens[s] = seq_len;
      }
      const DeviceBuffer q_offsets_d = upload(q_offsets, "attention benchmark q offsets");
      const DeviceBuffer kv_offsets_d = upload(kv_offsets, "attention benchmark kv offsets");
      const DeviceBuffer bucket_lens_d = upload(bucket_lens, "attention benchmark bucket lengths");
      const CudnnAttentionBatch cb{bucket, q_offsets_d.as<int32_t>(), kv_offsets_d.as<int32_t>(),
                                   bucket_lens_d.as<int32_t>()};
      const double us = time_launches_us(
          [&] { require(attention.run(q.as<__nv_bfloat16>(), kv.as<__nv_bfloat16>(), cb, out.as<__nv_bfloat16>(), &why), why); },
          warmup, repeat, stream);
      const double tflops = flops / us / 1e6;
      rows.push_back({seqs, seq_len, block_size, 0, 0, false, true, us / 1e3, tflops, tflops / peak_tflops});
    } else {
      std::fprintf(stderr, "bench attention: %s\n", why.c_str());
    }
  } else if (with_cudnn) {
    std::fprintf(stderr, "bench attention: no cuDNN row: %s\n", why.c_str());
  }
  return rows;
}

}  // namespace

std::vector<AttentionPrefillBenchRow> bench_attention_prefill(const std::vector<int>& seq_counts,
                                                              const std::vector<int>& seq_lens, int block_size,
                                                              int warmup, int repeat, bool with_cudnn,
                                                              cudaStream_t stream) {
  require(block_size > 0 && block_size % 16 == 0,
          "bench attention: block size " + std::to_string(block_size) + " is not a positive multiple of 16");
  std::vector<AttentionPrefillBenchRow> rows;
  for (int seqs : seq_counts)
    for (int len : seq_lens)
      for (const AttentionPrefillBenchRow& r : bench_point(seqs, len, block_size, warmup, repeat, with_cudnn, stream))
        rows.push_back(r);
  return rows;
}

AttentionPrefillChoice fastest_attention_prefill(int seqs, int seq_len, int block_size, int warmup, int repeat,
                                                 bool with_cudnn, cudaStream_t stream) {
  const auto rows = bench_point(seqs, seq_len, block_size, warmup, repeat, with_cudnn, stream);
  const auto faster = [](const auto& a, const auto& b) { return a.ms < b.ms; };
  const AttentionPrefillBenchRow* kernel = nullptr;
  for (const auto& r : rows)
    if (!r.cudnn && (!kernel || faster(r, *kernel))) kernel = &r;
  const auto best = std::min_element(rows.begin(), rows.end(), faster);
  const bool cudnn_timed = std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.cudnn; });
  return {{kernel->heads_per_cta, kernel->key_tile, kernel->q_in_registers},
          cudnn_timed ? std::optional<bool>(best->cudnn) : std::nullopt};
}

void print_attention_prefill_rows(const std::vector<AttentionPrefillBenchRow>& rows) {
  std::printf("%6s %8s %6s %10s %10s %5s %10s %9s %8s\n", "seqs", "seq_len", "block", "heads/CTA", "keys/tile", "Q",
              "ms", "TFLOP/s", "of peak");
  for (const AttentionPrefillBenchRow& r : rows)
    if (r.cudnn)
      std::printf("%6d %8d %6d %27s %10.3f %9.1f %7.1f%%\n", r.seqs, r.seq_len, r.block_size, "cuDNN SDPA", r.ms,
                  r.tflops, 100 * r.fraction_of_peak);
    else
      std::printf("%6d %8d %6d %10d %10d %5s %10.3f %9.1f %7.1f%%\n", r.seqs, r.seq_len, r.block_size,
                  r.heads_per_cta, r.key_tile, r.q_in_registers ? "regs" : "smem", r.ms, r.tflops,
                  100 * r.fraction_of_peak);
}

}  // namespace slidesparse
