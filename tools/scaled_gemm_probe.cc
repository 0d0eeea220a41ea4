// Measures the scaled GEMM (CUTLASS, both scales in its epilogue: gemm/scaled_gemm.h) against what
// it replaces on cuBLASLt. INT8: cuBLASLt's GEMM writing int32 plus the dequantization epilogue
// that turns it into bf16; FP8: cuBLASLt with fast accumulation writing bf16 with the weight scale
// applied (the per-token scale left to the next kernel, as the engine runs it). For the four
// BitNet-2B linear shapes and a list of row counts it prints the time of each (and cuBLASLt's GEMM
// alone), the achieved TOPS next to the datasheet peak, and how many bf16 outputs differ in any
// bit from the cuBLASLt + epilogue result (INT8: expected none; FP8: the relative error instead).
//
//   scaled_gemm_probe [--dtype int8|fp8] [--m-list 64,512,4096,32768]
#include <cuda_bf16.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/device_ceilings.h"
#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gemm/cublaslt_gemm.h"
#include "gemm/w8a8_linear.h"
#include "gemm/scaled_gemm.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "kernels/activation_quant.h"
#include "math/numeric_formats.h"

using namespace slidesparse;

namespace {

struct Shape {
  const char* name;
  int64_t n, k;
};
constexpr Shape kShapes[] = {{"qkv", 3840, 2560}, {"o", 2560, 2560}, {"gate_up", 13824, 2560}, {"down", 2560, 6912}};

struct Args {
  QuantKind kind = QuantKind::Int8;
  std::vector<int64_t> ms;
};

Args parse(int argc, char** argv) {
  std::string list = "64,512,4096,32768", dtype = "int8";
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    require((flag == "--m-list" || flag == "--dtype") && i + 1 < argc,
            "usage: scaled_gemm_probe [--dtype int8|fp8] [--m-list 64,512,...]");
    (flag == "--m-list" ? list : dtype) = argv[++i];
  }
  const auto kind = parse_quant_kind(dtype);
  require(kind.has_value(), "unknown --dtype '" + dtype + "' (int8, fp8)");
  Args a;
  a.kind = *kind;
  std::vector<int64_t>& ms = a.ms;
  for (size_t at = 0; at <= list.size();) {
    const size_t comma = std::min(list.find(',', at), list.size());
    ms.push_back(std::stoll(list.substr(at, comma - at)));
    at = comma + 1;
  }
  return a;
}

struct Difference {
  size_t differing = 0;
  double relative = 0;  // Frobenius norm of the difference over that of the reference
};

Difference compare(const DeviceBuffer& got, const DeviceBuffer& want) {
  std::vector<uint16_t> g(got.bytes() / 2), w(want.bytes() / 2);
  CUDA_CHECK(cudaMemcpy(g.data(), got.data(), got.bytes(), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(w.data(), want.data(), want.bytes(), cudaMemcpyDeviceToHost));
  Difference d;
  double diff = 0, norm = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    d.differing += g[i] != w[i];
    const double a = bf16_to_float(g[i]), b = bf16_to_float(w[i]);
    diff += (a - b) * (a - b);
    norm += b * b;
  }
  d.relative = std::sqrt(diff / norm);
  return d;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  const bool int8 = a.kind == QuantKind::Int8;
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  const double peak_tops = device_ceilings(stream).peaks.int8_tops;
  constexpr size_t kWorkspace = size_t{64} << 20;
  DeviceBuffer workspace(kWorkspace, "workspace");
  std::printf("%s; %s\n", std::string(quant_kind_label(a.kind)).c_str(), device_ceilings(stream).describe().c_str());
  std::printf("%-8s %6s %12s %12s %12s", "shape", "M", "lt gemm us", "lt+deq us", "lt TOPS");
  for (ScaledGemmTile t : scaled_gemm_tiles()) std::printf(" %16s", std::string(scaled_gemm_tile_name(t)).c_str());
  std::printf("   (us, TOPS of %.0f, %s)\n", peak_tops, int8 ? "differing outputs" : "relative error");
  for (const Shape& s : kShapes) {
    for (int64_t m : a.ms) {
      DeviceBuffer x(size_t(m * s.k), "x"), w(size_t(s.n * s.k), "w"), acc(size_t(m * s.n) * 4, "acc");
      DeviceBuffer sx(size_t(m) * 4, "sx"), sw(size_t(s.n) * 4, "sw");
      DeviceBuffer ref(size_t(m * s.n) * 2, "ref"), out(size_t(m * s.n) * 2, "out");
      fill_random_codes_gpu(a.kind, x.as<uint8_t>(), m, s.k, false, 1, stream);
      fill_ternary_codes_gpu(a.kind, w.as<uint8_t>(), s.n, s.k, false, 2, stream);
      fill_random_f32_gpu(sx.as<float>(), m, 1e-4f, 1e-2f, 3, stream);
      fill_random_f32_gpu(sw.as<float>(), s.n, 0.5f, 2.0f, 4, stream);
      // What the engine runs on cuBLASLt (--cublaslt-dense): INT8 int32 + both scales after; FP8
      // (fast accumulation) bf16 with the weight scale in the GEMM where offered, the rest after.
      const LinearConfig c = default_linear_config(GemmBackend::CublasLt, a.kind, s.n, s.k, 0, m,
                                                   {.fp8_fast_accum = true, .scaled_gemm = false});
      // cuBLASLt offers no fast-accumulation FP8 algorithm for some small-M shapes: then its
      // precise mode, marked '*' in the row.
      bool fast = c.fast_accum;
      std::unique_ptr<CublasLtGemm> lt;
      try {
        lt = std::make_unique<CublasLtGemm>(GemmShape{a.kind, c.output, c.scales, s.n, s.k, fast});
        lt->prepare(m, kWorkspace);
      } catch (const Error&) {
        if (!fast) throw;
        fast = false;
        lt = std::make_unique<CublasLtGemm>(GemmShape{a.kind, c.output, c.scales, s.n, s.k, false});
        lt->prepare(m, kWorkspace);
      }
      auto lt_gemm = [&] {
        lt->run(w.data(), x.data(), acc.data(), m, sw.as<float>(), sx.as<float>(), workspace.data(), kWorkspace, stream);
      };
      auto lt_full = [&] {
        lt_gemm();
        dequantize_rows_gpu(c.output == GemmOutput::Int32 ? AccumulatorType::Int32 : AccumulatorType::BFloat16,
                            acc.data(), m, s.n, c.scales == ScaleMode::BothInGemm ? nullptr : sx.as<float>(),
                            c.scales == ScaleMode::Epilogue ? sw.as<float>() : nullptr,
                            ref.as<__nv_bfloat16>(), stream);
      };
      const double flops = 2.0 * double(m) * double(s.n) * double(s.k);
      const double t_gemm = time_launches_us(lt_gemm, 3, 20, stream);
      const double t_full = time_launches_us(lt_full, 3, 20, stream);
      std::printf("%-8s %6lld %12.1f %12.1f %11.0f%s", s.name, (long long)m, t_gemm, t_full, flops / t_gemm * 1e-6,
                  c.fast_accum && !fast ? "*" : " ");
      ScaledGemm cutlass_gemm(a.kind, s.n, s.k);
      for (ScaledGemmTile tile : scaled_gemm_tiles()) {
        cutlass_gemm.set_tile(m, tile);
        CUDA_CHECK(cudaMemsetAsync(out.data(), 0xff, out.bytes(), stream));  // poisoned
        auto run = [&] {
          cutlass_gemm.run(w.data(), x.data(), sw.as<float>(), sx.as<float>(), out.as<__nv_bfloat16>(), m, stream);
        };
        run();
        CUDA_CHECK(cudaStreamSynchronize(stream));
        const Difference diff = compare(out, ref);
        const double us = time_launches_us(run, 3, 20, stream);
        if (int8)
          std::printf("  %6.1f %4.0f %4zu", us, flops / us * 1e-6, diff.differing);
        else
          std::printf("  %6.1f %4.0f %.0e", us, flops / us * 1e-6, diff.relative);
      }
      std::printf("\n");
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "scaled_gemm_probe: %s\n", e.what());
  return 1;
}
