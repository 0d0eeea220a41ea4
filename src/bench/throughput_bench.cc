#include "bench/throughput_bench.h"

#include "bench/bench_results.h"
#include "bench/device_ceilings.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "core/stopwatch.h"
#include "gpu/cuda_check.h"
#include "gpu/device_info.h"
#include "io/model_config.h"
#include "io/results_layout.h"
#include "io/staged_directory.h"
#include "kernels/dependent_launch.h"
#include "kernels/graph_memsets.h"
#include "runtime/host_model.h"
#include "runtime/llm_engine.h"
#include "tuning/tuning_db.h"

namespace slidesparse {

namespace {

// The mapping from M to engine limits and workload of the throughput protocol (docs/PROTOCOLS.md).
struct PointPlan {
  int prompt_len, max_num_seqs, num_prompts, steps, output_len, max_model_len, max_batched_tokens;
  bool chunked_prefill;
};

PointPlan plan_point(const std::string& stage, int64_t m) {
  const int mi = static_cast<int>(m);
  if (stage == "prefill") {
    const int prompt = m <= 1024 ? mi : 1024, seqs = m <= 1024 ? 1 : mi / 1024;
    return {prompt, seqs, 128 * seqs, 128, 1, prompt + 1, std::max(mi, prompt + 1), false};
  }
  return {16, mi, mi, 256, 256, 272, std::max(mi, 272), false};
}

// One step of the point's shape, phase by phase: time per step, and the rate each phase reaches
// against its ceiling (GEMMs and attention in dense-equivalent TOPS / TFLOP/s, the rest in GB/s of
// the bytes it must move).
void print_breakdown(LlmEngine& engine, const std::string& stage, const PointPlan& plan, std::mt19937_64& rng) {
  const ModelConfig& c = engine.config();
  const DeviceCeilings& ceilings = device_ceilings(nullptr);  // measured before the profiled step
  const double gemm_peak = engine.weights().description().quant == QuantKind::Int8 ? ceilings.peaks.int8_tops
                                                                                   : ceilings.peaks.fp8_tops;
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(c.vocab_size - 1));
  SamplingParams params;
  params.max_tokens = stage == "prefill" ? 1 : 8;
  params.ignore_eos = true;
  const int requests = plan.max_num_seqs;  // one full step's worth
  for (int r = 0; r < requests; ++r) {
    std::vector<int32_t> p(static_cast<size_t>(plan.prompt_len));
    for (auto& t : p) t = token(rng);
    engine.add_request(std::move(p), params);
  }
  if (stage == "decode")  // run the prefills, then profile a decode step of every request
    while (engine.num_waiting() > 0 || engine.num_running() < requests) engine.step();
  engine.finish_step_in_flight();  // the first decode step, launched ahead by the last prefill step
  StepProfiler profiler;
  engine.set_profiler(&profiler);
  engine.step();
  engine.set_profiler(nullptr);
  const auto phases = profiler.finish();
  while (!engine.idle()) engine.step();

  const double tokens = stage == "prefill" ? double(plan.max_num_seqs) * plan.prompt_len : plan.max_num_seqs;
  const double layers = double(c.num_hidden_layers), hidden = double(c.hidden_size), inter = double(c.intermediate_size);
  const double heads = double(c.num_attention_heads), kv = double(c.num_key_value_heads), hd = double(c.head_dim);
  const double qkv_n = hidden + 2 * kv * hd;
  auto gemm_ops = [&](double n, double k) { return 2 * tokens * n * k * layers; };
  // Context per query: prefill queries see (len + 1) / 2 keys on average; decode sees ~ prompt + 4.
  const double context = stage == "prefill" ? (plan.prompt_len + 1) / 2.0 : plan.prompt_len + 4.0;
  std::map<std::string, std::pair<double, const char*>> work = {
      {"qkv GEMM", {gemm_ops(qkv_n, hidden), "TOPS"}},
      {"o GEMM", {gemm_ops(hidden, hidden), "TOPS"}},
      {"gate_up GEMM", {gemm_ops(2 * inter, hidden), "TOPS"}},
      {"gate_up GEMM+relu2*up", {gemm_ops(2 * inter, hidden), "TOPS"}},
      {"down GEMM", {gemm_ops(hidden, inter), "TOPS"}},
      {"o GEMM+residual", {gemm_ops(hidden, hidden), "TOPS"}},
      {"down GEMM+residual", {gemm_ops(hidden, inter), "TOPS"}},
      {"attention", stage == "prefill" ? std::pair{4 * tokens * context * heads * hd * layers, "TFLOP/s"}
                                       : std::pair{4 * tokens * context * kv * hd * layers, "GB/s"}},
      {"input norm+quant", {tokens * hidden * (2 + 2 + 2 + 1) * layers, "GB/s"}},
      {"residual+post norm+quant", {tokens * hidden * (2 + 2 + 2 + 1) * layers, "GB/s"}},
      {"attn_sub norm+quant", {tokens * hidden * (2 + 1) * layers, "GB/s"}},
      {"input tensor norm+quant", {tokens * hidden * (2 + 1) * layers, "GB/s"}},
      {"post norm+quant", {tokens * hidden * (2 + 1) * layers, "GB/s"}},
      {"relu2*up+ffn_sub norm+quant", {tokens * inter * (2 * 2 + 1) * layers, "GB/s"}},
      {"ffn_sub norm+quant", {tokens * inter * (2 + 1) * layers, "GB/s"}},
      {"rope+kv write", {tokens * (qkv_n * 2 + hidden * 2 + 2 * kv * hd * 2) * layers, "GB/s"}},
      // Decode attention that rotates its fresh token itself: the keys and values read, the QKV rows
      // read and the fresh k and v written (no q round trip).
      {"rope+kv write+attention",
       {(4 * tokens * context * kv * hd + tokens * (qkv_n * 2 + 2 * kv * hd * 2)) * layers, "GB/s"}},
  };
  double total = 0, host_total = 0, linear_gemms = 0;  // linear_gemms: the four linear layers' GEMMs
  for (const StepPhase& p : phases) total += p.gpu_ms, host_total += p.host_ms;
  std::printf("step breakdown (%s, %.0f tokens, %d layers; bytes assume 2-byte GEMM outputs and K' = K):\n",
              stage.c_str(), tokens, static_cast<int>(c.num_hidden_layers));
  std::printf("  %-30s %9s %7s %12s %8s %9s\n", "phase", "ms", "share", "rate", "ceiling", "host ms");
  for (const StepPhase& p : phases) {
    std::string rate, of_ceiling;
    if (const auto it = work.find(p.name); it != work.end() && p.gpu_ms > 0) {
      const std::string unit = it->second.second;
      if (unit == "TOPS") linear_gemms += p.gpu_ms;
      const double per_s = it->second.first / (p.gpu_ms * 1e-3);
      const double value = per_s / (unit == "GB/s" ? 1e9 : 1e12);
      // GEMMs against the dtype's dense peak, prefill attention against bf16's, the rest against copy.
      const double ceiling = unit == "GB/s" ? ceilings.copy_gbps : unit == "TOPS" ? gemm_peak : ceilings.peaks.bf16_tflops;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.0f %s", value, unit.c_str());
      rate = buf;
      if (ceiling > 0) {
        std::snprintf(buf, sizeof buf, "%.0f%%", 100 * value / ceiling);
        of_ceiling = buf;
      }
    }
    std::printf("  %-30s %9.3f %6.1f%% %12s %8s %9.3f\n", p.name.c_str(), p.gpu_ms, 100 * p.gpu_ms / total,
                rate.c_str(), of_ceiling.c_str(), p.host_ms);
  }
  std::printf("  %-30s %9.3f %7s %12s %8s %9.3f  (host column: time issuing the launches; host >= GPU would mean launch-bound)\n", "total", total, "", "", "", host_total);
  // The split sparsity works on: the linear layers' GEMMs, and everything else in the step.
  std::printf("  linear-layer GEMMs %.3f ms, everything else %.3f ms\n", linear_gemms, total - linear_gemms);
  std::printf("  ceilings: %s\n", ceilings.describe().c_str());
}

// Builds weights on a stream of their own, which is only needed until the uploads finish.
std::shared_ptr<ModelWeights> build_weights(const std::function<std::shared_ptr<ModelWeights>(cudaStream_t)>& make) {
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  std::shared_ptr<ModelWeights> weights;
  try {
    weights = make(stream);
    CUDA_CHECK(cudaStreamSynchronize(stream));
  } catch (...) {
    cudaStreamDestroy(stream);
    throw;
  }
  cudaStreamDestroy(stream);
  return weights;
}

}  // namespace

void check_sampling_options(const ThroughputOptions& o) {
  require(o.temperature >= 0, "bench throughput: --temperature must be >= 0, got " + std::to_string(o.temperature));
  require(o.top_k >= 0, "bench throughput: --top-k must be >= 0, got " + std::to_string(o.top_k));
  require(o.top_p > 0 && o.top_p <= 1, "bench throughput: --top-p must be in (0, 1], got " + std::to_string(o.top_p));
  require(o.sampled_share >= 0 && o.sampled_share <= 1,
          "bench throughput: --sampled-share must be in [0, 1], got " + std::to_string(o.sampled_share));
}

std::vector<ThroughputPoint> run_throughput_bench(const ThroughputOptions& o, const ThroughputPointDone& on_point) {
  require(o.stage == "prefill" || o.stage == "decode", "bench throughput: --stage must be prefill or decode");
  require(!o.ms.empty(), "bench throughput: empty M list");
  const DeviceInfo device = query_device();
  std::vector<ThroughputPoint> points;
  std::filesystem::path dir;
  const auto engine_options = [&](int64_t m) {
    require(m > 0 && (o.stage == "decode" || m <= 1024 || m % 1024 == 0),
            "bench throughput: prefill M must be <= 1024 or a multiple of 1024, got " + std::to_string(m));
    const PointPlan plan = plan_point(o.stage, m);
    EngineOptions e = o.engine;
    e.runner.max_num_seqs = plan.max_num_seqs;
    e.runner.max_num_batched_tokens = plan.max_batched_tokens;
    e.runner.max_model_len = plan.max_model_len;
    e.runner.num_kv_blocks = 0;
    e.chunked_prefill = plan.chunked_prefill;
    return e;
  };
  // A cuBLASLt checkpoint is loaded once, for the largest point; every point still gets a fresh
  // engine: KV cache, plans for its rows, CUDA graphs (excluded from timing). A cuSPARSELt one is
  // read into pinned host memory once and put on the device per point: cuSPARSELt 0.8.0 plans
  // reused by a second engine (new activation and output buffers) faulted on the H100
  // (docs/PERF.md), fresh weights and plans per engine do not. Start-up reports both parts.
  std::shared_ptr<ModelWeights> weights;
  std::unique_ptr<HostModel> host;
  const Stopwatch load_clock;
  if (o.engine.backend == GemmBackend::CublasLt) {
    WeightLoadOptions load;
    for (int64_t m : o.ms) {
      const WeightLoadOptions need = LlmEngine::weight_options(engine_options(m));
      if (need.max_tokens >= load.max_tokens) load = need;
    }
    weights = build_weights([&](cudaStream_t stream) { return std::make_shared<ModelWeights>(o.engine.model, load, stream); });
    std::printf("bench throughput: %s loaded in %.1f s\n", o.engine.model.filename().c_str(), load_clock.seconds());
  } else {
    host = std::make_unique<HostModel>(o.engine.model, true);
    std::printf("bench throughput: %s read into host memory in %.1f s (%.2f GiB of linear weights)\n",
                o.engine.model.filename().c_str(), load_clock.seconds(), static_cast<double>(host->linear_bytes()) / (1 << 30));
  }
  if (o.profile) device_ceilings(nullptr);  // its 2 GiB copy before the engines take the memory
  ProgressBar progress("throughput " + o.stage, static_cast<long>(o.ms.size()));
  for (int64_t m : o.ms) {
    throw_if_interrupted();  // between points: the finished ones are already written
    const PointPlan plan = plan_point(o.stage, m);
    const EngineOptions e = engine_options(m);
    const Stopwatch weights_clock;
    std::shared_ptr<ModelWeights> point_weights =
        host ? build_weights([&](cudaStream_t stream) {
          return std::make_shared<ModelWeights>(*host, LlmEngine::weight_options(e), stream);
        })
             : weights;
    const double weights_seconds = host ? weights_clock.seconds() : 0.0;
    LlmEngine engine(e, std::move(point_weights));
    const Stopwatch prepare_clock;  // plans and attention graphs of the point's prefill steps: start-up
    engine.prepare_prefill(plan.prompt_len);
    const double prepare_seconds = prepare_clock.seconds();
    if (dir.empty()) {
      const CheckpointDescription& d = engine.weights().description();
      dir = o.out_dir / o.stage /
            result_folder_tag(device.short_name, device.compute_capability(),
                              std::string(quant_kind_tag(d.quant)), device.runtime_version, "x86_64") /
            results_layout::throughput_backend_folder(d.sparsity);
    }
    std::mt19937_64 rng(o.seed + static_cast<uint64_t>(m));
    std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(engine.config().vocab_size - 1));
    SamplingParams greedy;
    greedy.max_tokens = plan.output_len;
    greedy.ignore_eos = true;
    std::vector<SamplingParams> params(static_cast<size_t>(plan.num_prompts), greedy);
    if (o.temperature > 0)
      for (size_t r = 0; r < params.size(); ++r)  // request r samples when the share's running count steps
        if (std::floor((r + 1) * o.sampled_share) > std::floor(r * o.sampled_share)) {
          params[r].temperature = o.temperature;
          params[r].top_k = o.top_k;
          params[r].top_p = o.top_p;
          params[r].seed = o.seed + r;
        }
    std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(plan.num_prompts));
    for (auto& p : prompts) {
      p.resize(static_cast<size_t>(plan.prompt_len));
      for (auto& t : p) t = token(rng);
    }

    const Stopwatch clock;  // the timed region: every request from submission to its last token
    for (size_t r = 0; r < prompts.size(); ++r) engine.add_request(std::move(prompts[r]), params[r]);
    while (!engine.idle()) engine.step();
    const double elapsed = clock.seconds();

    ThroughputPoint pt;
    pt.m = m;
    pt.prompt_len = plan.prompt_len;
    pt.max_num_seqs = plan.max_num_seqs;
    pt.num_prompts = plan.num_prompts;
    pt.steps = plan.steps;
    pt.output_len = plan.output_len;
    pt.elapsed_s = elapsed;
    pt.requests_per_s = plan.num_prompts / elapsed;
    pt.tokens_per_s = static_cast<double>(plan.num_prompts) * (plan.prompt_len + plan.output_len) / elapsed;
    pt.startup_s = weights_seconds + engine.startup_seconds() + prepare_seconds;
    points.push_back(pt);
    nlohmann::json j = {{"M", m},
                              {"stage", o.stage},
                              {"elapsed_time", elapsed},
                              {"num_requests", plan.num_prompts},
                              {"prompt_len", plan.prompt_len},
                              {"max_num_seqs", plan.max_num_seqs},
                              {"steps", plan.steps},
                              {"output_len", plan.output_len},
                              {"total_num_tokens", static_cast<int64_t>(plan.num_prompts) * (plan.prompt_len + plan.output_len)},
                              {"requests_per_second", pt.requests_per_s},
                              {"tokens_per_second", pt.tokens_per_s},
                              {"startup_seconds", pt.startup_s},
                              {"engine_stats", engine.stats_line()},
                              {"preemptions", engine.stats().preemptions},
                              // Host time per decode step (hidden behind the GPU when running ahead), and
                              // the GPU's time between two decode steps' forward passes.
                              {"decode_host_us_per_step", engine.stats().decode_steps > 0
                                                              ? 1e6 * engine.stats().decode_host_seconds /
                                                                    engine.stats().decode_steps
                                                              : 0.0},
                              {"decode_gap_us", engine.stats().decode_gaps > 0
                                                    ? 1e6 * engine.stats().decode_gap_seconds / engine.stats().decode_gaps
                                                    : 0.0},
                              {"run_ahead", o.engine.run_ahead},
                              {"sampling", o.temperature > 0 ? nlohmann::json{{"temperature", o.temperature},
                                                                              {"top_k", o.top_k},
                                                                              {"top_p", o.top_p},
                                                                              {"sampled_share", o.sampled_share}}
                                                             : nlohmann::json("greedy")},
                              {"steps_launched_ahead", engine.stats().steps_ahead},
                              {"kv_blocks", engine.runner().num_kv_blocks()},
                              {"cuda_graphs", o.engine.runner.cuda_graphs},
                              {"exact_scales", o.engine.exact_scales},
                              // Programmatic dependent launch of our kernels (SLIDESPARSE_PDL=0: off).
                              {"dependent_launch", dependent_launch_enabled()},
                              // Decode graphs' memset nodes as kernel nodes (SLIDESPARSE_GRAPH_MEMSETS=keep: not).
                              {"graph_memsets_as_kernels", graph_memsets_as_kernels()},
                              // The qkv linear's GEMM as built ("cutlass int8 -> bf16 (both-in-gemm) ..."):
                              // which library ran the dense path, and how its scales were applied.
                              {"qkv_gemm", engine.weights().linear(LinearSlot::Qkv).describe()},
                              {"prefill_attention", engine.runner().prefill_attention_description()},
                              // Steps whose attention cuDNN ran (0: every step on our kernel).
                              {"cudnn_attention_steps", engine.runner().cudnn_attention_steps()}};
    // 2:L linears that ran the dense GEMM on their pruned weight at the point's step rows (the
    // database timed it faster there than the sparse GEMM), with both tuned latencies.
    nlohmann::json fallback = nlohmann::json::object();
    for (LinearSlot slot : {LinearSlot::Qkv, LinearSlot::O, LinearSlot::GateUp, LinearSlot::Down}) {
      const W8A8Linear& l = engine.weights().linear(slot);
      if (l.runs_dense_fallback(m)) fallback[std::string(linear_slot_name(slot))] = l.describe_plan(m);
    }
    if (!fallback.empty()) {
      j["dense_fallback"] = fallback;
      std::string line;
      for (const auto& [slot, plan] : fallback.items()) line += (line.empty() ? "" : "; ") + slot + ": " + plan.get<std::string>();
      std::fprintf(stderr, "\n%s M=%lld, dense fallback on the %s weights: %s", o.stage.c_str(),
                   static_cast<long long>(m), engine.weights().description().sparsity.str().c_str(), line.c_str());
    }
    std::filesystem::create_directories(results_layout::point_json_dir(dir));
    write_file_atomic(results_layout::throughput_point_json(dir, m), j.dump(2) + "\n");
    write_throughput_csv(dir, o.stage);
    std::fprintf(stderr, "\n");
    std::printf("%s M=%lld: %.0f tok/s, %.2f req/s, %.3f s (start-up %.1f s) | %s\n", o.stage.c_str(),
                static_cast<long long>(m), pt.tokens_per_s, pt.requests_per_s, elapsed, pt.startup_s,
                engine.stats_line().c_str());
    if (o.profile) print_breakdown(engine, o.stage, plan, rng);
    if (on_point) on_point(pt);
    progress.step("M=" + std::to_string(m));
  }
  progress.finish();
  std::printf("results: %s\n", dir.c_str());
  return points;
}

}  // namespace slidesparse
