// Measures CUTLASS's Hopper structured-sparse INT8 GEMM (both scales in its epilogue, bf16 out:
// tools/sparse_gemm_probe_kernels.cuh) against cuSPARSELt on the same 2:4 ternary weights, for the
// four BitNet-2B linear shapes and a list of row counts. cuSPARSELt runs as the engine runs it (bf16
// out, weight scale in the GEMM) with every algorithm and split-K mode it offers tried, the fastest
// reported; each CUTLASS tile is checked bit for bit against the dense scaled GEMM on the pruned
// weight (expected: no differing output). Times in us, dense-equivalent TOPS (2*M*N*K / t) next to the
// dense INT8 peak of the GPU.
//
//   sparse_gemm_probe [--m-list 512,4096,32768]
#include <cuda_bf16.h>

#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "bench/device_ceilings.h"
#include "bench/gpu_timer.h"
#include "bench/kernel_bench.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gemm/cusparselt_gemm.h"
#include "gemm/scaled_gemm.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "tools/probe_support.h"
#include "tools/sparse_gemm_probe_tiles.h"

using namespace slidesparse;

namespace {

// The fastest of every cuSPARSELt configuration for m rows: {us, description}.
std::pair<double, std::string> best_cusparselt(CusparseLtGemm& gemm, const DeviceBuffer& x, DeviceBuffer& d,
                                               const DeviceBuffer& scale_w, int64_t m, DeviceBuffer& workspace,
                                               cudaStream_t stream) {
  double best = std::numeric_limits<double>::infinity();
  std::string what = "none";
  const int count = gemm.algorithm_count(m);
  for (int alg = 0; alg < count; ++alg) {
    for (int split_k : {1, -1}) {
      try {
        gemm.set_algorithm(m, alg, split_k);
        if (gemm.workspace_bytes(m) > workspace.bytes()) continue;
        auto run = [&] {
          gemm.run(x.data(), d.data(), m, scale_w.as<float>(), workspace.data(), workspace.bytes(), stream);
        };
        const double us = time_launches_us(run, 2, 10, stream);
        if (us < best) best = us, what = gemm.describe_plan(m);
      } catch (const Error&) {
        // a configuration this shape does not support: skip it
      }
    }
  }
  return {best, what};
}

}  // namespace

int main(int argc, char** argv) try {
  const std::vector<int64_t> ms =
      probe::parse_m_list(argc, argv, "512,4096,32768", "sparse_gemm_probe [--m-list 512,...]");
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  const double peak_tops = device_ceilings(stream).peaks.int8_tops;
  int device = 0, sm_count = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  CUDA_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, device));
  std::vector<std::unique_ptr<sparse_probe::SparseTile>> tiles;
  sparse_probe::add_cooperative_tiles(tiles);
  sparse_probe::add_pingpong_tiles(tiles);
  DeviceBuffer workspace(size_t{256} << 20, "workspace");
  std::printf("%-8s %6s %10s %10s %12s", "shape", "M", "dense us", "lt us", "lt TOPS");
  for (const auto& t : tiles) std::printf(" %22s", t->name().c_str());
  std::printf("   (us, dense-equivalent TOPS of %.0f dense peak, differing outputs)\n", peak_tops);
  for (const LayerShape& s : bitnet_layer_shapes()) {
    DeviceBuffer w(size_t(s.n * s.k), "w"), sw(size_t(s.n) * 4, "sw");
    fill_ternary_codes_gpu(QuantKind::Int8, w.as<uint8_t>(), s.n, s.k, true, 2, stream);
    fill_random_f32_gpu(sw.as<float>(), s.n, 0.5f, 2.0f, 4, stream);
    CusparseLtGemm lt(GemmShape{QuantKind::Int8, GemmOutput::BFloat16, ScaleMode::WeightInGemm, s.n, s.k});
    lt.compress(w.data(), stream);
    for (const auto& t : tiles) t->compress(w.data(), s.n, s.k, sm_count, stream);
    ScaledGemm dense(s.n, s.k);
    for (int64_t m : ms) {
      DeviceBuffer x(size_t(m * s.k), "x"), sx(size_t(m) * 4, "sx");
      DeviceBuffer ref(size_t(m * s.n) * 2, "ref"), out(size_t(m * s.n) * 2, "out");
      fill_random_codes_gpu(QuantKind::Int8, x.as<uint8_t>(), m, s.k, false, 1, stream);
      fill_random_f32_gpu(sx.as<float>(), m, 1e-4f, 1e-2f, 3, stream);
      const double flops = 2.0 * double(m) * double(s.n) * double(s.k);
      auto run_dense = [&] {
        dense.run(w.data(), x.data(), sw.as<float>(), sx.as<float>(), ref.as<__nv_bfloat16>(), m, stream);
      };
      run_dense();
      CUDA_CHECK(cudaStreamSynchronize(stream));
      const double t_dense = time_launches_us(run_dense, 3, 20, stream);
      const auto [t_lt, lt_plan] = best_cusparselt(lt, x, out, sw, m, workspace, stream);
      std::printf("%-8s %6lld %10.1f %10.1f %12.0f", s.name.c_str(), (long long)m, t_dense, t_lt, flops / t_lt * 1e-6);
      for (const auto& t : tiles) {
        CUDA_CHECK(cudaMemsetAsync(out.data(), 0xff, out.bytes(), stream));  // poisoned
        auto run = [&] { t->run(x.data(), sx.as<float>(), sw.as<float>(), out.data(), m, stream); };
        try {
          run();
          CUDA_CHECK(cudaStreamSynchronize(stream));
          const size_t bad = probe::differing_bf16(ref, out);
          const double us = time_launches_us(run, 3, 20, stream);
          std::printf("  %8.1f %5.0f %6zu", us, flops / us * 1e-6, bad);
        } catch (const Error& e) {
          std::printf("  %22s", "cannot run");
        }
      }
      std::printf("   [lt: %s]\n", lt_plan.c_str());
      std::fflush(stdout);
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "sparse_gemm_probe: %s\n", e.what());
  return 1;
}
