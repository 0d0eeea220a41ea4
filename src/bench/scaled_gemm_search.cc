#include "bench/scaled_gemm_search.h"

#include <limits>
#include <utility>
#include <vector>

#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"

namespace slidesparse {

ScaledGemmEpilogue bitnet_engine_epilogue(const std::string& layer) {
  if (layer == "gate_up") return ScaledGemmEpilogue::Relu2Mul;
  if (layer == "o" || layer == "down") return ScaledGemmEpilogue::ResidualAdd;
  return ScaledGemmEpilogue::Plain;
}

namespace {

// Random operands of one shape, m padded rows: activations, scales, and a bf16 output that is also
// the residual stream of the residual form.
struct SearchOperands {
  DeviceBuffer x, scale_x, scale_w, d;
  SearchOperands(int64_t n, int64_t k, int64_t m, cudaStream_t stream)
      : x(static_cast<size_t>(m * k), "GEMM search activations"),
        scale_x(static_cast<size_t>(m) * sizeof(float), "GEMM search activation scales"),
        scale_w(static_cast<size_t>(n) * sizeof(float), "GEMM search weight scales"),
        d(static_cast<size_t>(m * n) * 2, "GEMM search output") {
    fill_random_codes_gpu(QuantKind::Int8, x.as<uint8_t>(), m, k, false, 11, stream);
    fill_random_f32_gpu(scale_x.as<float>(), m, 1e-4f, 1e-2f, 13, stream);
    fill_random_f32_gpu(scale_w.as<float>(), n, 0.5f, 2.0f, 14, stream);
    fill_random_bf16_gpu(d.data(), m * n, 15, stream);
  }
};

// Each of `tiles` timed in CUDA graphs as cuBLASLt's candidates are (bench/gemm_search.cc);
// launch(tile_index, launch_number) runs one GEMM. Returns {index of the fastest, its us}.
template <class Launch>
std::pair<size_t, double> fastest_tile(size_t tiles, int warmup, int repeat, cudaStream_t stream, Launch&& launch) {
  size_t best = 0;
  double best_us = std::numeric_limits<double>::infinity();
  for (size_t t = 0; t < tiles; ++t) {
    // The residual form adds into d again at every launch: the values drift, the time does not.
    size_t count = 0;
    const double us = time_graph_us([&] { launch(t, count++); }, warmup, repeat, stream);
    if (us < best_us) best_us = us, best = t;
  }
  return {best, best_us};
}

}  // namespace

ScaledGemmTileChoice fastest_scaled_gemm_tile(int64_t n, int64_t k, int64_t m, int warmup, int repeat,
                                              cudaStream_t stream, ScaledGemmEpilogue epilogue) {
  SearchOperands ops(n, k, m, stream);
  DeviceBuffer w(static_cast<size_t>(n * k), "GEMM search weight");
  fill_ternary_codes_gpu(QuantKind::Int8, w.as<uint8_t>(), n, k, false, 12, stream);
  // Copies of the weight cycled through, so each launch reads it from memory (cold_weight_copies).
  std::vector<DeviceBuffer> copies;
  for (int c = 1; c < cold_weight_copies(w.bytes()); ++c) {
    copies.emplace_back(w.bytes(), "GEMM search weight copy");
    CUDA_CHECK(cudaMemcpyAsync(copies.back().data(), w.data(), w.bytes(), cudaMemcpyDeviceToDevice, stream));
  }
  std::vector<const void*> weights{w.data()};
  for (const DeviceBuffer& c : copies) weights.push_back(c.data());
  ScaledGemm gemm(n, k);
  const auto tiles = scaled_gemm_tiles();
  const auto [best, us] = fastest_tile(tiles.size(), warmup, repeat, stream, [&](size_t t, size_t launch) {
    gemm.set_tile(m, tiles[t]);
    const void* wc = weights[launch % weights.size()];
    const auto* sw = ops.scale_w.as<float>();
    const auto* sx = ops.scale_x.as<float>();
    auto* out = ops.d.as<__nv_bfloat16>();
    switch (epilogue) {
      case ScaledGemmEpilogue::Plain: return gemm.run(wc, ops.x.data(), sw, sx, out, m, stream);
      case ScaledGemmEpilogue::Relu2Mul: return gemm.run_relu2_mul(wc, ops.x.data(), sw, sx, out, m, stream);
      case ScaledGemmEpilogue::ResidualAdd: return gemm.run_residual_add(wc, ops.x.data(), sw, sx, out, m, stream);
    }
  });
  return {tiles[best], us};
}

SparseScaledGemmChoice fastest_sparse_scaled_gemm_schedule(int64_t n, int64_t k, int64_t m, int warmup, int repeat,
                                                           cudaStream_t stream, ScaledGemmEpilogue epilogue) {
  SearchOperands ops(n, k, m, stream);
  SparseScaledGemm gemm(n, k);
  // Compressed copies (half the weight's bytes) cycled through, so each launch reads its weight
  // from memory.
  const int copies = cold_weight_copies(static_cast<size_t>(n * k) / 2);
  {
    DeviceBuffer w(static_cast<size_t>(n * k), "GEMM search 2:4 weight");
    fill_ternary_codes_gpu(QuantKind::Int8, w.as<uint8_t>(), n, k, true, 12, stream);
    for (int c = 0; c < copies; ++c) gemm.add_weight(w.data(), stream);
  }
  const auto candidates = sparse_scaled_gemm_candidates(m, n, query_device().sm_count);
  const auto [best, us] = fastest_tile(candidates.size(), warmup, repeat, stream, [&](size_t t, size_t launch) {
    gemm.set_schedule(m, candidates[t]);
    const int index = static_cast<int>(launch % static_cast<size_t>(copies));
    const auto* sw = ops.scale_w.as<float>();
    const auto* sx = ops.scale_x.as<float>();
    auto* out = ops.d.as<__nv_bfloat16>();
    switch (epilogue) {
      case ScaledGemmEpilogue::Plain: return gemm.run(index, ops.x.data(), sw, sx, out, m, stream);
      case ScaledGemmEpilogue::Relu2Mul:
        return gemm.run_relu2_mul(index, ops.x.data(), sw, sx, out, m, stream);
      case ScaledGemmEpilogue::ResidualAdd:
        return gemm.run_residual_add(index, ops.x.data(), sw, sx, out, m, stream);
    }
  });
  return {candidates[best], us};
}

}  // namespace slidesparse
