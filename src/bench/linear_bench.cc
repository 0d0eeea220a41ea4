#include "bench/linear_bench.h"

#include <cstdio>
#include <map>
#include <memory>

#include "bench/gpu_timer.h"
#include "bench/kernel_bench.h"
#include "bench/random_fill.h"
#include "gemm/w8a8_linear.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "io/results_layout.h"

namespace slidesparse {

std::vector<LinearBenchRow> run_linear_bench(QuantKind kind, const std::vector<int64_t>& ms,
                                             const std::vector<Sparsity>& sparsities, int warmup, int repeat,
                                             const TuningDatabase* db) {
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  int64_t max_m = 0;
  for (int64_t m : ms) max_m = std::max(max_m, m);
  const int64_t rows = padded_rows(max_m);
  std::vector<std::pair<std::string, Sparsity>> backends{
      {results_layout::kernel_backend_label(Sparsity::dense()), Sparsity::dense()}};
  for (const Sparsity s : sparsities) backends.push_back({results_layout::kernel_backend_label(s), s});

  DeviceBuffer x(static_cast<size_t>(rows) * 6912 * 2, "benchmark activations");
  DeviceBuffer y(static_cast<size_t>(rows) * 13824 * 2, "benchmark output");
  DeviceBuffer scale_w(13824 * sizeof(float), "benchmark weight scales");
  DeviceBuffer workspace(size_t{64} << 20, "GEMM workspace");
  fill_random_bf16_gpu(x.data(), rows * 6912, 11, stream);
  fill_random_f32_gpu(scale_w.as<float>(), 13824, 0.01f, 0.02f, 12, stream);

  std::vector<LinearBenchRow> out;
  for (const auto& [label, sparsity] : backends) {
    std::vector<std::unique_ptr<W8A8Linear>> layers;
    std::vector<DeviceBuffer> weights;  // the dense backend reads the caller's weight at run time
    for (const auto& shape : bitnet_layer_shapes()) {
      const LinearConfig c = default_linear_config(kind, shape.n, shape.k, sparsity, max_m);
      // The weight as a checkpoint stores it: [n, k], or the slid [n, K'] (the linear pads it).
      const int64_t weight_k = sparsity.is_dense() ? shape.k : make_slide_geometry(shape.k, sparsity.group()).k_slid;
      weights.emplace_back(static_cast<size_t>(shape.n * weight_k), "benchmark weight");
      fill_random_codes_gpu(kind, weights.back().as<uint8_t>(), shape.n, weight_k, !sparsity.is_dense(), 13, stream);
      layers.push_back(std::make_unique<W8A8Linear>(c, weights.back().data(), scale_w.as<float>(), stream));
    }
    for (int64_t m : ms) {
      for (auto& l : layers) l->prepare(m, db);
      const double us = time_launches_us(
          [&] {
            for (auto& l : layers)
              l->forward(static_cast<const __nv_bfloat16*>(x.data()), m, static_cast<__nv_bfloat16*>(y.data()),
                         workspace.data(), workspace.bytes(), stream);
          },
          warmup, repeat, stream);
      out.push_back({label, m, us});
    }
  }
  cudaStreamDestroy(stream);
  std::printf("\nwhole linear op (%s), 4 BitNet layers, %s algorithms, us (speedup over cublaslt)\n",
              std::string(quant_kind_name(kind)).c_str(), db ? "tuned" : "library-default");
  for (int64_t m : ms) {
    double dense = 0;
    for (const auto& r : out)
      if (r.m == m && r.backend == backends.front().first) dense = r.total_us;
    std::printf("M=%-6lld", static_cast<long long>(m));
    for (const auto& r : out)
      if (r.m == m) std::printf("  %s %.1f (x%.2f)", r.backend.c_str(), r.total_us, dense / r.total_us);
    std::printf("\n");
  }
  return out;
}

}  // namespace slidesparse
