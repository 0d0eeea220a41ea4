// The inference engine: a BitNet W8A8 checkpoint on the GPU behind a continuous-batching scheduler
// and a paged KV cache (nano-vllm's shape: add requests, call step() until idle). Every request's
// tokens are drawn on the device (greedy, or seeded temperature / top-k / top-p sampling), so only
// the tokens cross to the host.
#pragma once

#include <cuda_runtime.h>

#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/stopwatch.h"
#include "sequences/block_manager.h"
#include "sequences/scheduler.h"
#include "runtime/engine_stats.h"
#include "runtime/model_runner.h"
#include "runtime/model_weights.h"
#include "tuning/tuning_db.h"

namespace slidesparse {

struct EngineOptions {
  std::filesystem::path model;
  GemmBackend backend = GemmBackend::CublasLt;
  RunnerOptions runner;  // max_model_len 0: the model's max_position_embeddings
  bool chunked_prefill = true;
  bool exact_scales = false;
  bool fp8_fast_accum = true;  // FP8 dense GEMMs: no periodic fp32 promotion (same accuracy bounds, ~10% faster)
  bool scaled_gemm = true;     // INT8 dense: the CUTLASS GEMM with both scales in its epilogue where it runs (Hopper)
  bool sparse_scaled_gemm = false;  // INT8 2:L: the CUTLASS sparse GEMM instead of cuSPARSELt (WeightLoadOptions)
  bool relu2_mul_epilogue = true;  // and relu2(gate) * up in gate_up's epilogue (WeightLoadOptions)
  bool residual_epilogue = true;   // and the residual add in o_proj's and down_proj's (WeightLoadOptions)
  // 2:L weights with a tuning database: the dense GEMM on the same pruned weight, in the dense
  // model's fused form, at the row counts where `tune` timed it faster than the sparse GEMM (those
  // linears then hold their weight twice, compressed and plain; the others only compressed), and at
  // every row count, with no compressed copy, where it was faster wherever `tune` timed both.
  bool dense_fallback = true;
  // Decode steps launched one step ahead: while step N runs, step N+1 is scheduled and launched
  // behind it, its tokens taken on the device from those step N draws, so the host's work between
  // steps (scheduling, staging, the graph launch, reading the tokens back) overlaps the GPU's.
  // Only where every running sequence samples on step N and none waits; a sequence that samples
  // its EOS token on step N has its row of step N+1 dropped. Outputs are the same either way.
  bool run_ahead = true;
  // Full blocks of computed prompt tokens stay cached under their content, and a request whose
  // prompt starts with the same tokens attaches them instead of computing them (BlockManager).
  bool prefix_caching = false;
  std::filesystem::path tuning_db;  // empty: library defaults
  int eos_token = -1;               // -1: the config's eos_token_id
};

class LlmEngine {
 public:
  explicit LlmEngine(const EngineOptions& options);
  // On weights loaded once for several engines (benchmarks that sweep M). They must have been
  // loaded, and their uploads finished, for the backend and scale options given and for at least
  // this runner's rows. cuBLASLt only in practice: reused cuSPARSELt plans faulted (docs/PERF.md).
  LlmEngine(const EngineOptions& options, std::shared_ptr<ModelWeights> weights);
  // What the constructor would load: the weight options for these engine options.
  static WeightLoadOptions weight_options(const EngineOptions& options);
  ~LlmEngine();

  const ModelConfig& config() const { return weights_->config(); }
  int max_model_len() const { return options_.runner.max_model_len; }  // resolved at construction
  double startup_seconds() const { return startup_seconds_; }
  const ModelRunner& runner() const { return *runner_; }
  const ModelWeights& weights() const { return *weights_; }
  // Profiles the following steps phase by phase (eager, no graphs, none launched ahead) until reset
  // to nullptr. Throws Error while a step is in flight (finish_step_in_flight() first).
  void set_profiler(StepProfiler* profiler);
  int num_running() const { return scheduler_->num_running(); }
  int num_waiting() const { return scheduler_->num_waiting(); }

  // Prepares (outside any timed region) what full prefill steps of prompts of this length need:
  // min(max_num_seqs, max_num_batched_tokens / prompt_len) prompts per step (ModelRunner::prepare_prefill).
  void prepare_prefill(int prompt_len);

  // Queues a request; returns its id. Throws Error for an empty prompt, token ids outside the
  // vocabulary, a prompt that cannot fit the context, or invalid sampling parameters.
  int64_t add_request(std::vector<int32_t> prompt, const SamplingParams& params);
  bool idle() const { return scheduler_->idle(); }
  // Completes one scheduler step (launching it first unless it was launched ahead by the previous
  // call, and, with run_ahead, launching the next one before waiting); returns the requests that
  // finished in it, valid until the next step() (which drops them).
  std::vector<const Sequence*> step();
  // Completes the step launched ahead, if any, without launching another; returns the requests
  // that finished in it, as step() does.
  std::vector<const Sequence*> finish_step_in_flight();
  // Drops a request, waiting or running, between steps; its KV-cache blocks are free at once.
  // False for an id that is not (or no longer) in the engine.
  bool abort_request(int64_t id);
  // Every request the engine holds (finished ones until the next step), in arrival order.
  const std::deque<std::unique_ptr<Sequence>>& requests() const { return sequences_; }
  double kv_cache_used() const;  // share of the KV-cache blocks in use, 0..1

  // fp32 logits [tokens.size(), vocab] of one causal forward of `tokens` alone (a prefill step
  // that samples every row), for perplexity. Only while idle; the tokens must fit one step
  // (--max-num-batched-tokens), the sampled rows --max-num-seqs, and the context. Throws Error.
  std::vector<float> prompt_logits(const std::vector<int32_t>& tokens);

  const EngineStats& stats() const { return stats_; }
  // "prefill 12345 tok/s | decode 6789 tok/s | running 12 waiting 3 | KV 45.6% of 1234 blocks"
  std::string stats_line() const;

 private:
  // Fills the step's arrays (rows whose token `previous` sampled take it on the device) and launches it.
  void launch(SchedulerStep step, const SchedulerStep* previous);
  bool can_run_ahead(const SchedulerStep& current) const;
  std::vector<const Sequence*> complete_in_flight(bool allow_ahead, const Stopwatch& clock);
  void drop_from_in_flight(const Sequence* seq);  // its row of the step in flight is ignored
  void drop_finished_requests();  // those step() returned last time
  void record_step(const SchedulerStep& step, double seconds);  // the step's counts into stats_

  EngineOptions options_;
  cudaStream_t stream_ = nullptr;
  TuningDatabase tuning_;
  std::shared_ptr<ModelWeights> weights_;
  std::unique_ptr<ModelRunner> runner_;
  std::unique_ptr<BlockManager> blocks_;
  std::unique_ptr<Scheduler> scheduler_;
  std::deque<std::unique_ptr<Sequence>> sequences_;
  int64_t next_id_ = 0;
  // The step launched and not yet completed; chunks of sequences dropped since have seq == nullptr.
  std::optional<SchedulerStep> in_flight_;
  StepBatch batch_;
  std::vector<int32_t> drawn_, sampled_;  // per sample row; per chunk
  EngineStats stats_;
  double startup_seconds_ = 0;
};

}  // namespace slidesparse
