// Measures CUTLASS's Hopper structured-sparse GEMM on E4M3 codes (fp32 accumulation, fast or
// promoting, both scales in its epilogue, bf16 out: tools/sparse_fp8_probe_kernels.cu) against
// cuSPARSELt's FP8 GEMM as the engine runs it (bf16 out without scales: cuSPARSELt 0.8 applies no
// scale vector to FP8) with every algorithm and split-K mode tried, the fastest reported, and
// against cuBLASLt's dense FP8 GEMM on the same pruned weight (the 2:4 model's dense fallback, fast
// accumulation, the fastest heuristic candidate). The four BitNet-2B linear shapes, 2:4 ternary
// weights, a list of row counts. Each CUTLASS output is compared with cuSPARSELt's scaled on the
// host: max |cutlass - bf16(acc) * scale_x * scale_w| over the rms of the latter. Times in us and
// dense-equivalent TOPS (2*M*N*K / t) next to the GPU's dense FP8 peak.
//
//   sparse_fp8_probe [--m-list 64,512,32768]
#include <cuda_bf16.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "bench/device_ceilings.h"
#include "bench/gpu_timer.h"
#include "bench/kernel_bench.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gemm/cublaslt_gemm.h"
#include "gemm/cusparselt_gemm.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "math/numeric_formats.h"
#include "tools/probe_support.h"
#include "tools/sparse_fp8_probe_tiles.h"

using namespace slidesparse;

namespace {

double best_cusparselt_us(CusparseLtGemm& gemm, const DeviceBuffer& x, DeviceBuffer& d, int64_t m,
                          DeviceBuffer& workspace, cudaStream_t stream, std::string& plan) {
  double best = std::numeric_limits<double>::infinity();
  int best_alg = 0, best_split = 1;
  const int count = gemm.algorithm_count(m);
  for (int alg = 0; alg < count; ++alg)
    for (int split_k : {1, -1}) {
      try {
        gemm.set_algorithm(m, alg, split_k);
        if (gemm.workspace_bytes(m) > workspace.bytes()) continue;
        auto run = [&] { gemm.run(x.data(), d.data(), m, nullptr, workspace.data(), workspace.bytes(), stream); };
        const double us = time_launches_us(run, 2, 10, stream);
        if (us < best) best = us, best_alg = alg, best_split = split_k, plan = gemm.describe_plan(m);
      } catch (const Error&) {
        // a configuration this shape does not support
      }
    }
  gemm.set_algorithm(m, best_alg, best_split);
  gemm.run(x.data(), d.data(), m, nullptr, workspace.data(), workspace.bytes(), stream);  // d for the check
  return best;
}

std::vector<float> download_f32(const DeviceBuffer& b) {
  std::vector<float> h(b.bytes() / 4);
  CUDA_CHECK(cudaMemcpy(h.data(), b.data(), b.bytes(), cudaMemcpyDeviceToHost));
  return h;
}

std::vector<uint16_t> download_bf16(const DeviceBuffer& b) {
  std::vector<uint16_t> h(b.bytes() / 2);
  CUDA_CHECK(cudaMemcpy(h.data(), b.data(), b.bytes(), cudaMemcpyDeviceToHost));
  return h;
}

// max |out - want| over a device bf16 output.
double largest_difference(const DeviceBuffer& out, const std::vector<double>& want) {
  const std::vector<uint16_t> got = download_bf16(out);
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(double(bf16_to_float(got[i])) - want[i]));
  return worst;
}

void run_probe(int argc, char** argv) {
  const std::vector<int64_t> ms =
      probe::parse_m_list(argc, argv, "64,512,32768", "sparse_fp8_probe [--m-list 64,512,32768]");
  std::vector<std::unique_ptr<sparse_probe::SparseTile>> tiles;
  sparse_fp8_probe::add_tiles(tiles);
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  const double peak_tops = device_ceilings(stream).peaks.fp8_tops;
  const int sm_count = current_device_sm_count();
  DeviceBuffer workspace(size_t{256} << 20, "workspace");
  std::printf("us, dense-equivalent TOPS of %.0f dense FP8 peak; error = max |out - cuSPARSELt scaled| / rms\n",
              peak_tops);
  sparse_probe::TileOrder order;
  order.raster = sparse_probe::TileOrder::Raster::AlongWeightRows;
  for (const LayerShape& s : bitnet_layer_shapes()) {
    DeviceBuffer w(size_t(s.n * s.k), "w"), sw(size_t(s.n) * 4, "sw");
    fill_ternary_codes_gpu(QuantKind::Fp8E4M3, w.as<uint8_t>(), s.n, s.k, true, 2, stream);
    fill_random_f32_gpu(sw.as<float>(), s.n, 0.5f, 2.0f, 4, stream);
    CusparseLtGemm lt(GemmShape{QuantKind::Fp8E4M3, GemmOutput::BFloat16, ScaleMode::Epilogue, s.n, s.k});
    lt.compress(w.data(), stream);
    GemmShape dense_shape{QuantKind::Fp8E4M3, GemmOutput::BFloat16, ScaleMode::Epilogue, s.n, s.k};
    dense_shape.fast_accum = true;
    CublasLtGemm dense(dense_shape);
    for (const auto& t : tiles) t->compress(w.data(), s.n, s.k, sm_count, stream);
    const std::vector<float> h_sw = download_f32(sw);
    for (int64_t m : ms) {
      const probe::Activations in(QuantKind::Fp8E4M3, m, s.k, stream);
      const DeviceBuffer &x = in.x, &sx = in.scale_x;
      DeviceBuffer lt_out(size_t(m * s.n) * 2, "cuSPARSELt out"), out(size_t(m * s.n) * 2, "out");
      const double flops = 2.0 * double(m) * double(s.n) * double(s.k);
      std::string plan = "none";
      const double t_lt = best_cusparselt_us(lt, x, lt_out, m, workspace, stream, plan);
      double t_dense = std::numeric_limits<double>::infinity();
      for (const cublasLtMatmulHeuristicResult_t& candidate : dense.heuristic_candidates(m, 8, workspace.bytes())) {
        try {
          dense.set_algorithm(m, candidate.algo, candidate.workspaceSize);
          auto run = [&] {
            dense.run(w.data(), x.data(), out.data(), m, nullptr, nullptr, workspace.data(), workspace.bytes(),
                      stream);
          };
          t_dense = std::min(t_dense, time_launches_us(run, 2, 10, stream));
        } catch (const Error&) {
          // a candidate that does not run this shape
        }
      }
      CUDA_CHECK(cudaStreamSynchronize(stream));
      const std::vector<uint16_t> h_lt = download_bf16(lt_out);
      const std::vector<float> h_sx = download_f32(sx);
      std::vector<double> want(h_lt.size());
      double sum_sq = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        want[i] = double(bf16_to_float(h_lt[i])) * h_sx[i / size_t(s.n)] * h_sw[i % size_t(s.n)];
        sum_sq += want[i] * want[i];
      }
      const double rms = std::sqrt(sum_sq / double(want.size()));
      std::printf("%-8s M=%-6lld cuBLASLt dense %8.1f us %5.0f TOPS | cuSPARSELt %8.1f us %5.0f TOPS [%s]\n",
                  s.name.c_str(), (long long)m, t_dense, flops / t_dense * 1e-6, t_lt, flops / t_lt * 1e-6,
                  plan.c_str());
      for (const auto& t : tiles) {
        std::printf("  %-32s", t->name().c_str());
        try {
          CUDA_CHECK(cudaMemsetAsync(out.data(), 0xff, out.bytes(), stream));
          auto run = [&] { t->run(x.data(), sx.as<float>(), sw.as<float>(), out.data(), m, order, stream); };
          run();
          CUDA_CHECK(cudaStreamSynchronize(stream));
          const double error = largest_difference(out, want) / rms;
          const double us = time_launches_us(run, 3, 20, stream);
          std::printf(" %8.1f us %5.0f TOPS  %.3fx cuSPARSELt  %.3fx dense  error %.4f\n", us, flops / us * 1e-6,
                      t_lt / us, t_dense / us, error);
        } catch (const Error& e) {
          std::printf(" cannot run: %s\n", e.what());
        }
      }
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) { return probe::guarded_main("sparse_fp8_probe", [&] { run_probe(argc, argv); }); }
