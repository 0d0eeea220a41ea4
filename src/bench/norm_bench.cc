#include "bench/norm_bench.h"

#include <algorithm>
#include <string>

#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "gemm/gemm_types.h"
#include "gpu/device_buffer.h"
#include "kernels/norm_quant.h"

namespace slidesparse {

namespace {

// As in quant_bench.cc: the rotation defeats the 50 MB L2 of H100 / H200.
constexpr size_t kRotationBytes = size_t{256} << 20;
constexpr int kMaxSets = 4096;
constexpr float kEps = 1e-5f;

struct NormOperands {
  int group;
  int64_t m, k, rows, out_cols;
  int sets;
  SlideGeometry geometry;
  DeviceBuffer x, residual, weight, out, scale;

  int64_t activation_bytes() const { return m * k * 2; }
  double bytes_moved() const { return double(3 * activation_bytes() + rows * out_cols + rows * 4); }
};

NormOperands make_operands(int group, int64_t m, int64_t k, cudaStream_t stream) {
  NormOperands o{group, m, k, padded_rows(m), 0, 1, make_slide_geometry(k, group ? group : 4), {}, {}, {}, {}, {}};
  o.out_cols = group ? o.geometry.k_slid : (k + 31) / 32 * 32;
  const size_t set_bytes = static_cast<size_t>(3 * o.activation_bytes() + o.rows * o.out_cols + o.rows * 4);
  o.sets = static_cast<int>(std::clamp<size_t>((kRotationBytes + set_bytes - 1) / set_bytes, 1, kMaxSets));
  o.x = DeviceBuffer(static_cast<size_t>(o.sets * o.activation_bytes()), "norm benchmark input");
  // residual_out is written in place over residual_in, as the engine does.
  o.residual = DeviceBuffer(static_cast<size_t>(o.sets * o.activation_bytes()), "norm benchmark residual");
  o.weight = DeviceBuffer(static_cast<size_t>(k * 2), "norm benchmark weight");
  o.out = DeviceBuffer(static_cast<size_t>(o.sets) * o.rows * o.out_cols, "norm benchmark codes");
  o.scale = DeviceBuffer(static_cast<size_t>(o.sets) * o.rows * 4, "norm benchmark scales");
  fill_random_bf16_gpu(o.x.data(), o.sets * m * k, 99, stream);
  fill_random_bf16_gpu(o.residual.data(), o.sets * m * k, 98, stream);
  fill_random_bf16_gpu(o.weight.data(), k, 97, stream);
  return o;
}

double time_norm(QuantKind kind, NormOperands& o, const QuantLaunchConfig& config, int warmup, int repeat,
                 cudaStream_t stream) {
  int set = 0;
  return time_launches_us(
      [&] {
        const int64_t offset = int64_t{set} * o.m * o.k;
        auto* residual = o.residual.as<__nv_bfloat16>() + offset;
        rmsnorm_quantize_gpu(kind, o.x.as<__nv_bfloat16>() + offset, residual, residual,
                             o.weight.as<__nv_bfloat16>(), o.m, o.k, kEps, o.group ? &o.geometry : nullptr, o.rows,
                             o.out_cols, o.out.as<uint8_t>() + int64_t{set} * o.rows * o.out_cols,
                             o.scale.as<float>() + int64_t{set} * o.rows, stream, config);
        set = (set + 1) % o.sets;
      },
      warmup, repeat, stream);
}

}  // namespace

std::vector<QuantBenchRow> bench_rmsnorm_quantize(QuantKind kind, const std::vector<int64_t>& ms,
                                                  const std::vector<int64_t>& ks, const std::vector<int>& groups,
                                                  int warmup, int repeat, cudaStream_t stream) {
  const double copy = measure_copy_bandwidth_gbps(stream);
  std::vector<QuantBenchRow> rows;
  for (int64_t k : ks)
    for (int group : groups)
      for (int64_t m : ms) {
        NormOperands o = make_operands(group, m, k, stream);
        QuantLaunchConfig best;
        double best_us = 1e300;
        for (const QuantLaunchConfig& c : quant_launch_candidates()) {
          const double us = time_norm(kind, o, c, std::min(warmup, 5), std::clamp(repeat / 5, 1, 20), stream);
          if (us < best_us) best_us = us, best = c;
        }
        const double us = time_norm(kind, o, best, warmup, repeat, stream);
        const double gbps = o.bytes_moved() / us / 1e3;
        rows.push_back({std::string(quant_kind_name(kind)) + "+norm", group, m, k, us, gbps, gbps / copy});
      }
  return rows;
}

}  // namespace slidesparse
