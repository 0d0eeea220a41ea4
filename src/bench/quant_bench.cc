#include "bench/quant_bench.h"

#include <algorithm>

#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "gemm/gemm_types.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"

namespace slidesparse {

namespace {

// Enough input sets that the rotation does not fit in the 50 MB L2: we measure DRAM, not the cache.
constexpr size_t kRotationBytes = size_t{256} << 20;

struct QuantOperands {
  int64_t m, k, rows, out_cols;
  int sets;
  SlideGeometry geometry;
  DeviceBuffer x, out, scale;
};

QuantOperands make_operands(int group, int64_t m, int64_t k, cudaStream_t stream) {
  QuantOperands o{m, k, padded_rows(m), 0, 1, make_slide_geometry(k, group ? group : 4), {}, {}, {}};
  o.out_cols = group ? o.geometry.k_slid : (k + 31) / 32 * 32;
  const size_t set_bytes = static_cast<size_t>(m * k * 2 + o.rows * o.out_cols);
  o.sets = static_cast<int>(std::clamp<size_t>(kRotationBytes / set_bytes, 1, 16));
  o.x = DeviceBuffer(static_cast<size_t>(o.sets) * m * k * 2, "quant benchmark input");
  o.out = DeviceBuffer(static_cast<size_t>(o.sets) * o.rows * o.out_cols, "quant benchmark output");
  o.scale = DeviceBuffer(static_cast<size_t>(o.sets) * o.rows * 4, "quant benchmark scales");
  fill_random_bf16_gpu(o.x.data(), o.sets * m * k, 99, stream);
  return o;
}

double time_quant(QuantKind kind, int group, QuantOperands& o, const QuantLaunchConfig& config, int warmup,
                  int repeat, cudaStream_t stream) {
  int set = 0;
  return time_launches_us(
      [&] {
        const auto* x = o.x.as<__nv_bfloat16>() + int64_t{set} * o.m * o.k;
        uint8_t* out = o.out.as<uint8_t>() + int64_t{set} * o.rows * o.out_cols;
        float* scale = o.scale.as<float>() + int64_t{set} * o.rows;
        if (group)
          quantize_slide_rows_gpu(kind, o.geometry, x, o.m, o.rows, out, scale, stream, config);
        else
          quantize_rows_gpu(kind, x, o.m, o.k, o.rows, o.out_cols, out, scale, stream, config);
        set = (set + 1) % o.sets;
      },
      warmup, repeat, stream);
}

}  // namespace

double measure_copy_bandwidth_gbps(cudaStream_t stream) {
  constexpr size_t kBytes = size_t{1} << 30;
  DeviceBuffer a(kBytes, "copy benchmark source"), b(kBytes, "copy benchmark destination");
  CUDA_CHECK(cudaMemsetAsync(a.data(), 1, kBytes, stream));
  std::vector<double> runs;
  for (int i = 0; i < 5; ++i)
    runs.push_back(time_launches_us(
        [&] { CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), kBytes, cudaMemcpyDeviceToDevice, stream)); }, 1, 3,
        stream));
  std::sort(runs.begin(), runs.end());
  return 2.0 * double(kBytes) / runs[2] / 1e3;
}

std::vector<QuantBenchRow> bench_activation_quant(QuantKind kind, const std::vector<int64_t>& ms,
                                                  const std::vector<int64_t>& ks, const std::vector<int>& groups,
                                                  int warmup, int repeat, cudaStream_t stream) {
  const double copy = measure_copy_bandwidth_gbps(stream);
  std::vector<QuantBenchRow> rows;
  for (int64_t k : ks)
    for (int group : groups)
      for (int64_t m : ms) {
        QuantOperands o = make_operands(group, m, k, stream);
        const QuantLaunchConfig best = best_quant_config(kind, group, m, k, 3, 10, stream);
        const double us = time_quant(kind, group, o, best, warmup, repeat, stream);
        const double bytes = double(m * k * 2 + o.rows * o.out_cols + o.rows * 4);
        const double gbps = bytes / us / 1e3;
        rows.push_back({std::string(quant_kind_name(kind)), group, m, k, us, gbps, gbps / copy});
      }
  return rows;
}

QuantLaunchConfig best_quant_config(QuantKind kind, int group, int64_t m, int64_t k, int warmup, int repeat,
                                    cudaStream_t stream) {
  QuantOperands o = make_operands(group, m, k, stream);
  QuantLaunchConfig best;
  double best_us = 1e30;
  for (const auto& c : quant_launch_candidates()) {
    const double us = time_quant(kind, group, o, c, warmup, repeat, stream);
    if (us < best_us) best_us = us, best = c;
  }
  return best;
}

}  // namespace slidesparse
