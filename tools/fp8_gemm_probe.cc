// Measures the scaled GEMM's kernels on FP8 (E4M3 codes, fp32 accumulation, both scales in the
// epilogue, bf16 out) against what the engine's FP8 dense linears run: cuBLASLt with fast
// accumulation and the scale placement the engine picks on this GPU (the best of its first eight
// heuristic candidates). The promoting mainloop runs at several promotion intervals (the tensor
// cores' partial sums added into fp32 registers every so many MMAs; each promotion waits for the
// warpgroup's MMAs, so a longer interval lets more k-tiles overlap), the fast-accumulation mainloop
// once. For each it prints the time, the TOPS next to the datasheet peak, and the error against the
// exact product on sampled rows: max |out - exact| / rms(exact), exact = (sum of x * w in double) *
// scale_x * scale_w.
//
//   fp8_gemm_probe [--m-list 64,512,4096,32768]
#include <cuda_bf16.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench/device_ceilings.h"
#include "bench/gpu_timer.h"
#include "bench/kernel_bench.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gemm/cublaslt_gemm.h"
#include "gemm/scaled_gemm.h"
#include "gemm/w8a8_linear.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "math/numeric_formats.h"
#include "tools/fp8_gemm_probe_kernels.h"
#include "tools/probe_support.h"

using namespace slidesparse;

namespace {

constexpr int kSampledRows = 8;

// The exact products of the sampled rows, [kSampledRows, n], and the rows' indices.
struct ExactRows {
  std::vector<int64_t> rows;
  std::vector<double> values;
  double rms = 0;
};

ExactRows exact_rows(const DeviceBuffer& x, const DeviceBuffer& w, const DeviceBuffer& sx, const DeviceBuffer& sw,
                     int64_t m, int64_t n, int64_t k) {
  ExactRows e;
  std::vector<uint8_t> hw(static_cast<size_t>(n * k)), hx(static_cast<size_t>(k));
  std::vector<float> hsx(static_cast<size_t>(m)), hsw(static_cast<size_t>(n));
  CUDA_CHECK(cudaMemcpy(hw.data(), w.data(), hw.size(), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(hsx.data(), sx.data(), hsx.size() * 4, cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(hsw.data(), sw.data(), hsw.size() * 4, cudaMemcpyDeviceToHost));
  std::vector<double> wv(static_cast<size_t>(n * k)), xv(static_cast<size_t>(k));
  for (size_t i = 0; i < hw.size(); ++i) wv[i] = e4m3_to_float(hw[i]);
  double square_sum = 0;
  for (int i = 0; i < kSampledRows; ++i) {
    const int64_t row = std::min<int64_t>(m - 1, i * m / kSampledRows);
    e.rows.push_back(row);
    CUDA_CHECK(cudaMemcpy(hx.data(), x.as<uint8_t>() + row * k, size_t(k), cudaMemcpyDeviceToHost));
    for (int64_t j = 0; j < k; ++j) xv[size_t(j)] = e4m3_to_float(hx[size_t(j)]);
    for (int64_t col = 0; col < n; ++col) {
      double dot = 0;
      const double* wr = wv.data() + col * k;
      for (int64_t j = 0; j < k; ++j) dot += xv[size_t(j)] * wr[j];
      const double value = dot * hsx[size_t(row)] * hsw[size_t(col)];
      e.values.push_back(value);
      square_sum += value * value;
    }
  }
  e.rms = std::sqrt(square_sum / double(e.values.size()));
  return e;
}

// max |out * row_factor[r] * col_factor[c] - exact| / rms(exact) over the sampled rows of d [m, n]
// (bf16, or fp32 when `fp32`); the factors are the scales an output still lacks (cuBLASLt's: scale_x,
// or both), empty for none.
double relative_error(const ExactRows& e, const DeviceBuffer& d, int64_t n, bool fp32,
                      const std::vector<float>& row_factor, const std::vector<float>& col_factor) {
  const size_t bytes = fp32 ? 4 : 2;
  std::vector<uint8_t> row(static_cast<size_t>(n) * bytes);
  double worst = 0;
  for (size_t i = 0; i < e.rows.size(); ++i) {
    CUDA_CHECK(cudaMemcpy(row.data(), d.as<uint8_t>() + size_t(e.rows[i] * n) * bytes, row.size(),
                          cudaMemcpyDeviceToHost));
    const double factor = row_factor.empty() ? 1.0 : row_factor[size_t(e.rows[i])];
    for (int64_t col = 0; col < n; ++col) {
      double value;
      if (fp32) {
        float f;
        std::memcpy(&f, row.data() + size_t(col) * 4, 4);
        value = f;
      } else {
        uint16_t bits;
        std::memcpy(&bits, row.data() + size_t(col) * 2, 2);
        value = bf16_to_float(bits);
      }
      const double col_scale = col_factor.empty() ? 1.0 : col_factor[size_t(col)];
      const double diff = value * factor * col_scale - e.values[i * size_t(n) + size_t(col)];
      if (std::isnan(diff)) return INFINITY;  // a poisoned (unwritten) output
      worst = std::max(worst, std::fabs(diff));
    }
  }
  return worst / e.rms;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::vector<int64_t> ms =
      probe::parse_m_list(argc, argv, "64,512,4096,32768", "fp8_gemm_probe [--m-list 64,512,...]");
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  const double peak_tops = device_ceilings(stream).peaks.fp8_tops;
  const int sm_count = query_device().sm_count;
  constexpr size_t kWorkspace = size_t{64} << 20;
  DeviceBuffer workspace(kWorkspace, "workspace");
  std::printf("%-8s %6s %-14s", "shape", "M", "kernel");
  for (ScaledGemmTile t : scaled_gemm_tiles()) std::printf(" %22s", std::string(scaled_gemm_tile_name(t)).c_str());
  std::printf("   (us, TOPS of %.0f, max|err|/rms vs exact)\n", peak_tops);
  for (const LayerShape& s : bitnet_layer_shapes()) {
    for (int64_t m : ms) {
      DeviceBuffer x(size_t(m * s.k), "x"), w(size_t(s.n * s.k), "w"), sx(size_t(m) * 4, "sx"), sw(size_t(s.n) * 4, "sw");
      DeviceBuffer out(size_t(m * s.n) * 4, "out");  // room for an fp32 output
      fill_random_codes_gpu(QuantKind::Fp8E4M3, x.as<uint8_t>(), m, s.k, false, 1, stream);
      fill_ternary_codes_gpu(QuantKind::Fp8E4M3, w.as<uint8_t>(), s.n, s.k, false, 2, stream);
      fill_random_f32_gpu(sx.as<float>(), m, 1e-4f, 1e-2f, 3, stream);
      fill_random_f32_gpu(sw.as<float>(), s.n, 0.5f, 2.0f, 4, stream);
      CUDA_CHECK(cudaStreamSynchronize(stream));
      const ExactRows exact = exact_rows(x, w, sx, sw, m, s.n, s.k);
      const double flops = 2.0 * double(m) * double(s.n) * double(s.k);

      // The engine's FP8 dense GEMM on cuBLASLt (--cublaslt-dense): the scale placement the engine
      // picks for the shape on this GPU, fast accumulation.
      const LinearConfig engine = default_linear_config(QuantKind::Fp8E4M3, s.n, s.k, Sparsity::dense(), m,
                                                        {.fp8_fast_accum = true, .scaled_gemm = false});
      CublasLtGemm lt({engine.kind, engine.output, engine.scales, s.n, s.k, engine.fast_accum});
      const auto candidates = lt.heuristic_candidates(m, 8, kWorkspace);
      if (candidates.empty()) fail("cuBLASLt offers no FP8 algorithm for " + s.name + " M=" + std::to_string(m));
      CUDA_CHECK(cudaMemsetAsync(out.data(), 0xff, out.bytes(), stream));  // poisoned
      double lt_us = INFINITY;
      for (const cublasLtMatmulHeuristicResult_t& candidate : candidates) {
        lt.set_algorithm(m, candidate.algo, candidate.workspaceSize);
        auto run = [&] {
          lt.run(w.data(), x.data(), out.data(), m, sw.as<float>(), sx.as<float>(), workspace.data(), kWorkspace,
                 stream);
        };
        lt_us = std::min(lt_us, time_launches_us(run, 3, 20, stream));
      }
      std::vector<float> hsx, hsw;  // the scales the output still lacks
      if (engine.scales != ScaleMode::BothInGemm) {
        hsx.resize(static_cast<size_t>(m));
        CUDA_CHECK(cudaMemcpy(hsx.data(), sx.data(), hsx.size() * 4, cudaMemcpyDeviceToHost));
      }
      if (engine.scales == ScaleMode::Epilogue) {
        hsw.resize(static_cast<size_t>(s.n));
        CUDA_CHECK(cudaMemcpy(hsw.data(), sw.data(), hsw.size() * 4, cudaMemcpyDeviceToHost));
      }
      const bool fp32_out = engine.output == GemmOutput::Float32;
      std::printf("%-8s %6lld %-14s %8.1f %5.0f %7.4f  (%s, %s out)\n", s.name.c_str(), (long long)m, "cublaslt-fast",
                  lt_us, flops / lt_us * 1e-6, relative_error(exact, out, s.n, fp32_out, hsx, hsw),
                  std::string(scale_mode_name(engine.scales)).c_str(), fp32_out ? "fp32" : "bf16");

      struct Variant {
        std::string name;
        uint32_t interval;
        void (*launch)(ScaledGemmTile, const scaled_gemm_detail::Problem&, cudaStream_t);
      };
      const Variant variants[] = {{"promote-4", 4, fp8_probe::launch_promoting},
                                  {"promote-8", 8, fp8_probe::launch_promoting},
                                  {"promote-16", 16, fp8_probe::launch_promoting},
                                  {"promote-32", 32, fp8_probe::launch_promoting},
                                  {"fast", 4, fp8_probe::launch_fast}};
      for (const Variant& v : variants) {
        std::printf("%-8s %6lld %-14s", s.name.c_str(), (long long)m, v.name.c_str());
        for (ScaledGemmTile tile : scaled_gemm_tiles()) {
          scaled_gemm_detail::Problem p{x.data(), w.data(), sx.as<float>(), sw.as<float>(), out.as<__nv_bfloat16>(),
                                        m, s.n, s.k, sm_count, v.interval};
          CUDA_CHECK(cudaMemsetAsync(out.data(), 0xff, out.bytes(), stream));  // poisoned
          auto run = [&] { v.launch(tile, p, stream); };
          run();
          CUDA_CHECK(cudaStreamSynchronize(stream));
          const double err = relative_error(exact, out, s.n, false, {}, {});
          const double us = time_launches_us(run, 3, 20, stream);
          std::printf("  %8.1f %5.0f %7.4f", us, flops / us * 1e-6, err);
        }
        std::printf("\n");
      }
    }
  }
  CUDA_CHECK(cudaStreamDestroy(stream));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "fp8_gemm_probe: %s\n", e.what());
  return 1;
}
