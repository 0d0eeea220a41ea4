#include <cstdio>
#include <optional>

#include "bench/kernel_bench.h"
#include "bench/linear_bench.h"
#include "bench/quant_bench.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "gemm/hardware_tag.h"
#include "gpu/cuda_check.h"
#include "gpu/device_info.h"

namespace slidesparse {

namespace {

int bench_kernel(const CommandArgs& args) {
  ArgParser p("slidesparse bench kernel",
              "GEMM kernel benchmark (REFERENCE §7): per BitNet layer and M, the best cuBLASLt and cuSPARSELt\n"
              "latency from a full algorithm search; 4-layer totals and speedups (latency ratios). CSVs in\n"
              "<out>/<GPU>_cc<XY>_<INT8|FP8E4M3>_cu<XY>_<arch>/.");
  p.option("dtype", "int8|fp8|all", "operand types", "all");
  p.option("backend", "LIST", "cublaslt,cusparselt", "cublaslt,cusparselt");
  p.option("sparsity", "LIST", "patterns for cuSPARSELt (high: 2:4..2:10, low: 2:12,2:14,2:16,2:inf)",
           "2:4,2:6,2:8,2:10");
  p.option("m-list", "LIST", "Ms", "64,128,256,512,1024,2048,4096,8192,16384");
  p.option("mode", "model|square", "BitNet layer shapes or square N = K = M", "model");
  p.option("warmup", "N", "warmup launches", "25");
  p.option("repeat", "N", "timed launches", "50");
  p.option("out", "DIR", "results folder", "results/kernel");
  if (!p.parse(args)) return 0;
  KernelBenchOptions o;
  const std::string backends = p.get("backend");
  o.dense = backends.find("cublaslt") != std::string::npos;
  if (backends.find("cusparselt") != std::string::npos) o.sparsities = parse_sparsity_list(p.get("sparsity"), true);
  o.ms = parse_int_list("m-list", p.get("m-list"));
  const std::string mode = p.get("mode");
  require(mode == "model" || mode == "square", "bench kernel: --mode must be model or square, got '" + mode + "'");
  o.square = mode == "square";
  o.protocol.warmup = static_cast<int>(p.get_int("warmup"));
  o.protocol.repeat = static_cast<int>(p.get_int("repeat"));
  o.out_dir = p.get("out");
  for (QuantKind kind : parse_dtype_list("dtype", p.get("dtype"))) {
    if (kind == QuantKind::Fp8E4M3 && !query_device().supports_fp8()) {
      std::printf("FP8 skipped: %s has compute capability below 8.9\n", query_device().name.c_str());
      continue;
    }
    o.kind = kind;
    run_kernel_bench(o);
  }
  return 0;
}

int bench_quant(const CommandArgs& args) {
  ArgParser p("slidesparse bench quant",
              "Activation quantization kernels (quantize, quantize + slide per L): achieved GB/s against the\n"
              "device-to-device copy bandwidth measured on the spot.");
  p.option("dtype", "int8|fp8|all", "types", "all");
  p.option("m-list", "LIST", "Ms", "16,128,1024,4096,16384,32768");
  p.option("k-list", "LIST", "Ks", "2560,6912");
  p.option("sparsity", "LIST", "slide patterns", "2:4,2:6,2:8,2:10,2:12,2:14,2:16");
  p.option("warmup", "N", "warmup launches", "25");
  p.option("repeat", "N", "timed launches", "100");
  if (!p.parse(args)) return 0;
  std::vector<int> groups{0};
  for (const auto& s : parse_sparsity_list(p.get("sparsity"), false)) groups.push_back(s.group);
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  const double copy = measure_copy_bandwidth_gbps(stream);
  std::printf("device-to-device copy: %.0f GB/s (bytes read + written)\n", copy);
  std::printf("%-8s %-4s %7s %6s %10s %9s %8s\n", "kernel", "L", "M", "K", "us", "GB/s", "of copy");
  for (QuantKind kind : parse_dtype_list("dtype", p.get("dtype")))
    for (const auto& r : bench_activation_quant(kind, parse_int_list("m-list", p.get("m-list")),
                                                parse_int_list("k-list", p.get("k-list")), groups,
                                                static_cast<int>(p.get_int("warmup")),
                                                static_cast<int>(p.get_int("repeat")), stream))
      std::printf("%-8s %-4d %7lld %6lld %10.2f %9.0f %7.1f%%\n", r.kernel.c_str(), r.L, static_cast<long long>(r.m),
                  static_cast<long long>(r.k), r.us, r.gbps, 100 * r.fraction_of_copy);
  cudaStreamDestroy(stream);
  return 0;
}

int bench_linear(const CommandArgs& args) {
  ArgParser p("slidesparse bench linear",
              "The whole W8A8 linear op (quantize [+ slide] -> GEMM -> scales) over the 4 BitNet layers, dense\n"
              "cuBLASLt against cuSPARSELt SlideSparse, default configurations, library-default algorithms.");
  p.option("dtype", "int8|fp8|all", "types", "all");
  p.option("m-list", "LIST", "Ms", "1024,4096,16384");
  p.option("sparsity", "LIST", "patterns", "2:4,2:6,2:8,2:10");
  p.option("warmup", "N", "warmup", "10");
  p.option("repeat", "N", "repeat", "30");
  p.option("db", "FILE", "tuning database (slidesparse tune); without it the libraries' defaults run");
  if (!p.parse(args)) return 0;
  std::optional<TuningDatabase> db;
  if (p.has("db")) {
    std::string warning;
    db = TuningDatabase::load(p.get("db"), current_hardware_tag(), &warning);
    if (!warning.empty()) std::fprintf(stderr, "slidesparse: warning: %s\n", warning.c_str());
  }
  for (QuantKind kind : parse_dtype_list("dtype", p.get("dtype")))
    run_linear_bench(kind, parse_int_list("m-list", p.get("m-list")), parse_sparsity_list(p.get("sparsity"), false),
                     static_cast<int>(p.get_int("warmup")), static_cast<int>(p.get_int("repeat")), db ? &*db : nullptr);
  return 0;
}

}  // namespace

int run_bench(const CommandArgs& args) {
  require(!args.empty() && (args[0] == "kernel" || args[0] == "quant" || args[0] == "linear" || args[0] == "--help"),
          "slidesparse bench: expected a benchmark: kernel, quant or linear");
  if (args[0] == "--help") {
    std::printf("usage: slidesparse bench kernel|quant|linear [options]   (each takes --help)\n");
    return 0;
  }
  const CommandArgs rest(args.begin() + 1, args.end());
  if (args[0] == "kernel") return bench_kernel(rest);
  if (args[0] == "quant") return bench_quant(rest);
  return bench_linear(rest);
}

}  // namespace slidesparse
