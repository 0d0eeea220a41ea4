#include "bench/kernel_bench.h"

#include "bench/bench_results.h"
#include "bench/device_ceilings.h"

#include <cstdio>
#include <map>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "gemm/w8a8_linear.h"
#include "gpu/cuda_check.h"
#include "gpu/device_info.h"
#include "io/model_config.h"
#include "io/results_layout.h"
#include "io/staged_directory.h"

namespace slidesparse {

std::vector<LayerShape> bitnet_layer_shapes() {
  return {{"qkv", 3840, 2560}, {"o", 2560, 2560}, {"gate_up", 13824, 2560}, {"down", 2560, 6912}};
}

std::vector<KernelBenchPoint> run_kernel_bench(const KernelBenchOptions& o, const KernelPointDone& on_point) {
  const DeviceInfo device = query_device();
  require(o.kind == QuantKind::Int8 || device.supports_fp8(),
          "FP8 kernel benchmarks need compute capability 8.9 or newer; this " + device.name + " is " +
              std::to_string(device.cc_major) + "." + std::to_string(device.cc_minor) + ": skipped");
  require(!o.ms.empty(), "bench kernel: empty M list");
  const std::string dtype(quant_kind_tag(o.kind));
  const std::filesystem::path dir =
      o.out_dir / result_folder_tag(device.short_name, device.compute_capability(), dtype, device.runtime_version, "x86_64");

  const std::string mode = o.square ? "square" : "model";
  // Per M its layer shapes, so each (backend, M) finishes as one point.
  std::vector<std::pair<int64_t, std::vector<LayerShape>>> work;
  for (int64_t m : o.ms) work.push_back({m, o.square ? std::vector<LayerShape>{{"square", m, m}} : bitnet_layer_shapes()});
  int64_t max_m = 0;
  for (int64_t m : o.ms) max_m = std::max(max_m, m);
  long steps = 0;
  for (const auto& [m, shapes] : work) steps += long(shapes.size());
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  std::vector<KernelBenchPoint> points;
  ProgressBar progress("bench kernel " + std::string(quant_kind_name(o.kind)), long(o.backends.size()) * steps);
  for (const Sparsity sparsity : o.backends) {
    const bool dense = sparsity.is_dense();
    const GemmBackend backend = dense ? GemmBackend::CublasLt : GemmBackend::CusparseLt;
    const std::string label = results_layout::kernel_backend_label(sparsity);
    // One searcher per shape (operands sized for the largest M), reused over the M list.
    std::map<std::pair<int64_t, int64_t>, std::unique_ptr<GemmSearcher>> searchers;
    for (const auto& [m, shapes] : work) {
      throw_if_interrupted();  // between points: the finished ones are already written
      nlohmann::json layers = nlohmann::json::array();
      for (const LayerShape& shape : shapes) {
        const int64_t gemm_k = linear_gemm_k(shape.k, sparsity);
        // The libraries' GEMMs alone, scales left out (bench linear covers where they go): dense INT8
        // writes int32 (its only exact output), dense FP8 and both sparse types write bf16.
        const GemmOutput output =
            dense && o.kind == QuantKind::Int8 ? GemmOutput::Int32 : GemmOutput::BFloat16;
        const GemmShape gs{o.kind, output, ScaleMode::Epilogue, shape.n, gemm_k, dense && o.fast_accum};
        auto& searcher = searchers[{shape.n, gemm_k}];
        if (!searcher) searcher = std::make_unique<GemmSearcher>(backend, gs, o.square ? m : max_m, stream);
        const SearchResult r = searcher->search(m, o.protocol);
        const GemmChoice& best = r.ranked.front();
        KernelBenchPoint p{label, shape.name, m, shape.n, shape.k, gemm_k, best.latency_us,
                           2.0 * double(m) * double(shape.n) * double(shape.k) / best.latency_us / 1e6,
                           describe_gemm_choice(backend, best)};
        layers.push_back({{"layer", shape.name}, {"N", shape.n}, {"K", shape.k}, {"K_gemm", gemm_k},
                          {"latency_us", p.latency_us}, {"tops", p.tops}, {"algorithm", p.algorithm},
                          {"candidates", r.candidates}});
        points.push_back(p);
        progress.step(label + " " + shape.name + " M=" + std::to_string(m));
        if (o.square) searchers.clear();
      }
      std::filesystem::create_directories(results_layout::point_json_dir(dir));
      const nlohmann::json point = {{"backend", label}, {"dtype", dtype}, {"mode", mode}, {"M", m}, {"layers", layers}};
      write_file_atomic(results_layout::kernel_point_json(dir, mode, label, m), point.dump(2) + "\n");
      write_kernel_csvs(dir, mode);
      if (on_point) on_point(label, m);
    }
  }
  progress.finish();
  cudaStreamDestroy(stream);

  // Totals of this run on stdout (the CSVs hold every run's): sum of the layer latencies per backend
  // and M; speedup = dense total / sparse total.
  const TensorPeaks peaks = tensor_peaks(device);
  const double peak = o.kind == QuantKind::Int8 ? peaks.int8_tops : peaks.fp8_tops;
  std::printf("\n%s kernel totals (%s, %s): latency us [TOPS, %% of the %.0f TOPS dense peak, %s]\n", dtype.c_str(),
              device.name.c_str(), o.square ? "square" : "BitNet qkv+o+gate_up+down", peak, peaks.source.c_str());
  for (int64_t m : o.ms) {
    std::map<std::string, double> total_us, total_ops;
    for (const auto& p : points)
      if (p.m == m) {
        total_us[p.backend] += p.latency_us;
        total_ops[p.backend] += 2.0 * double(p.m) * double(p.n) * double(p.k);
      }
    std::printf("M=%-6lld", static_cast<long long>(m));
    for (const Sparsity s : o.backends) {
      const std::string label = results_layout::kernel_backend_label(s);
      const double tops = total_ops[label] / total_us[label] / 1e6;
      std::printf("  %s %.1f [%.0f, %.0f%%]", label.c_str(), total_us[label], tops, 100 * tops / peak);
    }
    const std::string dense_label = results_layout::kernel_backend_label(Sparsity::dense());
    if (total_us.count(dense_label))
      for (const Sparsity s : o.backends)
        if (!s.is_dense())
          std::printf("  x%.2f", total_us[dense_label] / total_us[results_layout::kernel_backend_label(s)]);
    std::printf("\n");
  }
  std::printf("results: %s\n", dir.c_str());
  return points;
}

}  // namespace slidesparse
