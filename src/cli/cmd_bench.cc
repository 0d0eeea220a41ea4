#include <algorithm>
#include <cstdio>
#include <optional>

#include "bench/attention_decode_bench.h"
#include "bench/attention_prefill_bench.h"
#include "bench/bandwidth_rows.h"
#include "bench/device_ceilings.h"
#include "bench/kernel_bench.h"
#include "bench/linear_bench.h"
#include "bench/norm_bench.h"
#include "bench/quant_bench.h"
#include "bench/rope_kv_bench.h"
#include "bench/throughput_bench.h"
#include "cli/args.h"
#include "cli/engine_args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "gemm/hardware_tag.h"
#include "gpu/cuda_check.h"
#include "gpu/device_info.h"

namespace slidesparse {

namespace {

// The memory-bound kernel benchmarks' setup: a stream, and the GPU's ceilings printed first (the
// copy bandwidth every row is measured against).
class BandwidthBenchStream {
 public:
  BandwidthBenchStream() {
    CUDA_CHECK(cudaStreamCreate(&stream_));
    const DeviceCeilings ceilings = device_ceilings(stream_);
    copy_gbps_ = ceilings.copy_gbps;
    std::printf("ceilings: %s\n", ceilings.describe().c_str());
  }
  ~BandwidthBenchStream() { cudaStreamDestroy(stream_); }
  BandwidthBenchStream(const BandwidthBenchStream&) = delete;
  BandwidthBenchStream& operator=(const BandwidthBenchStream&) = delete;
  cudaStream_t stream() const { return stream_; }
  double copy_gbps() const { return copy_gbps_; }

 private:
  cudaStream_t stream_ = nullptr;
  double copy_gbps_ = 0;
};

// The bandwidth benchmarks' backends: dense first, then the patterns asked for.
std::vector<Sparsity> dense_and(const std::vector<Sparsity>& patterns) {
  std::vector<Sparsity> all{Sparsity::dense()};
  all.insert(all.end(), patterns.begin(), patterns.end());
  return all;
}

int bench_kernel(const CommandArgs& args) {
  ArgParser p("slidesparse bench kernel",
              "GEMM kernel benchmark (docs/PROTOCOLS.md): per BitNet layer and M, the best cuBLASLt and cuSPARSELt\n"
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
  p.flag("fast-accum", "FP8 cuBLASLt: CUBLASLT_MATMUL_DESC_FAST_ACCUM (no periodic fp32 promotion)");
  if (!p.parse(args)) return 0;
  KernelBenchOptions o;
  o.fast_accum = p.has("fast-accum");
  const std::string backends = p.get("backend");
  o.backends.clear();
  if (backends.find("cublaslt") != std::string::npos) o.backends.push_back(Sparsity::dense());
  if (backends.find("cusparselt") != std::string::npos)
    for (const Sparsity s : parse_sparsity_list(p.get("sparsity"), true)) o.backends.push_back(s);
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
              "device-to-device copy bandwidth measured on the spot, at the fastest launch shape of each\n"
              "(threads x rows per block).");
  p.option("dtype", "int8|fp8|all", "types", "all");
  p.option("m-list", "LIST", "Ms", "16,128,1024,4096,16384,32768");
  p.option("k-list", "LIST", "Ks", "2560,6912");
  p.option("sparsity", "LIST", "slide patterns", "2:4,2:6,2:8,2:10,2:12,2:14,2:16");
  p.option("warmup", "N", "warmup launches", "25");
  p.option("repeat", "N", "timed launches", "100");
  if (!p.parse(args)) return 0;
  const std::vector<Sparsity> sparsities = dense_and(parse_sparsity_list(p.get("sparsity"), false));
  const BandwidthBenchStream bench;
  std::vector<BandwidthRow> rows;
  for (QuantKind kind : parse_dtype_list("dtype", p.get("dtype"))) {
    const auto some = bench_activation_quant(kind, parse_int_list("m-list", p.get("m-list")),
                                             parse_int_list("k-list", p.get("k-list")), sparsities, bench.copy_gbps(),
                                             static_cast<int>(p.get_int("warmup")),
                                             static_cast<int>(p.get_int("repeat")), bench.stream());
    rows.insert(rows.end(), some.begin(), some.end());
  }
  std::fputs(format_bandwidth_rows(rows, {}).c_str(), stdout);
  return 0;
}

int bench_norm(const CommandArgs& args) {
  ArgParser p("slidesparse bench norm",
              "The engine's fused norm kernels (residual add + RMSNorm + quantize [+ slide], relu2*up + sub-norm\n"
              "+ quantize, the final norm on gathered rows): achieved GB/s against the copy bandwidth, at the\n"
              "fastest launch shape of each, with the kernel it ran (each row in registers, and its 16-byte\n"
              "chunks per thread, or staged in shared memory). Accumulator-fed rows name the GEMM output form\n"
              "they read: bf16, bf16+sx (per-token scale left), bf16+sx+sw (both; \"/part\": one weight scale\n"
              "per part, as the engine's checkpoints have them), int32+sx+sw.");
  p.option("dtype", "int8|fp8|all", "types", "all");
  p.option("m-list", "LIST", "Ms", "4096,16384");
  p.option("sparsity", "LIST", "slide patterns", "2:4,2:8");
  p.option("warmup", "N", "warmup launches", "25");
  p.option("repeat", "N", "timed launches", "100");
  if (!p.parse(args)) return 0;
  const std::vector<Sparsity> sparsities = dense_and(parse_sparsity_list(p.get("sparsity"), false));
  const auto ms = parse_int_list("m-list", p.get("m-list"));
  const int warmup = static_cast<int>(p.get_int("warmup")), repeat = static_cast<int>(p.get_int("repeat"));
  const BandwidthBenchStream bench;
  std::vector<BandwidthRow> rows;
  for (QuantKind kind : parse_dtype_list("dtype", p.get("dtype"))) {
    const auto norms = bench_rmsnorm_quantize(kind, ms, {2560, 6912}, sparsities, bench.copy_gbps(), warmup, repeat,
                                              bench.stream());
    const auto fused = bench_fused_norms(kind, ms, sparsities, bench.copy_gbps(), warmup, repeat, bench.stream());
    rows.insert(rows.end(), norms.begin(), norms.end());
    rows.insert(rows.end(), fused.begin(), fused.end());
  }
  std::fputs(format_bandwidth_rows(rows, {}).c_str(), stdout);
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
  if (p.has("db")) db = TuningDatabase::load(p.get("db"), current_hardware_tag());
  for (QuantKind kind : parse_dtype_list("dtype", p.get("dtype")))
    run_linear_bench(kind, parse_int_list("m-list", p.get("m-list")), parse_sparsity_list(p.get("sparsity"), false),
                     static_cast<int>(p.get_int("warmup")), static_cast<int>(p.get_int("repeat")), db ? &*db : nullptr);
  return 0;
}

int bench_throughput(const CommandArgs& args) {
  ArgParser p("slidesparse bench throughput",
              "End-to-end prefill or decode throughput of the native engine under the benchmark protocol\n"
              "(docs/PROTOCOLS.md): a fresh engine per M, random prompts, EOS ignored, greedy sampling; tokens/s\n"
              "counts prompt + output tokens. CSV + JSON in <out>/<stage>/<hardware tag>/<backend>/.");
  p.option("stage", "prefill|decode", "which benchmark", "prefill");
  add_engine_options(p, EngineSizing::SetByProtocol);
  p.option("m-list", "LIST", "Ms (prefill: 512..32768, decode: 64..512)");
  p.option("out", "DIR", "results folder", "results/throughput");
  p.option("seed", "N", "seed of the random prompts", "0");
  p.flag("profile", "after each point, time one more step phase by phase and print the breakdown");
  p.option("temperature", "F", "sampled requests' temperature (0: every request greedy, the protocol)", "0");
  p.option("top-k", "N", "sampled requests' top-k (0: off)", "0");
  p.option("top-p", "F", "sampled requests' top-p", "1");
  p.option("sampled-share", "F", "with --temperature > 0: the share of requests that sample, the rest greedy", "1");
  if (!p.parse(args)) return 0;
  require(p.has("model"), "bench throughput: --model DIR is required");
  ThroughputOptions o;
  o.temperature = static_cast<float>(parse_double("temperature", p.get("temperature")));
  o.top_k = static_cast<int>(p.get_int("top-k"));
  o.top_p = static_cast<float>(parse_double("top-p", p.get("top-p")));
  o.sampled_share = parse_double("sampled-share", p.get("sampled-share"));
  check_sampling_options(o);  // before the model is looked at
  o.stage = p.get("stage");
  o.engine = engine_options_from(p);
  o.ms = parse_int_list("m-list", p.has("m-list") ? p.get("m-list")
                                                  : o.stage == "decode" ? "64,128,256,512"
                                                                        : "512,1024,2048,4096,8192,16384,32768");
  o.out_dir = p.get("out");
  o.seed = p.get_uint("seed");
  o.profile = p.has("profile");
  run_throughput_bench(o);
  return 0;
}

int bench_attention(const CommandArgs& args) {
  ArgParser p("slidesparse bench attention",
              "Attention kernels at the BitNet-2B shape (20 q / 5 kv heads, head_dim 128): causal prefill in\n"
              "TFLOP/s against the GPU's dense bf16 peak, paged decode in GB/s against the copy bandwidth.");
  p.option("seqs", "LIST", "prefill: sequences per launch", "32");
  p.option("seq-len", "LIST", "prefill: tokens per sequence", "512,1024,2048");
  p.option("decode-seqs", "LIST", "decode: sequences", "1,8,64,512");
  p.option("decode-context", "LIST", "decode: context lengths", "272,1024,4096");
  p.option("block-size", "N", "KV-cache block size", "64");
  p.flag("sweep", "decode: time every split configuration candidate");
  p.flag("rope",
         "decode: also time attention with the step's RoPE and KV write, as the RoPE kernel then attention and as "
         "the one kernel that does both, on plain and on scaled bf16 QKV rows");
  p.flag("floors",
         "decode: also time the kernel's floors where it runs without a split: its grid doing nothing, and its grid "
         "copying K and V as it does without the arithmetic");
  p.flag("no-cudnn", "prefill: leave out cuDNN's SDPA (timed by default where libcudnn 9.7+ loads)");
  if (!p.parse(args)) return 0;
  // Every option checked before the GPU is touched.
  std::vector<int> seqs, lens;
  for (int64_t v : parse_int_list("seqs", p.get("seqs"))) seqs.push_back(static_cast<int>(v));
  for (int64_t v : parse_int_list("seq-len", p.get("seq-len"))) lens.push_back(static_cast<int>(v));
  const int block_size = static_cast<int>(p.get_int("block-size"));
  AttentionDecodeBenchOptions d;
  d.num_seqs.clear();
  d.contexts.clear();
  for (int64_t v : parse_int_list("decode-seqs", p.get("decode-seqs"))) d.num_seqs.push_back(static_cast<int>(v));
  for (int64_t v : parse_int_list("decode-context", p.get("decode-context"))) d.contexts.push_back(static_cast<int>(v));
  d.block_size = block_size;
  if (p.has("sweep")) d.configs = attention_decode_config_candidates();
  d.rope = p.has("rope");
  d.floors = p.has("floors");
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  print_attention_prefill_rows(bench_attention_prefill(seqs, lens, block_size, 10, 50, !p.has("no-cudnn"), stream));
  run_attention_decode_bench(d, stream);
  CUDA_CHECK(cudaStreamDestroy(stream));
  return 0;
}

int bench_engine_kernels(const CommandArgs& args) {
  ArgParser p("slidesparse bench engine-kernels",
              "RoPE + KV-cache write and token sampling (greedy, top-p, top-k + top-p): achieved GB/s against\n"
              "the copy bandwidth.");
  p.option("t-list", "LIST", "tokens for RoPE + KV write", "512,8192,32768");
  p.option("rows", "LIST", "logit rows for sampling", "64,512");
  p.option("vocab", "N", "vocabulary", "128256");
  p.option("blocks-per-row", "LIST", "sampling: blocks sharing a row (1, 2, 4, 8; default: the launch's own choice)",
           "");
  p.option("warmup", "N", "warmup launches", "25");
  p.option("repeat", "N", "timed launches", "100");
  if (!p.parse(args)) return 0;
  const int warmup = static_cast<int>(p.get_int("warmup")), repeat = static_cast<int>(p.get_int("repeat"));
  std::vector<int> blocks_per_row;  // 0: the launch's own choice
  if (p.get("blocks-per-row").empty()) blocks_per_row.push_back(0);
  else
    for (int64_t b : parse_int_list("blocks-per-row", p.get("blocks-per-row"))) {
      require(b == 1 || b == 2 || b == 4 || b == 8,
              "bench engine-kernels: --blocks-per-row must be 1, 2, 4 or 8, got " + std::to_string(b));
      blocks_per_row.push_back(static_cast<int>(b));
    }
  const BandwidthBenchStream bench;
  auto rows = bench_rope_kv({RopeInput::Int32BothScales, RopeInput::Bf16ScaleX, RopeInput::Bf16Plain}, parse_int_list("t-list", p.get("t-list")),
                            bench.copy_gbps(), warmup, repeat, bench.stream());
  const auto am = bench_sampling(parse_int_list("rows", p.get("rows")), p.get_int("vocab"), blocks_per_row,
                                 bench.copy_gbps(), warmup, repeat, bench.stream());
  rows.insert(rows.end(), am.begin(), am.end());
  std::fputs(format_bandwidth_rows(rows, {"rows", "cols", false}).c_str(), stdout);
  return 0;
}

}  // namespace

int run_bench(const CommandArgs& args) {
  static const std::vector<std::string> kinds = {"kernel",    "quant",      "norm",           "linear",
                                                 "attention", "throughput", "engine-kernels", "serve"};
  require(!args.empty() && (std::find(kinds.begin(), kinds.end(), args[0]) != kinds.end() || args[0] == "--help"),
          "slidesparse bench: expected a benchmark: kernel, quant, norm, linear, attention, engine-kernels, "
          "throughput or serve");
  if (args[0] == "--help") {
    std::printf("usage: slidesparse bench kernel|quant|norm|linear|attention|engine-kernels|throughput|serve"
                " [options]   (each takes --help)\n");
    return 0;
  }
  const CommandArgs rest(args.begin() + 1, args.end());
  if (args[0] == "serve") return run_bench_serve(rest);
  if (args[0] == "kernel") return bench_kernel(rest);
  if (args[0] == "quant") return bench_quant(rest);
  if (args[0] == "norm") return bench_norm(rest);
  if (args[0] == "throughput") return bench_throughput(rest);
  if (args[0] == "attention") return bench_attention(rest);
  if (args[0] == "engine-kernels") return bench_engine_kernels(rest);
  return bench_linear(rest);
}

}  // namespace slidesparse
