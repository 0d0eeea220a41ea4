// `slidesparse bench kernel` (docs/PROTOCOLS.md): GEMM latency per layer shape and M for cuBLASLt (dense,
// K) and cuSPARSELt (2:4 on the slid K' of each 2:L; 2:inf = 2K), each the best of its algorithm
// search; model totals are the sums of the per-layer latencies and speedups are latency ratios.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bench/gemm_search.h"
#include "math/sparsity.h"

namespace slidesparse {

struct LayerShape {
  std::string name;  // "qkv", "o", "gate_up", "down" (model mode) or "square"
  int64_t n = 0, k = 0;
};

// BitNet-2B's fused linear shapes: qkv (3840, 2560), o (2560, 2560), gate_up (13824, 2560), down (2560, 6912).
std::vector<LayerShape> bitnet_layer_shapes();

struct KernelBenchOptions {
  QuantKind kind = QuantKind::Int8;
  std::vector<int64_t> ms;
  // Dense runs cuBLASLt, 2:L and 2:inf cuSPARSELt on K' (linear_gemm_k), in this order.
  std::vector<Sparsity> backends{Sparsity::dense()};
  bool square = false;  // square mode: one shape N = K = M per M
  bool fast_accum = false;  // FP8 cuBLASLt only (GemmShape::fast_accum)
  SearchProtocol protocol;
  std::filesystem::path out_dir;  // results go to out_dir/<hardware tag>/
};

struct KernelBenchPoint {
  std::string backend;  // "cublaslt" or "cusparselt_2_L"
  std::string layer;
  int64_t m = 0, n = 0, k = 0, gemm_k = 0;
  double latency_us = 0;
  double tops = 0;  // dense-equivalent: 2*M*N*K / latency (K, not K', so backends compare by work done)
  std::string algorithm;
};

// Called once all layers of one backend at one M are measured and written (a pipeline unit).
using KernelPointDone = std::function<void(const std::string& backend, int64_t m)>;

// Runs the benchmark and returns all points. Each (backend, M) writes its layers to
// json/<mode>_<backend>_M<m>.json, then the per-layer and totals CSVs are rebuilt from every JSON in
// the folder (bench_results.h). Ctrl-C stops between points (Error "interrupted"). Prints a totals
// table to stdout with speedups and the TOPS against the datasheet peak.
std::vector<KernelBenchPoint> run_kernel_bench(const KernelBenchOptions& options, const KernelPointDone& on_point = {});

}  // namespace slidesparse
