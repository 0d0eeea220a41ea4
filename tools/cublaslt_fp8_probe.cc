// Where cuBLASLt can put the scales of an FP8 GEMM on this GPU: for the four BitNet-2B linear
// shapes, a list of row counts and both accumulation modes (precise, fast), how many heuristic
// candidates each scale placement gets (bf16 output: no scale in the GEMM, the weight scale as an
// alpha vector, both scales as outer vectors) and the time of the first one. The engine takes the
// cheapest placement offered (gemm/w8a8_linear.cc); this shows what "offered" means per shape.
//
//   cublaslt_fp8_probe [--m-list 64,512,4096,32768]
#include <cublasLt.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/gpu_timer.h"
#include "bench/kernel_bench.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gemm/cublaslt_gemm.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "tools/probe_support.h"

using namespace slidesparse;

int main(int argc, char** argv) try {
  const std::vector<int64_t> ms =
      probe::parse_m_list(argc, argv, "64,512,4096,32768", "cublaslt_fp8_probe [--m-list 64,512,...]");
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  constexpr size_t kWorkspace = size_t{64} << 20;
  DeviceBuffer workspace(kWorkspace, "workspace");
  std::printf("cuBLASLt %zu (CUDA runtime %zu)\n", cublasLtGetVersion(), cublasLtGetCudartVersion());
  std::printf("%-8s %6s %5s  %-22s %-22s %-22s  (candidates, us of the first)\n", "shape", "M", "accum",
              "no scale", "weight (alpha vector)", "both (outer vectors)");
  const ScaleMode modes[] = {ScaleMode::Epilogue, ScaleMode::WeightInGemm, ScaleMode::BothInGemm};
  for (const LayerShape& s : bitnet_layer_shapes()) {
    for (int64_t m : ms) {
      DeviceBuffer x(size_t(m * s.k), "x"), w(size_t(s.n * s.k), "w"), d(size_t(m * s.n) * 2, "d");
      DeviceBuffer sx(size_t(m) * 4, "sx"), sw(size_t(s.n) * 4, "sw");
      fill_random_codes_gpu(QuantKind::Fp8E4M3, x.as<uint8_t>(), m, s.k, false, 1, stream);
      fill_ternary_codes_gpu(QuantKind::Fp8E4M3, w.as<uint8_t>(), s.n, s.k, false, 2, stream);
      fill_random_f32_gpu(sx.as<float>(), m, 1e-4f, 1e-2f, 3, stream);
      fill_random_f32_gpu(sw.as<float>(), s.n, 0.5f, 2.0f, 4, stream);
      for (bool fast : {false, true}) {
        std::printf("%-8s %6lld %5s", s.name.c_str(), (long long)m, fast ? "fast" : "exact");
        for (ScaleMode mode : modes) {
          GemmShape shape{QuantKind::Fp8E4M3, GemmOutput::BFloat16, mode, s.n, s.k};
          shape.fast_accum = fast;
          CublasLtGemm gemm(shape);
          const size_t count = gemm.heuristic_candidates(m, 32, kWorkspace).size();
          std::string cell = std::to_string(count);
          if (count > 0) {
            gemm.prepare(m, kWorkspace);
            auto run = [&] {
              gemm.run(w.data(), x.data(), d.data(), m, sw.as<float>(), sx.as<float>(), workspace.data(),
                       kWorkspace, stream);
            };
            char us[32];
            std::snprintf(us, sizeof us, ", %.1f us", time_launches_us(run, 3, 20, stream));
            cell += us;
          }
          std::printf("  %-22s", cell.c_str());
        }
        std::printf("\n");
      }
    }
  }
  CUDA_CHECK(cudaStreamDestroy(stream));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "cublaslt_fp8_probe: %s\n", e.what());
  return 1;
}
