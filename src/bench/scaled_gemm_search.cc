#include "bench/scaled_gemm_search.h"

#include <limits>

#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "gpu/device_buffer.h"

namespace slidesparse {

ScaledGemmTileChoice fastest_scaled_gemm_tile(int64_t n, int64_t k, int64_t m, int warmup, int repeat,
                                              cudaStream_t stream) {
  DeviceBuffer x(static_cast<size_t>(m * k), "GEMM search activations");
  DeviceBuffer w(static_cast<size_t>(n * k), "GEMM search weight");
  DeviceBuffer scale_x(static_cast<size_t>(m) * sizeof(float), "GEMM search activation scales");
  DeviceBuffer scale_w(static_cast<size_t>(n) * sizeof(float), "GEMM search weight scales");
  DeviceBuffer d(static_cast<size_t>(m * n) * 2, "GEMM search output");
  fill_random_codes_gpu(QuantKind::Int8, x.as<uint8_t>(), m, k, false, 11, stream);
  fill_ternary_codes_gpu(QuantKind::Int8, w.as<uint8_t>(), n, k, false, 12, stream);
  fill_random_f32_gpu(scale_x.as<float>(), m, 1e-4f, 1e-2f, 13, stream);
  fill_random_f32_gpu(scale_w.as<float>(), n, 0.5f, 2.0f, 14, stream);
  ScaledGemm gemm(n, k);
  ScaledGemmTile best = default_scaled_gemm_tile(m);
  double best_us = std::numeric_limits<double>::infinity();
  for (ScaledGemmTile tile : scaled_gemm_tiles()) {
    gemm.set_tile(m, tile);
    const double us = time_launches_us(
        [&] { gemm.run(w.data(), x.data(), scale_w.as<float>(), scale_x.as<float>(), d.as<__nv_bfloat16>(), m, stream); },
        warmup, repeat, stream);
    if (us < best_us) best_us = us, best = tile;
  }
  return {best, best_us};
}

}  // namespace slidesparse
