// Measures the scaled GEMM (CUTLASS INT8, both scales in its epilogue: gemm/scaled_gemm.h)
// against what it replaces: cuBLASLt's INT8 GEMM writing int32 plus the dequantization epilogue
// that turns it into bf16. For the four BitNet-2B linear shapes and a list of row counts it prints
// the time of each (and the GEMM alone), the achieved TOPS next to the datasheet peak, and how many
// of the bf16 outputs differ in any bit from the cuBLASLt + epilogue result (expected: none);
// gate_up also with the MLP epilogue (ScaledGemm::run_relu2_mul).
//
//   scaled_gemm_probe [--m-list 64,512,4096,32768]
#include <cuda_bf16.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/device_ceilings.h"
#include "bench/gpu_timer.h"
#include "bench/kernel_bench.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gemm/cublaslt_gemm.h"
#include "gemm/scaled_gemm.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "kernels/activation_quant.h"
#include "tools/probe_support.h"

using namespace slidesparse;

int main(int argc, char** argv) try {
  const std::vector<int64_t> ms =
      probe::parse_m_list(argc, argv, "64,512,4096,32768", "scaled_gemm_probe [--m-list 64,512,...]");
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  const double peak_tops = device_ceilings(stream).peaks.int8_tops;
  constexpr size_t kWorkspace = size_t{64} << 20;
  DeviceBuffer workspace(kWorkspace, "workspace");
  std::printf("%-8s %6s %12s %12s %12s", "shape", "M", "lt gemm us", "lt+deq us", "lt TOPS");
  for (ScaledGemmTile t : scaled_gemm_tiles()) std::printf(" %16s", std::string(scaled_gemm_tile_name(t)).c_str());
  std::printf("   (us, TOPS of %.0f, differing outputs)\n", peak_tops);
  for (const LayerShape& s : bitnet_layer_shapes()) {
    for (int64_t m : ms) {
      DeviceBuffer x(size_t(m * s.k), "x"), w(size_t(s.n * s.k), "w"), acc(size_t(m * s.n) * 4, "acc");
      DeviceBuffer sx(size_t(m) * 4, "sx"), sw(size_t(s.n) * 4, "sw");
      DeviceBuffer ref(size_t(m * s.n) * 2, "ref"), out(size_t(m * s.n) * 2, "out");
      fill_random_codes_gpu(QuantKind::Int8, x.as<uint8_t>(), m, s.k, false, 1, stream);
      fill_ternary_codes_gpu(QuantKind::Int8, w.as<uint8_t>(), s.n, s.k, false, 2, stream);
      fill_random_f32_gpu(sx.as<float>(), m, 1e-4f, 1e-2f, 3, stream);
      fill_random_f32_gpu(sw.as<float>(), s.n, 0.5f, 2.0f, 4, stream);
      CublasLtGemm lt(GemmShape{QuantKind::Int8, GemmOutput::Int32, ScaleMode::Epilogue, s.n, s.k});
      lt.prepare(m, kWorkspace);
      auto lt_gemm = [&] { lt.run(w.data(), x.data(), acc.data(), m, nullptr, nullptr, workspace.data(), kWorkspace, stream); };
      auto lt_full = [&] {
        lt_gemm();
        dequantize_rows_gpu(AccumulatorType::Int32, acc.data(), m, s.n, sx.as<float>(), sw.as<float>(),
                            ref.as<__nv_bfloat16>(), stream);
      };
      const double flops = 2.0 * double(m) * double(s.n) * double(s.k);
      const double t_gemm = time_launches_us(lt_gemm, 3, 20, stream);
      const double t_full = time_launches_us(lt_full, 3, 20, stream);
      std::printf("%-8s %6lld %12.1f %12.1f %12.0f", s.name.c_str(), (long long)m, t_gemm, t_full, flops / t_gemm * 1e-6);
      ScaledGemm cutlass_gemm(s.n, s.k);
      for (ScaledGemmTile tile : scaled_gemm_tiles()) {
        cutlass_gemm.set_tile(m, tile);
        CUDA_CHECK(cudaMemsetAsync(out.data(), 0xff, out.bytes(), stream));  // poisoned
        auto run = [&] {
          cutlass_gemm.run(w.data(), x.data(), sw.as<float>(), sx.as<float>(), out.as<__nv_bfloat16>(), m, stream);
        };
        run();
        CUDA_CHECK(cudaStreamSynchronize(stream));
        const size_t bad = probe::differing_bf16(ref, out);
        const double us = time_launches_us(run, 3, 20, stream);
        std::printf("  %6.1f %4.0f %4zu", us, flops / us * 1e-6, bad);
      }
      std::printf("\n");
      if (s.name == "gate_up") {
        // The same GEMM with the MLP epilogue (relu2(gate) * up, half-width output; its bits are the
        // GPU tests' business, the weight order does not change the time).
        std::printf("%-8s %6lld %38s", "+relu2", (long long)m, "");
        for (ScaledGemmTile tile : scaled_gemm_tiles()) {
          cutlass_gemm.set_tile(m, tile);
          auto run = [&] {
            cutlass_gemm.run_relu2_mul(w.data(), x.data(), sw.as<float>(), sx.as<float>(), out.as<__nv_bfloat16>(), m,
                                       stream);
          };
          const double us = time_launches_us(run, 3, 20, stream);
          std::printf("  %6.1f %4.0f %4s", us, flops / us * 1e-6, "");
        }
        std::printf("\n");
      }
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "scaled_gemm_probe: %s\n", e.what());
  return 1;
}
