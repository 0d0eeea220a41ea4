#include "cli/engine_args.h"

#include <cstdlib>

#include "checkpoint/checkpoint_kind.h"
#include "core/error.h"
#include "io/model_config.h"
#include "sequences/sampler.h"

namespace slidesparse {

double parse_double(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  require(!text.empty() && end && *end == '\0', "--" + option + " expects a number, got '" + text + "'");
  return v;
}

GemmBackend resolve_backend(const std::string& name, const std::filesystem::path& model) {
  if (name == "cublaslt") return GemmBackend::CublasLt;
  if (name == "cusparselt") return GemmBackend::CusparseLt;
  require(name == "auto", "--backend must be auto, cublaslt or cusparselt, got '" + name + "'");
  const ModelConfig config = load_model_config(model / "config.json");
  return describe_checkpoint(config, model).kind == CheckpointKind::SlideSparse ? GemmBackend::CusparseLt
                                                                                : GemmBackend::CublasLt;
}

void add_engine_options(ArgParser& p, EngineSizing sizing) {
  p.option("model", "DIR", "prepared W8A8 (cuBLASLt) or SlideSparse (cuSPARSELt) checkpoint");
  p.option("backend", "auto|cublaslt|cusparselt", "GEMM backend (auto: from the checkpoint)", "auto");
  if (sizing == EngineSizing::FromOptions) {
    p.option("max-num-seqs", "N", "sequences per step", "256");
    p.option("max-num-batched-tokens", "N", "tokens per step", "8192");
    p.option("max-model-len", "N", "prompt + generated tokens per sequence (0: the model's positions)", "0");
    p.option("num-kv-blocks", "N", "KV-cache blocks (default: as many as the memory budget allows)", "0");
    p.flag("no-chunked-prefill", "admit prompts only whole");
    p.flag("enable-prefix-caching",
           "keep the KV-cache blocks of computed prompts under their tokens, so that a prompt admitted later that "
           "starts with the same tokens (a shared system prompt, a conversation's earlier turns, the n choices of one "
           "request) reuses them instead of computing them");
  }
  p.option("block-size", "N", "KV-cache block size in tokens (multiple of 16)", "64");
  p.option("gpu-memory-utilization", "F", "share of GPU memory the engine may hold", "0.9");
  p.option("db", "FILE", "tuning database from `slidesparse tune`");
  p.flag("no-cuda-graphs", "run decode steps eagerly");
  p.flag("no-run-ahead",
         "launch each step only once the previous step's tokens are on the host (default: while a step in which "
         "every running sequence samples runs, the next decode step is scheduled and launched behind it)");
  p.flag("no-cudnn-attention",
         "prefill attention always on the built-in kernel (default: cuDNN's SDPA, where libcudnn 9.7+ loads, for steps "
         "of fresh prompts with a query of >= 256 tokens)");
  p.flag("exact-scales", "INT8: int32 accumulators + exact epilogue on both backends (bit-identical paths)");
  p.flag("fp8-precise-accum", "FP8 cuBLASLt without CUBLASLT_MATMUL_DESC_FAST_ACCUM (fast accumulation is the default)");
  p.flag("cublaslt-dense",
         "INT8 dense GEMMs on cuBLASLt also on Hopper, where the default is the CUTLASS GEMM that applies both scales "
         "in its epilogue");
  p.flag("cutlass-sparse",
         "INT8 2:L GEMMs on the CUTLASS sparse GEMM (Hopper), which applies both scales and the relu2(gate) * up and "
         "residual epilogues as the dense one does, instead of cuSPARSELt (the default; which is faster depends on the "
         "GPU: tuned, within a few percent either way at 2:4 prefill)");
  p.flag("no-mlp-epilogue",
         "INT8 dense on the CUTLASS GEMM: relu2(gate) * up in the ffn_sub norm kernel instead of the gate_up GEMM's "
         "epilogue (the default, where the GEMM writes half the values; the same bits)");
  p.flag("no-residual-epilogue",
         "INT8 dense on the CUTLASS GEMM: the residual add in the norm kernels after o_proj and down_proj instead of "
         "those GEMMs' epilogues (the default, where the norms then read one tensor; the same bits)");
  p.flag("batch-invariant",
         "INT8: every request's tokens independent of the requests it is batched with (decode attention cut at fixed "
         "key positions, prefill attention on the built-in kernel, default launch shapes, no split-K lm_head, no "
         "dense fallback); slower decode for few long sequences");
  p.flag("no-dense-fallback",
         "2:L checkpoints: always the sparse GEMM (default with --db: the dense GEMM on the same pruned weight at the "
         "row counts where the database timed it faster; the plain weight of those linears is then kept too, and "
         "their sparse one only where the sparse GEMM was faster at some row count)");
}

EngineOptions engine_options_from(const ArgParser& p) {
  require(p.has("model"), "--model DIR is required");
  EngineOptions e;
  e.model = p.get("model");
  e.backend = resolve_backend(p.get("backend"), e.model);
  if (p.declares("max-num-seqs")) {
    e.runner.max_num_seqs = static_cast<int>(p.get_int("max-num-seqs"));
    e.runner.max_num_batched_tokens = static_cast<int>(p.get_int("max-num-batched-tokens"));
    e.runner.max_model_len = static_cast<int>(p.get_int("max-model-len"));
    e.runner.num_kv_blocks = static_cast<int>(p.get_int("num-kv-blocks"));
    e.chunked_prefill = !p.has("no-chunked-prefill");
    e.prefix_caching = p.has("enable-prefix-caching");
  }
  e.runner.block_size = static_cast<int>(p.get_int("block-size"));
  e.runner.gpu_memory_utilization = parse_double("gpu-memory-utilization", p.get("gpu-memory-utilization"));
  e.runner.cuda_graphs = !p.has("no-cuda-graphs");
  e.run_ahead = !p.has("no-run-ahead");
  e.runner.cudnn_attention = !p.has("no-cudnn-attention");
  e.exact_scales = p.has("exact-scales");
  e.fp8_fast_accum = !p.has("fp8-precise-accum");
  e.scaled_gemm = !p.has("cublaslt-dense");
  e.sparse_scaled_gemm = p.has("cutlass-sparse");
  e.relu2_mul_epilogue = !p.has("no-mlp-epilogue");
  e.residual_epilogue = !p.has("no-residual-epilogue");
  e.dense_fallback = !p.has("no-dense-fallback");
  e.runner.batch_invariant = p.has("batch-invariant");
  if (p.has("db")) e.tuning_db = p.get("db");
  return e;
}

void add_sampling_options(ArgParser& p, const std::string& default_max_tokens) {
  p.option("max-tokens", "N", "tokens to generate per request", default_max_tokens);
  p.option("temperature", "F", "0 = greedy", "0");
  p.option("top-k", "N", "0 = off", "0");
  p.option("top-p", "F", "1 = off", "1");
  p.option("seed", "N", "sampling seed", "0");
  p.flag("ignore-eos", "keep generating after the end-of-sequence token");
}

SamplingParams sampling_params_from(const ArgParser& p) {
  SamplingParams params;
  params.max_tokens = static_cast<int>(p.get_int("max-tokens"));
  params.temperature = static_cast<float>(parse_double("temperature", p.get("temperature")));
  params.top_k = static_cast<int>(p.get_int("top-k"));
  params.top_p = static_cast<float>(parse_double("top-p", p.get("top-p")));
  params.seed = p.get_uint("seed");
  params.ignore_eos = p.has("ignore-eos");
  require(params.max_tokens > 0, "--max-tokens must be positive");
  check_sampling_params(params);
  return params;
}

}  // namespace slidesparse
