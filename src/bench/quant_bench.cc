#include "bench/quant_bench.h"

#include <algorithm>

#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "gemm/gemm_types.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"

namespace slidesparse {

namespace {

// Launches rotate over input/output sets totalling at least this much, five times the 50 MB L2 of
// H100 / H200: every launch reads x from DRAM, as the real layer does, not from the cache.
constexpr size_t kRotationBytes = size_t{256} << 20;
constexpr int kMaxSets = 4096;

// Operands of one (sparsity, M, K) point; dense is plain quantization into ceil32(K) columns.
struct QuantOperands {
  Sparsity sparsity;
  int64_t m, k, rows, out_cols;
  int sets;
  SlideGeometry geometry;
  DeviceBuffer x, out, scale;

  double bytes_moved() const { return double(m * k * 2 + rows * out_cols + rows * 4); }
};

QuantOperands make_operands(Sparsity sparsity, int64_t m, int64_t k, cudaStream_t stream) {
  QuantOperands o{sparsity, m, k, padded_rows(m), 0, 1, make_slide_geometry(k, sparsity.slide_group()), {}, {}, {}};
  o.out_cols = sparsity.is_dense() ? (k + 31) / 32 * 32 : sparse_gemm_k(o.geometry.k_slid);
  const size_t set_bytes = static_cast<size_t>(m * k * 2 + o.rows * o.out_cols + o.rows * 4);
  o.sets = static_cast<int>(std::clamp<size_t>((kRotationBytes + set_bytes - 1) / set_bytes, 1, kMaxSets));
  o.x = DeviceBuffer(static_cast<size_t>(o.sets) * m * k * 2, "quant benchmark input");
  o.out = DeviceBuffer(static_cast<size_t>(o.sets) * o.rows * o.out_cols, "quant benchmark output");
  o.scale = DeviceBuffer(static_cast<size_t>(o.sets) * o.rows * 4, "quant benchmark scales");
  fill_random_bf16_gpu(o.x.data(), o.sets * m * k, 99, stream);
  return o;
}

// Mean microseconds per launch, each launch on the next set.
double time_quant(QuantKind kind, QuantOperands& o, const QuantLaunchConfig& config, int warmup, int repeat,
                  cudaStream_t stream) {
  int set = 0;
  return time_launches_us(
      [&] {
        const auto* x = o.x.as<__nv_bfloat16>() + int64_t{set} * o.m * o.k;
        uint8_t* out = o.out.as<uint8_t>() + int64_t{set} * o.rows * o.out_cols;
        float* scale = o.scale.as<float>() + int64_t{set} * o.rows;
        if (!o.sparsity.is_dense())
          quantize_slide_rows_gpu(kind, o.geometry, x, o.m, o.rows, o.out_cols, out, scale, stream, config);
        else
          quantize_rows_gpu(kind, x, o.m, o.k, o.rows, o.out_cols, out, scale, stream, config);
        set = (set + 1) % o.sets;
      },
      warmup, repeat, stream);
}

QuantLaunchConfig fastest_config(QuantKind kind, QuantOperands& o, int warmup, int repeat, cudaStream_t stream) {
  return fastest_launch_config(
      [&](const QuantLaunchConfig& c) { return time_quant(kind, o, c, warmup, repeat, stream); });
}

}  // namespace

QuantLaunchConfig fastest_launch_config(const std::function<double(const QuantLaunchConfig&)>& time_us) {
  QuantLaunchConfig best;
  double best_us = 1e300;
  for (const QuantLaunchConfig& c : quant_launch_candidates()) {
    const double us = time_us(c);
    if (us < best_us) best_us = us, best = c;
  }
  return best;
}

std::vector<BandwidthRow> bench_activation_quant(QuantKind kind, const std::vector<int64_t>& ms,
                                                 const std::vector<int64_t>& ks, const std::vector<Sparsity>& sparsities,
                                                 double copy_gbps, int warmup, int repeat, cudaStream_t stream) {
  std::vector<BandwidthRow> rows;
  for (int64_t k : ks)
    for (const Sparsity sparsity : sparsities)
      for (int64_t m : ms) {
        QuantOperands o = make_operands(sparsity, m, k, stream);
        // Screen the launch candidates briefly, then time the fastest in full.
        const QuantLaunchConfig best = fastest_config(kind, o, std::min(warmup, 5), std::clamp(repeat / 5, 1, 20), stream);
        const double us = time_quant(kind, o, best, warmup, repeat, stream);
        const double gbps = o.bytes_moved() / us / 1e3;
        rows.push_back({std::string(quant_kind_name(kind)), sparsity, m, k, us, gbps, gbps / copy_gbps, quant_launch_name(best)});
      }
  return rows;
}

QuantLaunchConfig best_quant_config(QuantKind kind, Sparsity sparsity, int64_t m, int64_t k, int warmup, int repeat,
                                    cudaStream_t stream) {
  QuantOperands o = make_operands(sparsity, m, k, stream);
  return fastest_config(kind, o, warmup, repeat, stream);
}

}  // namespace slidesparse
