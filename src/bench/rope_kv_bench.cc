#include "bench/rope_kv_bench.h"

#include <algorithm>
#include <vector>

#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "kernels/acc_view.h"
#include "kernels/kv_cache.h"
#include "kernels/rope_kv.h"
#include "kernels/sampling.h"
#include "math/rope.h"
#include "sequences/sampler.h"

namespace slidesparse {

namespace {

// As in quant_bench.cc: launches rotate over operand sets totalling at least five times the 50 MB
// L2 of H100 / H200, so every launch reads from and writes to DRAM as the real step does.
constexpr size_t kRotationBytes = size_t{256} << 20;
constexpr int kMaxSets = 4096;

// BitNet-2B attention.
constexpr int kHeads = 20, kKvHeads = 5, kHeadDim = 128, kBlockSize = 16;
constexpr int kMaxPositions = 4096;
constexpr double kRopeTheta = 500000.0;

int rotation_sets(size_t set_bytes) {
  return static_cast<int>(std::clamp<size_t>((kRotationBytes + set_bytes - 1) / set_bytes, 1, kMaxSets));
}

const char* input_name(RopeInput input) {
  switch (input) {
    case RopeInput::Int32BothScales: return "int32";
    case RopeInput::Bf16ScaleX: return "bf16+sx";
    case RopeInput::Bf16Plain: return "bf16";
  }
  return "?";
}

template <typename T>
DeviceBuffer upload(const std::vector<T>& host, const char* what) {
  DeviceBuffer d(host.size() * sizeof(T), what);
  CUDA_CHECK(cudaMemcpy(d.data(), host.data(), d.bytes(), cudaMemcpyHostToDevice));
  return d;
}

BandwidthRow rope_kv_point(RopeInput input, int64_t tokens, double copy_gbps, int warmup, int repeat,
                           cudaStream_t stream) {
  const AccumulatorType type = input == RopeInput::Int32BothScales ? AccumulatorType::Int32 : AccumulatorType::BFloat16;
  constexpr int64_t kWidth = int64_t{kHeads + 2 * kKvHeads} * kHeadDim;
  const int64_t acc_bytes = type == AccumulatorType::BFloat16 ? 2 : 4;
  const int num_blocks = static_cast<int>((tokens + kBlockSize - 1) / kBlockSize);
  const int64_t acc_set = tokens * kWidth * acc_bytes, q_set = tokens * kHeads * kHeadDim * 2;
  const int64_t cache_set = int64_t{num_blocks} * kKvHeads * kBlockSize * kHeadDim * 2;  // each of K and V
  const int sets = rotation_sets(static_cast<size_t>(acc_set + q_set + 2 * cache_set));

  DeviceBuffer acc(static_cast<size_t>(sets * acc_set), "rope benchmark qkv");
  DeviceBuffer q(static_cast<size_t>(sets * q_set), "rope benchmark q");
  DeviceBuffer k(static_cast<size_t>(sets * cache_set), "rope benchmark k cache");
  DeviceBuffer v(static_cast<size_t>(sets * cache_set), "rope benchmark v cache");
  DeviceBuffer scale_x(static_cast<size_t>(tokens * 4), "rope benchmark scale_x");
  DeviceBuffer scale_w(static_cast<size_t>(kWidth * 4), "rope benchmark scale_w");
  // Timing does not depend on the values: an int32 accumulator takes fp32 bit patterns as they come.
  if (type == AccumulatorType::BFloat16)
    fill_random_bf16_gpu(acc.data(), sets * tokens * kWidth, 41, stream);
  else
    fill_random_f32_gpu(acc.as<float>(), sets * tokens * kWidth, -1e3f, 1e3f, 41, stream);
  fill_random_f32_gpu(scale_x.as<float>(), tokens, 1e-3f, 1e-2f, 42, stream);
  fill_random_f32_gpu(scale_w.as<float>(), kWidth, 0.5f, 2.0f, 43, stream);

  // A prefill: consecutive positions, token t in slot t.
  std::vector<int32_t> positions(static_cast<size_t>(tokens)), slots(static_cast<size_t>(tokens));
  for (int64_t t = 0; t < tokens; ++t) positions[t] = static_cast<int32_t>(t % kMaxPositions), slots[t] = static_cast<int32_t>(t);
  const DeviceBuffer positions_d = upload(positions, "rope benchmark positions");
  const DeviceBuffer slots_d = upload(slots, "rope benchmark slots");
  const RopeTable table = make_rope_table(kHeadDim, kMaxPositions, kRopeTheta);
  const DeviceBuffer cos = upload(table.cos, "rope benchmark cos"), sin = upload(table.sin, "rope benchmark sin");

  int set = 0;
  const double us = time_launches_us(
      [&] {
        const AccView view{type, acc.as<char>() + set * acc_set, kWidth,
                           input == RopeInput::Bf16Plain ? nullptr : scale_x.as<float>(),
                           input == RopeInput::Int32BothScales ? scale_w.as<float>() : nullptr};
        const KvCacheLayer cache{reinterpret_cast<__nv_bfloat16*>(k.as<char>() + set * cache_set),
                                 reinterpret_cast<__nv_bfloat16*>(v.as<char>() + set * cache_set), num_blocks,
                                 kBlockSize, kKvHeads, kHeadDim};
        rope_kv_write_gpu(view, tokens, positions_d.as<int32_t>(), slots_d.as<int32_t>(), cos.as<__nv_bfloat16>(),
                          sin.as<__nv_bfloat16>(), kHeads, cache,
                          reinterpret_cast<__nv_bfloat16*>(q.as<char>() + set * q_set), stream);
        set = (set + 1) % sets;
      },
      warmup, repeat, stream);
  // Position and slot (4 bytes each), scale_x where read, and the cos / sin rows (head_dim / 2 bf16
  // each) per token.
  const double per_token = (input == RopeInput::Bf16Plain ? 8.0 : 12.0) + 2.0 * kHeadDim;
  const double bytes = double(acc_set) + double(tokens * kWidth * 2) + per_token * double(tokens);
  const double gbps = bytes / us / 1e3;
  return {std::string("rope_kv ") + input_name(input), Sparsity::dense(), tokens, kWidth, us, gbps, gbps / copy_gbps, ""};
}

struct SamplingCase {
  const char* kernel;
  float temperature;
  int top_k;
  float top_p;
  int reads;  // times the kernel reads each row
};

BandwidthRow sampling_point(const SamplingCase& c, int64_t rows, int64_t vocab, int blocks_per_row, double copy_gbps,
                            int warmup, int repeat, cudaStream_t stream) {
  const int64_t set_elements = rows * vocab;
  const int sets = rotation_sets(static_cast<size_t>(set_elements * 4));
  DeviceBuffer logits(static_cast<size_t>(sets * set_elements * 4), "sampling benchmark logits");
  DeviceBuffer out(static_cast<size_t>(sets * rows * 4), "sampling benchmark output");
  DeviceBuffer params(static_cast<size_t>(rows) * sizeof(SampleRowParams), "sampling benchmark parameters");
  fill_random_f32_gpu(logits.as<float>(), sets * set_elements, -20.0f, 20.0f, 44, stream);
  SamplingParams request;
  request.temperature = c.temperature, request.top_k = c.top_k, request.top_p = c.top_p, request.seed = 1;
  std::vector<SampleRowParams> host;
  for (int64_t r = 0; r < rows; ++r) host.push_back(sample_row_params(request, r, 100));
  CUDA_CHECK(cudaMemcpyAsync(params.data(), host.data(), params.bytes(), cudaMemcpyHostToDevice, stream));
  int set = 0;
  const double us = time_launches_us(
      [&] {
        sample_rows_gpu(logits.as<float>() + set * set_elements, rows, vocab, vocab, params.as<SampleRowParams>(),
                        out.as<int32_t>() + set * rows, stream, blocks_per_row);
        set = (set + 1) % sets;
      },
      warmup, repeat, stream);
  const double gbps = double(c.reads * set_elements * 4 + rows * 4) / us / 1e3;
  const std::string name = blocks_per_row ? std::string(c.kernel) + " /" + std::to_string(blocks_per_row) : c.kernel;
  return {name, Sparsity::dense(), rows, vocab, us, gbps, gbps / copy_gbps, ""};
}

}  // namespace

std::vector<BandwidthRow> bench_rope_kv(const std::vector<RopeInput>& inputs, const std::vector<int64_t>& tokens,
                                        double copy_gbps, int warmup, int repeat, cudaStream_t stream) {
  std::vector<BandwidthRow> rows;
  for (RopeInput input : inputs)
    for (int64_t t : tokens) rows.push_back(rope_kv_point(input, t, copy_gbps, warmup, repeat, stream));
  return rows;
}

std::vector<BandwidthRow> bench_sampling(const std::vector<int64_t>& rows, int64_t vocab,
                                         const std::vector<int>& blocks_per_row, double copy_gbps, int warmup,
                                         int repeat, cudaStream_t stream) {
  // Reads of these rows (uniform in [-20, 20]): the argmax; two histogram passes per cut, the third
  // round on the crossing bucket's keys in shared memory, and after a top-k cut one pass for top-p
  // (its few tokens fit there from the start); the draw.
  static const SamplingCase cases[] = {{"argmax", 0.0f, 0, 1.0f, 1},
                                       {"sample top-p", 0.8f, 0, 0.95f, 4},
                                       {"sample top-k+top-p", 0.8f, 50, 0.95f, 5}};
  std::vector<BandwidthRow> out;
  for (const SamplingCase& c : cases)
    for (int64_t r : rows)
      for (int b : blocks_per_row) out.push_back(sampling_point(c, r, vocab, b, copy_gbps, warmup, repeat, stream));
  return out;
}

}  // namespace slidesparse
