#include "bench/scaled_gemm_search.h"

#include <limits>
#include <vector>

#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"

namespace slidesparse {

ScaledGemmEpilogue bitnet_engine_epilogue(const std::string& layer) {
  if (layer == "gate_up") return ScaledGemmEpilogue::Relu2Mul;
  if (layer == "o" || layer == "down") return ScaledGemmEpilogue::ResidualAdd;
  return ScaledGemmEpilogue::Plain;
}

ScaledGemmTileChoice fastest_scaled_gemm_tile(int64_t n, int64_t k, int64_t m, int warmup, int repeat,
                                              cudaStream_t stream, ScaledGemmEpilogue epilogue) {
  DeviceBuffer x(static_cast<size_t>(m * k), "GEMM search activations");
  DeviceBuffer w(static_cast<size_t>(n * k), "GEMM search weight");
  // Copies of the weight cycled through, so each launch reads it from memory (cold_weight_copies).
  std::vector<DeviceBuffer> copies;
  DeviceBuffer scale_x(static_cast<size_t>(m) * sizeof(float), "GEMM search activation scales");
  DeviceBuffer scale_w(static_cast<size_t>(n) * sizeof(float), "GEMM search weight scales");
  DeviceBuffer d(static_cast<size_t>(m * n) * 2, "GEMM search output");
  fill_random_codes_gpu(QuantKind::Int8, x.as<uint8_t>(), m, k, false, 11, stream);
  fill_ternary_codes_gpu(QuantKind::Int8, w.as<uint8_t>(), n, k, false, 12, stream);
  fill_random_f32_gpu(scale_x.as<float>(), m, 1e-4f, 1e-2f, 13, stream);
  fill_random_f32_gpu(scale_w.as<float>(), n, 0.5f, 2.0f, 14, stream);
  fill_random_bf16_gpu(d.data(), m * n, 15, stream);  // the residual stream of the residual form
  for (int c = 1; c < cold_weight_copies(w.bytes()); ++c) {
    copies.emplace_back(w.bytes(), "GEMM search weight copy");
    CUDA_CHECK(cudaMemcpyAsync(copies.back().data(), w.data(), w.bytes(), cudaMemcpyDeviceToDevice, stream));
  }
  std::vector<const void*> weights{w.data()};
  for (const DeviceBuffer& c : copies) weights.push_back(c.data());
  ScaledGemm gemm(n, k);
  ScaledGemmTile best = default_scaled_gemm_tile(m);
  double best_us = std::numeric_limits<double>::infinity();
  for (ScaledGemmTile tile : scaled_gemm_tiles()) {
    gemm.set_tile(m, tile);
    // The residual form adds into d again at every launch: the values drift, the time does not.
    size_t launch = 0;
    const double us = time_graph_us(  // as cuBLASLt's candidates are (bench/gemm_search.cc)
        [&] {
          const void* wc = weights[launch++ % weights.size()];
          const auto* sw = scale_w.as<float>();
          const auto* sx = scale_x.as<float>();
          auto* out = d.as<__nv_bfloat16>();
          switch (epilogue) {
            case ScaledGemmEpilogue::Plain: return gemm.run(wc, x.data(), sw, sx, out, m, stream);
            case ScaledGemmEpilogue::Relu2Mul: return gemm.run_relu2_mul(wc, x.data(), sw, sx, out, m, stream);
            case ScaledGemmEpilogue::ResidualAdd: return gemm.run_residual_add(wc, x.data(), sw, sx, out, m, stream);
          }
        },
        warmup, repeat, stream);
    if (us < best_us) best_us = us, best = tile;
  }
  return {best, best_us};
}

}  // namespace slidesparse
